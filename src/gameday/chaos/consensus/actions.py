"""Consensus faults on the lab's 3-member etcd cluster: partition one member, heal.

The partition needs no root: every peer connection passes through the lab's
peer proxy, which refuses and aborts every connection to and from the isolated
member (it reads the sending member's ID from each peer request). The isolated
member loses its leader within about a second and a half; if it was the
leader, the other two elect a new one. `heal_partition` ends it; the fault
ledger holds that revert from before the partition starts.

`write_config_keys` writes configuration through the gateway (e.g. during the
partition) and records every acknowledged write, so that
`gameday.chaos.consensus.probes.acknowledged_writes_readable` can prove after
healing that none was lost.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import requests
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.consensus import writes
from gameday.chaos.consensus.cluster import PeerProxyControl, resolve_member
from gameday.chaos.revert import lab_and_ledger, revert_for
from gameday.context import run_context

__all__ = ["heal_partition", "partition_member", "write_config_keys"]
logger = logging.getLogger("gameday.chaos.consensus.actions")
MODULE = __name__
WRITE_TIMEOUT_S = 3.0


def partition_member(
    member: str = "leader", configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Isolate one etcd member from the other two (a network partition), until healed.

    `member` is `leader` (the current leader: the majority must elect a new
    one), `follower` (a member that is not the leader: the cluster keeps its
    leader) or a member name, `etcd-0`, `etcd-1` or `etcd-2`.

    Every peer connection to and from that member is refused and the open ones
    are aborted; client requests still reach it, and writes through it fail
    (no quorum). `heal_partition` (or the rollback) ends the partition.

    Returns the isolated member's name and ID, and how many open peer
    connections were aborted.
    """
    lab, ledger = lab_and_ledger(configuration)
    name, member_id = resolve_member(lab, member)
    proxy = PeerProxyControl(lab)
    revert = revert_for(MODULE, "heal_partition", configuration)
    with ledger.applying(f"consensus member {name} partitioned", revert):
        state = proxy.isolate(name, member_id)
    detail = f"partitioned {name} ({member}, ID {member_id}) from the other members"
    run_context(configuration).record(
        "fault_applied", detail, fault="partition_member", member=name, member_id=member_id
    )
    logger.info(detail)
    return {
        "member": name,
        "member_id": member_id,
        "chosen_as": member,
        "aborted_connections": int(state.get("aborted", 0)),
    }


def heal_partition(configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """End a consensus partition: every member reaches every other again (idempotent).

    The isolated member rejoins and catches up (with `--pre-vote`, without
    disturbing the leader); check it with
    `gameday.chaos.consensus.probes.members_agree`.
    """
    lab, ledger = lab_and_ledger(configuration)
    before = PeerProxyControl(lab).state().get("isolated")
    PeerProxyControl(lab).heal()
    ledger.clear_matching(revert_for(MODULE, "heal_partition", configuration))
    detail = f"healed the partition of {before}" if before else "no partition to heal"
    run_context(configuration).record(
        "fault_reverted", detail, fault="partition_member", member=before
    )
    logger.info(detail)
    return {"healed": before}


def write_config_keys(
    count: int = 20,
    prefix: str = "gameday",
    during_s: float = 0.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Write `count` configuration keys through the gateway, spread over `during_s` seconds.

    Each write is `PUT /api/config/<prefix>-<n>` with a unique value. Every
    write the gateway acknowledges (HTTP 200 with a revision) is recorded in
    the lab's data directory; `acknowledged_writes_readable` later reads each
    one back. Failed writes are expected during a partition and are counted,
    not raised. Fails only when the gateway cannot be reached at all.

    Returns the number of acknowledged and failed writes.
    """
    if count < 1:
        raise ActivityFailed(f"count is {count}: write at least one key")
    lab, _ = lab_and_ledger(configuration)
    record = writes.record_file(lab)
    run = uuid.uuid4().hex[:8]
    interval = max(during_s, 0.0) / count
    acknowledged = 0
    failures: list[str] = []
    started = time.monotonic()
    with requests.Session() as session:
        for n in range(count):
            wait = started + n * interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            key = f"{prefix}-{n}"
            value = f"{run}-{n}"
            try:
                response = session.put(
                    f"{lab.gateway_url}/api/config/{key}", data=value, timeout=WRITE_TIMEOUT_S
                )
            except requests.RequestException as exc:
                failures.append(f"{key}: {type(exc).__name__}")
                continue
            if response.status_code != 200:
                failures.append(f"{key}: HTTP {response.status_code}")
                continue
            revision = int(response.json().get("revision", 0))
            writes.append(
                record,
                writes.AcknowledgedWrite(
                    key=key, value=value, revision=revision, at=datetime.now(UTC).isoformat()
                ),
            )
            acknowledged += 1
    if acknowledged == 0 and len(failures) == count and all("Error" in f for f in failures):
        raise ActivityFailed(f"the gateway at {lab.gateway_url} could not be reached")
    logger.info("config writes: %d acknowledged, %d failed", acknowledged, len(failures))
    return {
        "acknowledged": acknowledged,
        "failed": len(failures),
        "failures": failures[:10],
        "record": str(record),
    }
