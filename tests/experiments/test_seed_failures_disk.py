"""The disk-fill seed failure on the real lab: the disk part (a tmpfs watched by node
exporter, or its labelled simulation) filled to 95 % under load raises HighDiskUsage
and StorageNearFull to team chat and freeing the space brings usage back under 85 %;
with a wrong threshold the run fails naming the alert; Ctrl-C during the fill frees it."""

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
from gameday.lab.extras import disk
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import Prometheus

pytestmark = pytest.mark.seed_failures

EXPERIMENT = "seed-failures/disk-fill"
ALERTS = {"HighDiskUsage": "team-chat", "StorageNearFull": "team-chat"}
USAGE = (
    '1 - node_filesystem_avail_bytes{namespace="lab",volume="lab-data"}'
    ' / node_filesystem_size_bytes{namespace="lab",volume="lab-data"}'
)
# A run whose alert never fires waits out its deadline and overtime on each probe.
SLOW_RUN_S = 480


def _state(lab: LabConfig) -> disk.DiskState:
    state = disk.read_state(lab)
    assert state is not None, "the disk part is not prepared"
    return state


def assert_fault_gone(lab: LabConfig) -> None:
    """No fill file; the disk under 85 % on the machine and in Prometheus."""
    state = _state(lab)
    assert not state.fill_path.exists()
    assert disk.usage(state).used_fraction < 0.85
    prometheus = Prometheus(lab.prometheus_url)
    low = poll_until(
        lambda: ((v := prometheus.query_value(USAGE)) is not None and v < 0.85) or None,
        timeout_s=20,
        interval_s=0.5,
    )
    assert low.met, "Prometheus still sees the lab disk full"


def assert_fault_in_effect(lab: LabConfig) -> None:
    state = _state(lab)
    assert state.fill_path.exists()
    assert disk.usage(state).used_fraction >= 0.95


def assert_only_the_lab_mount_is_kept(lab: LabConfig) -> None:
    prometheus = Prometheus(lab.prometheus_url)
    match = {"match[]": 'node_filesystem_size_bytes{job="disk"}'}
    series = prometheus.get("/api/v1/series", **match).json()["data"]
    assert [s["mountpoint"] for s in series] == [str(disk.disk_dir(lab))], series
    assert all(s["volume"] == "lab-data" and s["device"] == "lab-disk" for s in series)


def test_disk_fill_passes_on_the_lab(lab: LabConfig, tmp_path: Path) -> None:
    path = f"experiments/{EXPERIMENT}.yaml"
    result = assert_experiment_passes(lab, path, tmp_path, ALERTS, timeout=SLOW_RUN_S)
    assert "slo_restored" in [event["kind"] for event in result["timeline"]]
    print(f"disk-fill ({_state(lab).mode}): {result['measurements']}")
    assert_fault_gone(lab)
    assert_only_the_lab_mount_is_kept(lab)


def test_disk_fill_fails_naming_the_alert_when_its_rule_cannot_fire(
    lab: LabConfig, tmp_path: Path
) -> None:
    path = f"experiments/{EXPERIMENT}.yaml"
    broken = ("HighDiskUsage", "< 0.1", "< -1")
    result = assert_fails_naming_the_alert(lab, path, tmp_path, broken, timeout=SLOW_RUN_S)
    failed = [e for e in result["expectations"] if not e["passed"]]
    # Only that alert fails (and the MTTR, when its probes' overtime delays the remediation).
    assert {e["alert"] for e in failed} <= {"HighDiskUsage", None}, failed
    assert all(e["alert"] or e["kind"] == "slo_restored" for e in failed), failed
    passed = {(e["kind"], e["alert"]) for e in result["expectations"] if e["passed"]}
    assert ("alert_fires", "StorageNearFull") in passed
    assert ("notification_delivered", "StorageNearFull") in passed
    assert_fault_gone(lab)


def test_disk_fill_frees_the_disk_on_ctrl_c(lab: LabConfig, tmp_path: Path) -> None:
    result = interrupt_during_fault(
        lab, EXPERIMENT, tmp_path, signal.SIGINT, lambda: assert_fault_in_effect(lab)
    )
    assert result["status"] == "interrupted"
    assert_lab_healthy(lab)
    assert_fault_gone(lab)
