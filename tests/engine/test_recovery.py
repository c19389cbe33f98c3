"""What a dead run leaves, and how recovery finds and finalises it (no lab needed: the
marker, logs and PID record are files; the orphaned load is a real process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gameday.engine.recovery import (
    crashed_runs,
    finalise_crashed,
    mark_run,
    recover,
    running_runs,
    stop_orphaned_load,
)
from gameday.lab.config import LabConfig, LabPorts
from gameday.lab.processes import alive, record_pids
from gameday.record.files import EVENT_LOG_NAME, EXPECTATION_LOG_NAME
from gameday.record.ledger import FaultLedger


def _lab(tmp_path: Path) -> LabConfig:
    lab = LabConfig(directory=tmp_path / "lab", ports=LabPorts.from_base(47800))
    (lab.run / "load").mkdir(parents=True)
    (lab.directory / "config").mkdir(parents=True)
    return lab


def _dead_marker(lab: LabConfig, report_dir: Path) -> Path:
    """The marker a run that died left: its PID belongs to no live process any more."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    pid = int(child.stdout)
    marker = {
        "pid": pid,
        "ticks": 1,
        "report_dir": str(report_dir.resolve()),
        "title": "Redis down",
        "path": "e.yaml",
        "started_at": "2026-12-01T10:00:00+00:00",
    }
    path = lab.run / "runs" / f"{pid}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(marker))
    return path


def _logs(report_dir: Path) -> None:
    report_dir.mkdir(parents=True)
    events = [
        {
            "at": "2026-12-01T10:00:00+00:00",
            "elapsed_s": 0,
            "kind": "run_started",
            "detail": "Redis down",
            "data": {},
        },
        {
            "at": "2026-12-01T10:00:10+00:00",
            "elapsed_s": 10,
            "kind": "fault_applied",
            "detail": "stopped redis",
            "data": {},
        },
    ]
    expectation = {
        "name": "RedisDown fires within 15s",
        "kind": "alert_fires",
        "alert": "RedisDown",
        "receiver": None,
        "passed": True,
        "measured_s": 5.6,
        "budget_s": 15,
        "message": "RedisDown fired",
        "measure": "mttd",
    }
    (report_dir / EVENT_LOG_NAME).write_text("\n".join(json.dumps(e) for e in events) + '\n{"torn')
    (report_dir / EXPECTATION_LOG_NAME).write_text(json.dumps(expectation) + "\n")


def test_a_live_run_is_running_and_a_dead_one_crashed(tmp_path: Path) -> None:
    lab = _lab(tmp_path)
    live = mark_run(lab, report_dir=tmp_path / "r", title="live", path=Path("e.yaml"))
    dead = _dead_marker(lab, tmp_path / "d")
    assert running_runs(lab) == []  # this process's own run is not "another" run
    assert [path for path, _ in crashed_runs(lab)] == [dead]
    assert live.exists()


def test_a_crashed_run_is_finalised_from_its_logs(tmp_path: Path) -> None:
    lab = _lab(tmp_path)
    report_dir = tmp_path / "reports" / "redis-down"
    _logs(report_dir)
    _dead_marker(lab, report_dir)
    [(_, marker)] = crashed_runs(lab)
    result = finalise_crashed(marker, prometheus_url=None)
    assert result is not None and result["status"] == "crashed"
    assert [e["kind"] for e in result["timeline"]] == ["run_started", "fault_applied"]
    assert result["measurements"]["mttd_s"] == {"RedisDown": 5.6}
    assert result["ended_at"] == "2026-12-01T10:00:10+00:00"
    written = json.loads((report_dir / "result.json").read_text())
    assert written["status"] == "crashed" and written["experiment"]["title"] == "Redis down"
    assert finalise_crashed(marker, prometheus_url=None) is None  # once


def test_a_crashed_run_on_a_compressed_lab_keeps_its_production_estimate(
    tmp_path: Path,
) -> None:
    lab = _lab(tmp_path)
    report_dir = tmp_path / "reports" / "redis-down"
    _logs(report_dir)
    _dead_marker(lab, report_dir)
    [(_, marker)] = crashed_runs(lab)
    result = finalise_crashed(marker, prometheus_url=None, time_scale=60)
    assert result is not None
    assert result["measurements"]["time_scale"] == 60.0
    assert result["measurements"]["production_estimate_s"]["mttd_s"] == {"RedisDown": 336.0}


def test_recover_stops_orphaned_load_reverts_and_forgets_the_marker(tmp_path: Path) -> None:
    lab = _lab(tmp_path)
    report_dir = tmp_path / "reports" / "x"
    _logs(report_dir)
    marker = _dead_marker(lab, report_dir)
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record_pids(lab.load_pids_file, {"locust": orphan.pid})
        ledger = FaultLedger(lab.run / "faults.json")
        ledger.add("nothing to undo", {"module": "os", "func": "getpid", "arguments": {}})
        found = recover(lab, ledger)
        orphan.wait(timeout=15)
    finally:
        if orphan.poll() is None:
            orphan.kill()
    assert found.load_stopped == [orphan.pid] and not alive(orphan.pid)
    assert found.reverted == ["nothing to undo"] and ledger.entries() == []
    assert found.finalised == [str(report_dir.resolve())]
    assert not marker.exists() and crashed_runs(lab) == []
    assert stop_orphaned_load(lab) == []
