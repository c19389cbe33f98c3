"""The lab's etcd cluster as the consensus faults and probes see it.

Member status and IDs come from each member's JSON gateway
(``/v3/maintenance/status``, ``/v3/cluster/member/list``); state hashes come
from ``etcdctl endpoint hashkv --rev=N`` (the JSON gateway's
``/v3/maintenance/hash`` is the whole-backend Hash, not HashKV). The partition
is driven through the peer proxy's control endpoint.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import requests
from chaoslib.exceptions import ActivityFailed

from gameday.lab.config import HOST, LabConfig

REQUEST_TIMEOUT_S = 1.5
ETCDCTL_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class MemberStatus:
    """One member as it answers for itself; `reachable` False when it did not answer."""

    name: str
    endpoint: str
    reachable: bool
    member_id: str | None = None
    leader_id: str | None = None
    revision: int | None = None
    raft_term: int | None = None

    @property
    def has_leader(self) -> bool:
        return self.leader_id is not None

    @property
    def is_leader(self) -> bool:
        return self.member_id is not None and self.member_id == self.leader_id


def hex_id(decimal: str | int) -> str:
    """A member ID as etcd prints it (hex); the JSON gateway gives it as a decimal string."""
    return format(int(decimal), "x")


def member_names(lab: LabConfig) -> list[str]:
    return [f"etcd-{i}" for i in range(len(lab.ports.etcd_client))]


def _post(endpoint: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(endpoint + path, json=body, timeout=REQUEST_TIMEOUT_S)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def member_statuses(lab: LabConfig) -> list[MemberStatus]:
    """Every member's own view: its ID, the leader it follows, its revision."""
    statuses: list[MemberStatus] = []
    for name, endpoint in zip(member_names(lab), lab.etcd_endpoints, strict=True):
        try:
            answer = _post(endpoint, "/v3/maintenance/status", {})
        except (requests.RequestException, ValueError):
            statuses.append(MemberStatus(name=name, endpoint=endpoint, reachable=False))
            continue
        header = answer.get("header", {})
        leader = answer.get("leader")
        statuses.append(
            MemberStatus(
                name=name,
                endpoint=endpoint,
                reachable=True,
                member_id=hex_id(header["member_id"]) if "member_id" in header else None,
                leader_id=hex_id(leader) if leader and int(leader) != 0 else None,
                revision=int(header.get("revision", 0)),
                raft_term=int(header.get("raft_term", 0)),
            )
        )
    return statuses


def member_ids(lab: LabConfig) -> dict[str, str]:
    """Member name to ID (hex), from the member list of the first member that answers."""
    for endpoint in lab.etcd_endpoints:
        try:
            answer = _post(endpoint, "/v3/cluster/member/list", {})
        except (requests.RequestException, ValueError):
            continue
        return {m["name"]: hex_id(m["ID"]) for m in answer.get("members", []) if m.get("name")}
    raise ActivityFailed("no etcd member answers: cannot list the consensus members")


def resolve_member(lab: LabConfig, member: str) -> tuple[str, str]:
    """`leader`, `follower` or a member name (`etcd-1`) to (name, ID)."""
    ids = member_ids(lab)
    names = member_names(lab)
    if member in names:
        if member not in ids:
            raise ActivityFailed(f"member {member!r} is not in the cluster's member list")
        return member, ids[member]
    if member not in {"leader", "follower"}:
        raise ActivityFailed(
            f"unknown consensus member {member!r}: use leader, follower or one of "
            + ", ".join(names)
        )
    by_id = {member_id: name for name, member_id in ids.items()}
    leaders = {s.leader_id for s in member_statuses(lab) if s.leader_id is not None}
    if len(leaders) != 1:
        raise ActivityFailed(
            f"cannot tell the leader: the members report {len(leaders)} leaders "
            f"({', '.join(sorted(leaders)) or 'none'}); is the cluster healthy?"
        )
    leader = by_id.get(leaders.pop())
    if leader is None:
        raise ActivityFailed("the reported leader is not in the member list")
    if member == "leader":
        return leader, ids[leader]
    follower = next(name for name in names if name != leader)
    return follower, ids[follower]


def hashkv(lab: LabConfig, revision: int) -> dict[str, int | None]:
    """Each member's HashKV at `revision` (None where the member did not answer)."""
    etcdctl = shutil.which("etcdctl")
    if etcdctl is None:
        raise ActivityFailed("etcdctl not found: apt-get install -y etcd-client")
    endpoints = ",".join(f"{HOST}:{port}" for port in lab.ports.etcd_client)
    result = subprocess.run(
        [
            etcdctl,
            f"--endpoints={endpoints}",
            "--command-timeout=2s",
            "--dial-timeout=1s",
            "endpoint",
            "hashkv",
            f"--rev={revision}",
            "-w",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=ETCDCTL_TIMEOUT_S,
        check=False,
        env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"},
    )
    hashes: dict[str, int | None] = {name: None for name in member_names(lab)}
    by_endpoint = {
        f"{HOST}:{port}": name
        for name, port in zip(member_names(lab), lab.ports.etcd_client, strict=True)
    }
    try:
        rows = json.loads(result.stdout or "[]")
    except ValueError:
        rows = []
    for row in rows:
        name = by_endpoint.get(row.get("Endpoint", ""))
        if name is not None and row.get("HashKV"):
            hashes[name] = int(row["HashKV"]["hash"])
    return hashes


def read_key(endpoint: str, key: str, *, serializable: bool) -> str | None:
    """A key's value on one member (serializable: that member's own copy), None if absent."""
    body = {"key": _b64(key), "serializable": serializable}
    answer = _post(endpoint, "/v3/kv/range", body)
    kvs = answer.get("kvs") or []
    return base64.b64decode(kvs[0].get("value", "")).decode() if kvs else None


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class PeerProxyControl:
    """The peer proxy's control endpoint: isolate one member, heal, read the state."""

    def __init__(self, lab: LabConfig) -> None:
        self.url = lab.peer_proxy_url + "/partition"

    def _call(self, method: str, body: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            response = requests.request(method, self.url, json=body, timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException as exc:
            raise ActivityFailed(
                f"the lab's peer proxy at {self.url} does not answer: {exc}"
            ) from exc
        if not response.ok:
            raise ActivityFailed(f"the peer proxy refused {method}: {response.text[:200]}")
        result: dict[str, Any] = response.json()
        return result

    def isolate(self, member: str, member_id: str) -> dict[str, Any]:
        return self._call("PUT", {"member": member, "id": member_id})

    def heal(self) -> dict[str, Any]:
        return self._call("DELETE")

    def state(self) -> dict[str, Any]:
        return self._call("GET")
