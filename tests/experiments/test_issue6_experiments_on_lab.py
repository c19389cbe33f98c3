"""Issue 6's experiments on the real lab: a consensus partition, GPU stress and RTSP camera
flaps each pass under load (alerts fire and reach the right receiver, the remediation
restores service) and each rolls back when interrupted with Ctrl-C during the fault."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from tests.lab_runs import (
    assert_lab_healthy,
    interrupt_during_fault,
    result_of,
    run_gameday,
)

from gameday.chaos.consensus.cluster import PeerProxyControl
from gameday.lab.config import LabConfig
from gameday.lab.gpu import read_stress, stress_file
from gameday.lab.supervisor import SupervisorClient
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import Prometheus

EXPERIMENTS = {
    "consensus-partition": {"ConsensusNoLeader": "oncall-pager"},
    "gpu-stress": {"GPUSaturation": "oncall-pager", "SlowInference": "team-chat"},
    "camera-rtsp-flap": {"CameraOffline": "oncall-pager", "RTSPStorm": "team-chat"},
}
CAMERAS = 4


def assert_fault_gone(lab: LabConfig) -> None:
    """The experiments' faults are undone: no partition, no GPU stress, every camera streams."""
    assert PeerProxyControl(lab).state()["isolated"] is None
    path = stress_file(lab.run)
    assert not path.exists() and read_stress(path) is None
    prometheus = Prometheus(lab.prometheus_url)
    streaming = poll_until(
        lambda: prometheus.query_value('sum(vision_camera_up{namespace="lab"})') == CAMERAS or None,
        timeout_s=20,
        interval_s=0.5,
    )
    assert streaming.met, "not every camera streams again"


def assert_fault_in_effect(lab: LabConfig, name: str) -> None:
    if name == "consensus-partition":
        assert PeerProxyControl(lab).state()["isolated"] is not None
    elif name == "gpu-stress":
        assert read_stress(stress_file(lab.run)) is not None
    else:
        states = [
            info["statename"]
            for info in SupervisorClient(lab.supervisor_url).processes()
            if info["group"] == "camera"
        ]
        assert "STOPPED" in states, states


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_issue6_experiment_passes_on_the_lab(lab: LabConfig, tmp_path: Path, name: str) -> None:
    done = run_gameday(lab, "run", "-q", f"experiments/{name}.yaml", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    result = result_of(tmp_path)
    assert result["status"] == "passed"
    assert all(e["passed"] for e in result["expectations"]), result["expectations"]
    measured = result["measurements"]
    assert sorted(measured["mttd_s"]) == sorted(EXPERIMENTS[name])
    assert sorted(measured["time_to_notify_s"]) == sorted(EXPERIMENTS[name])
    assert measured["mttr_s"] is not None
    delivered = {
        (e["alert"], e["receiver"])
        for e in result["expectations"]
        if e["kind"] == "notification_delivered"
    }
    assert delivered == set(EXPERIMENTS[name].items())
    kinds = [event["kind"] for event in result["timeline"]]
    for kind in ("steady_state_met", "fault_applied", "remediation_completed", "slo_restored"):
        assert kind in kinds, kind
    print(
        f"{name}: MTTD {measured['mttd_s']} notify {measured['time_to_notify_s']} "
        f"MTTR {measured['mttr_s']}"
    )
    assert_lab_healthy(lab)
    assert_fault_gone(lab)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_issue6_experiment_rolls_back_on_ctrl_c(lab: LabConfig, tmp_path: Path, name: str) -> None:
    result = interrupt_during_fault(
        lab, name, tmp_path, signal.SIGINT, lambda: assert_fault_in_effect(lab, name)
    )
    assert result["status"] == "interrupted"
    assert_lab_healthy(lab)
    assert_fault_gone(lab)
