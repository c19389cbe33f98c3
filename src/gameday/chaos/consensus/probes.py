"""Consensus probes: do the members agree, and was any acknowledged write lost?

Each probe polls until its condition holds or its deadline passes, returns
what it found, and raises `ActivityFailed` with the details when the
condition does not hold in time.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.consensus import writes
from gameday.chaos.consensus.cluster import hashkv, member_statuses, read_key
from gameday.chaos.revert import lab_and_ledger
from gameday.context import run_context
from gameday.lab.config import LabConfig
from gameday.observe.polling import poll_until

__all__ = ["acknowledged_writes_readable", "cluster_status", "members_agree"]
logger = logging.getLogger("gameday.chaos.consensus.probes")
READ_TIMEOUT_S = 2.0


def cluster_status(
    configuration: Configuration = None, secrets: Secrets = None
) -> list[dict[str, Any]]:
    """Each etcd member's own view: reachable, its ID, the leader it follows, its revision."""
    lab, _ = lab_and_ledger(configuration)
    return [
        {
            "member": s.name,
            "reachable": s.reachable,
            "member_id": s.member_id,
            "leader_id": s.leader_id,
            "is_leader": s.is_leader,
            "revision": s.revision,
        }
        for s in member_statuses(lab)
    ]


def _agreement(lab: LabConfig) -> dict[str, Any]:
    statuses = member_statuses(lab)
    found: dict[str, Any] = {"members": {s.name: s.revision for s in statuses}}
    if not all(s.reachable for s in statuses):
        found["agree"] = False
        found["reason"] = "unreachable: " + ", ".join(s.name for s in statuses if not s.reachable)
        return found
    leaders = {s.leader_id for s in statuses}
    if None in leaders or len(leaders) != 1:
        found["agree"] = False
        found["reason"] = f"members follow different leaders: {sorted(map(str, leaders))}"
        return found
    revisions = {s.revision for s in statuses}
    if len(revisions) != 1:
        found["agree"] = False
        found["reason"] = f"members are at different revisions: {sorted(map(str, revisions))}"
        return found
    revision = revisions.pop()
    assert revision is not None
    hashes = hashkv(lab, revision)
    found.update(revision=revision, hashes=hashes)
    if None in hashes.values() or len(set(hashes.values())) != 1:
        found["agree"] = False
        found["reason"] = f"HashKV at revision {revision} differs: {hashes}"
        return found
    found["agree"] = True
    found["leader_id"] = next(iter(leaders))
    return found


def members_agree(
    timeout_s: float = 30.0, configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """All etcd members agree: one leader, the same revision, the same HashKV at it.

    Polls until they agree, for at most `timeout_s` seconds from this probe's
    start (not a deadline from the fault: use it after
    `heal_partition`: the isolated member must catch up). Returns the revision,
    the hashes and how long agreement took; fails with the last disagreement.
    """
    lab, _ = lab_and_ledger(configuration)
    context = run_context(configuration)
    last: dict[str, Any] = {}

    def agreed() -> dict[str, Any] | None:
        nonlocal last
        last = _agreement(lab)
        return last if last["agree"] else None

    polled = poll_until(
        agreed,
        timeout_s=timeout_s,
        interval_s=0.25,
        on_wait=lambda left: context.waiting("consensus members to agree", left),
    )
    if polled.value is None:
        raise ActivityFailed(
            f"consensus members do not agree after {timeout_s:.0f}s: {last.get('reason')}"
        )
    result = {**polled.value, "seconds": round(polled.elapsed_s, 2)}
    logger.info("members agree at revision %s after %.1fs", result["revision"], polled.elapsed_s)
    return result


def _unreadable(lab: LabConfig, expected: dict[str, writes.AcknowledgedWrite]) -> list[str]:
    problems: list[str] = []
    names = [f"etcd-{i}" for i in range(len(lab.etcd_endpoints))]
    for key, write in sorted(expected.items()):
        try:
            response = requests.get(f"{lab.gateway_url}/api/config/{key}", timeout=READ_TIMEOUT_S)
            value = response.json().get("value") if response.status_code == 200 else None
        except (requests.RequestException, ValueError):
            value = None
        if value != write["value"]:
            problems.append(f"{key}: gateway reads {value!r}, acknowledged {write['value']!r}")
        for name, endpoint in zip(names, lab.etcd_endpoints, strict=True):
            try:
                stored = read_key(endpoint, f"/config/{key}", serializable=True)
            except (requests.RequestException, ValueError):
                stored = None
            if stored != write["value"]:
                problems.append(f"{key}: {name} holds {stored!r}")
    return problems


def acknowledged_writes_readable(
    prefix: str | None = None,
    timeout_s: float = 10.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Every configuration write the gateway acknowledged is readable, on every member.

    Reads back each key recorded by `write_config_keys` (only those starting
    with `prefix`, when given): through the gateway, and from each etcd
    member's own copy (a serializable read), expecting the last acknowledged
    value. Polls for up to `timeout_s` seconds from this probe's start (a member
    that just rejoined catches up). Fails listing the writes that were lost or differ.
    """
    lab, _ = lab_and_ledger(configuration)
    expected = writes.latest_per_key(writes.record_file(lab), prefix)
    if not expected:
        raise ActivityFailed(
            "no acknowledged configuration writes are recorded"
            + (f" for prefix {prefix!r}" if prefix else "")
            + ": run write_config_keys first"
        )
    last: list[str] = []

    def readable() -> bool | None:
        nonlocal last
        last = _unreadable(lab, expected)
        return True if not last else None

    polled = poll_until(readable, timeout_s=timeout_s, interval_s=0.5)
    if not polled.met:
        raise ActivityFailed(
            f"{len(last)} problems reading back {len(expected)} acknowledged writes: "
            + "; ".join(last[:10])
        )
    return {"checked": len(expected), "seconds": round(polled.elapsed_s, 2)}
