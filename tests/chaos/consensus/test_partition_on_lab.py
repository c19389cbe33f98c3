"""A consensus partition on the real lab: the isolated member loses its leader, the alert
fires, acknowledged writes survive, and after healing every member agrees."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from gameday.chaos.consensus import actions, probes
from gameday.lab.config import LabConfig
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import ActiveAlert, Prometheus
from gameday.targets import fault_ledger


def _config(lab: LabConfig) -> dict[str, str]:
    return {"gameday_lab_dir": str(lab.directory)}


def _has_leader(lab: LabConfig, member: str) -> float | None:
    port = lab.ports.etcd_client[int(member.rsplit("-", 1)[1])]
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    line = next(x for x in text.splitlines() if x.startswith("etcd_server_has_leader "))
    return float(line.split()[1])


def _firing(lab: LabConfig, name: str, **labels: str) -> ActiveAlert | None:
    for alert in Prometheus(lab.prometheus_url).alerts():
        if (
            alert["alertname"] == name
            and alert["state"] == "firing"
            and all(alert["labels"].get(k) == v for k, v in labels.items())
        ):
            return alert
    return None


@pytest.fixture
def consensus(lab: LabConfig) -> Iterator[dict[str, str]]:
    """The lab's configuration; the partition is healed and agreement awaited afterwards."""
    configuration = _config(lab)
    try:
        yield configuration
    finally:
        actions.heal_partition(configuration=configuration)
        probes.members_agree(timeout_s=30, configuration=configuration)


def test_a_partitioned_follower_loses_its_leader_and_rejoins(
    lab: LabConfig, consensus: dict[str, str]
) -> None:
    started = time.monotonic()
    applied = actions.partition_member(member="follower", configuration=consensus)
    member = applied["member"]
    entries = fault_ledger(lab).entries()
    assert [e["revert"]["func"] for e in entries] == ["heal_partition"]

    lost = poll_until(
        lambda: True if _has_leader(lab, member) == 0 else None, timeout_s=10, interval_s=0.1
    )
    assert lost.met, f"{member} kept its leader while partitioned"
    print(f"\n{member}: has_leader=0 after {time.monotonic() - started:.1f}s")

    written = actions.write_config_keys(
        count=6, prefix="partition-test", during_s=1.0, configuration=consensus
    )
    assert written["acknowledged"] >= 1  # the majority keeps accepting writes

    fired = poll_until(
        lambda: _firing(lab, "ConsensusNoLeader", member=member), timeout_s=20, interval_s=0.5
    )
    assert fired.met, "ConsensusNoLeader did not fire for the isolated member"
    print(f"ConsensusNoLeader firing after {time.monotonic() - started:.1f}s")

    healed_at = time.monotonic()
    assert actions.heal_partition(configuration=consensus)["healed"] == member
    assert fault_ledger(lab).entries() == []
    agreed = probes.members_agree(timeout_s=30, configuration=consensus)
    print(f"members agree {time.monotonic() - healed_at:.1f}s after healing: {agreed}")
    assert len(set(agreed["hashes"].values())) == 1
    assert (
        probes.acknowledged_writes_readable(prefix="partition-test", configuration=consensus)[
            "checked"
        ]
        == written["acknowledged"]
    )


def test_a_partitioned_leader_is_replaced_by_the_majority(
    lab: LabConfig, consensus: dict[str, str]
) -> None:
    before = {s["member"]: s for s in probes.cluster_status(configuration=consensus)}
    applied = actions.partition_member(member="leader", configuration=consensus)
    old = applied["member"]
    assert before[old]["is_leader"]

    def new_leader() -> str | None:
        statuses = probes.cluster_status(configuration=consensus)
        leaders = {s["member"] for s in statuses if s["is_leader"] and s["member"] != old}
        return leaders.pop() if leaders else None

    elected = poll_until(new_leader, timeout_s=15, interval_s=0.2)
    assert elected.met, "the majority did not elect a new leader"
    print(f"\nnew leader {elected.value} after {elected.elapsed_s:.1f}s")
    actions.heal_partition(configuration=consensus)
    agreed = probes.members_agree(timeout_s=30, configuration=consensus)
    assert agreed["agree"]


def test_a_bad_member_name_is_refused_before_anything_is_injected(
    lab: LabConfig, consensus: dict[str, str]
) -> None:
    from chaoslib.exceptions import ActivityFailed

    with pytest.raises(ActivityFailed, match="etcd-0"):
        actions.partition_member(member="etcd-9", configuration=consensus)
    assert fault_ledger(lab).entries() == []
