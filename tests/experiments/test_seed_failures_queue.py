"""The queue part's experiments on the real lab: a paused consumer (QueueBacklog) and the
NATS broker down (NatsDown, QueuePublishFailures) each pass under load, each fails
naming its alert when the alert's rule cannot fire, and each rolls back when
interrupted with Ctrl-C during the fault. The lab-parts control starts the part."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from tests.lab_runs import (
    assert_experiment_passes,
    assert_fails_naming_the_alert,
    assert_lab_healthy,
    interrupt_during_fault,
)

from gameday.lab.config import LabConfig
from gameday.lab.replica_state import is_paused
from gameday.lab.supervisor import ProcessInfo, SupervisorClient
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import Prometheus

pytestmark = pytest.mark.seed_failures

EXPERIMENTS = {
    "queue-backlog": {"QueueBacklog": "team-chat"},
    "queue-broker-down": {"NatsDown": "oncall-pager", "QueuePublishFailures": "team-chat"},
}
# The alert each experiment pages with, and a change to its rule that keeps it silent.
BROKEN = {
    "queue-backlog": ("QueueBacklog", ") > 100", ") > 1000000"),
    "queue-broker-down": ("NatsDown", "== 0", "== 2"),
}
GROUPS = ("nats", "queue-exporter", "queue-producer", "queue-consumer")
BACKLOG = (
    'max(jetstream_consumer_num_pending{namespace="lab"}'
    ' + jetstream_consumer_num_ack_pending{namespace="lab"})'
)


def path_of(name: str) -> str:
    return f"experiments/seed-failures/{name}.yaml"


def queue_processes(lab: LabConfig) -> dict[str, ProcessInfo]:
    return {
        info["group"]: info
        for info in SupervisorClient(lab.supervisor_url).processes()
        if info["group"] in GROUPS
    }


def assert_fault_gone(lab: LabConfig) -> None:
    """Every queue process runs unpaused, the broker answers and the backlog is drained."""
    processes = queue_processes(lab)
    assert {group: info["statename"] for group, info in processes.items()} == dict.fromkeys(
        GROUPS, "RUNNING"
    )
    assert not any(is_paused(info["pid"]) for info in processes.values())
    prometheus = Prometheus(lab.prometheus_url)
    drained = poll_until(
        lambda: (
            (
                prometheus.query_value('min(nats_up{namespace="lab"})') == 1
                and (prometheus.query_value(BACKLOG) or 0) <= 50
            )
            or None
        ),
        timeout_s=60,
        interval_s=0.5,
    )
    assert drained.met, "the broker does not answer or the backlog does not drain"


def assert_fault_in_effect(lab: LabConfig, name: str) -> None:
    processes = queue_processes(lab)
    if name == "queue-backlog":
        assert is_paused(processes["queue-consumer"]["pid"]), processes["queue-consumer"]
    else:
        assert processes["nats"]["statename"] == "STOPPED", processes["nats"]


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_queue_experiment_passes_on_the_lab(lab: LabConfig, tmp_path: Path, name: str) -> None:
    result = assert_experiment_passes(lab, path_of(name), tmp_path, EXPERIMENTS[name])
    assert "slo_restored" in [event["kind"] for event in result["timeline"]]
    assert_fault_gone(lab)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_queue_experiment_fails_naming_its_alert_when_the_rule_cannot_fire(
    lab: LabConfig, tmp_path: Path, name: str
) -> None:
    result = assert_fails_naming_the_alert(lab, path_of(name), tmp_path, BROKEN[name])
    fires = next(e for e in result["expectations"] if e["alert"] == BROKEN[name][0])
    assert "never pending" in fires["message"], fires["message"]
    assert_fault_gone(lab)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_queue_experiment_rolls_back_on_ctrl_c(lab: LabConfig, tmp_path: Path, name: str) -> None:
    result = interrupt_during_fault(
        lab,
        f"seed-failures/{name}",
        tmp_path,
        signal.SIGINT,
        lambda: assert_fault_in_effect(lab, name),
    )
    assert result["status"] == "interrupted"
    assert_lab_healthy(lab)
    assert_fault_gone(lab)
