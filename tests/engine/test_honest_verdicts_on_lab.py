"""A PASS means the fault caused it, and nothing a run starts outlives it, on the real lab:
an alert already firing is never credited to an unrelated fault, back-to-back
experiments cannot credit each other's alerts, a stop condition aborts and reverts at
once, and a run killed with SIGKILL is put right by `gameday recover`."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.lab_runs import REPO, assert_lab_healthy, result_of, run_gameday, run_until_fault

from gameday.lab.config import LabConfig
from gameday.lab.processes import alive
from gameday.lab.supervisor import SupervisorClient
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import Prometheus

LAB_ACTIONS = "gameday.chaos.lab.actions"
ALERT_PROBES = "gameday.chaos.alerts.probes"


def _activity(kind: str, name: str, module: str, func: str, **arguments: Any) -> dict[str, Any]:
    provider = {"type": "python", "module": module, "func": func, "arguments": arguments}
    return {"type": kind, "name": name, "provider": provider}


def _unrelated_fault(expect: str, *, within_s: float, **extension: Any) -> dict[str, Any]:
    """Kill one of three gateway replicas (it pages no one) and expect `expect` to fire."""
    return {
        "title": f"a replica kill is credited with {expect}",
        "description": "an unrelated fault: it cannot cause the alert",
        "method": [
            _activity("action", "kill one replica", LAB_ACTIONS, "kill_replicas", count=1),
            _activity(
                "probe",
                f"{expect} fires",
                ALERT_PROBES,
                "alert_fires",
                alert=expect,
                within_s=within_s,
                overtime_s=0,
            ),
        ],
        "rollbacks": [
            _activity("action", "restore replicas", LAB_ACTIONS, "restore_replicas"),
        ],
        "extensions": [{"name": "gameday", **extension}],
    }


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _alert_state(lab: LabConfig, alert: str) -> str | None:
    states = [
        a["state"] for a in Prometheus(lab.prometheus_url).alerts() if a["alertname"] == alert
    ]
    return "firing" if "firing" in states else (states[0] if states else None)


@pytest.fixture
def redis_stopped_by_hand(lab: LabConfig) -> Iterator[None]:
    """Redis stopped outside any run (no ledger entry), until RedisDown fires."""
    supervisor = SupervisorClient(lab.supervisor_url)
    supervisor.stop("redis:redis")
    try:
        fired = poll_until(lambda: _alert_state(lab, "RedisDown") == "firing" or None, timeout_s=30)
        assert fired.met, "RedisDown did not fire after Redis was stopped"
        yield
    finally:
        supervisor.start("redis:redis")
        poll_until(lambda: _alert_state(lab, "RedisDown") is None or None, timeout_s=30)


@pytest.mark.lab
def test_an_alert_already_firing_is_not_credited_to_an_unrelated_fault(
    lab: LabConfig, tmp_path: Path, redis_stopped_by_hand: None
) -> None:
    path = _write(
        tmp_path / "unrelated.yaml",
        _unrelated_fault("RedisDown", within_s=5, quiet_baseline=False),
    )
    completed = run_gameday(lab, "run", "-q", str(path), "--report-dir", str(tmp_path / "r"))
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "FAIL  RedisDown fires within 5s" in completed.stdout
    assert "RedisDown was already firing" in completed.stdout
    assert "cannot be attributed to it" in completed.stdout
    result = result_of(tmp_path / "r")
    assert result["status"] == "failed" and result["measurements"]["mttd_s"] == {}
    listed = [e for e in result["timeline"] if e["kind"] == "alert_active_at_fault"]
    assert any(e["data"]["alert"] == "RedisDown" for e in listed)


@pytest.mark.lab
def test_with_the_quiet_baseline_nothing_is_injected_while_the_alert_is_active(
    lab: LabConfig, tmp_path: Path, redis_stopped_by_hand: None
) -> None:
    path = _write(
        tmp_path / "noisy.yaml", _unrelated_fault("RedisDown", within_s=5, quiet_wait_s=2)
    )
    completed = run_gameday(lab, "run", "-q", str(path), "--report-dir", str(tmp_path / "r"))
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "not quiet: RedisDown (firing) still active after waiting 2s" in completed.stdout
    kinds = [e["kind"] for e in result_of(tmp_path / "r")["timeline"]]
    assert "fault_applied" not in kinds and "method_started" not in kinds


@pytest.mark.lab
def test_back_to_back_experiments_cannot_credit_each_other(lab: LabConfig, tmp_path: Path) -> None:
    unrelated = _write(tmp_path / "unrelated.yaml", _unrelated_fault("HighErrorRate", within_s=8))
    plan = _write(
        tmp_path / "plan.yaml",
        {
            "name": "back to back",
            "experiments": [str(REPO / "experiments" / "redis-down.yaml"), str(unrelated)],
        },
    )
    completed = run_gameday(
        lab, "run", "-q", str(plan), "--report-dir", str(tmp_path / "r"), timeout=300
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    statuses = json.loads((tmp_path / "r" / "plan-result.json").read_text())["experiments"]
    assert [e["status"] for e in statuses] == ["passed", "failed"]
    second = result_of(tmp_path / "r" / statuses[1]["dir"])
    [quiet, fires] = second["expectations"]
    assert quiet["passed"] and quiet["kind"] == "steady_state"
    assert not fires["passed"] and "did not fire" in fires["message"]
    assert_lab_healthy(lab)


@pytest.mark.lab
def test_a_stop_condition_aborts_and_reverts_within_2s(lab: LabConfig, tmp_path: Path) -> None:
    document = yaml.safe_load((REPO / "experiments" / "redis-down.yaml").read_text())
    extension = next(e for e in document["extensions"] if e["name"] == "gameday")
    # Trips at the first scrape after the fault, long before RedisDown (for: 5s) fires.
    extension["stop_conditions"] = [
        {"name": "no Redis outage", "query": 'redis_up{namespace="lab"}', "min": 1}
    ]
    path = _write(tmp_path / "guarded.yaml", document)
    completed = run_gameday(lab, "run", "-q", str(path), "--report-dir", str(tmp_path / "r"))
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "ABORTED" in completed.stdout
    result = result_of(tmp_path / "r")
    assert result["status"] == "aborted"
    events = result["timeline"]
    [tripped] = [e for e in events if e["kind"] == "stop_condition_tripped"]
    assert tripped["detail"].startswith("no Redis outage: value 0")
    assert tripped["data"]["value"] == 0
    reverted = next(
        e
        for e in events
        if e["kind"] == "fault_reverted" and e["elapsed_s"] >= tripped["elapsed_s"]
    )
    assert reverted["elapsed_s"] - tripped["elapsed_s"] < 2.0
    started = [e["detail"] for e in events if e["kind"] == "activity_started"]
    assert "restart redis" not in started  # the method stopped before its remediation
    assert_lab_healthy(lab)


@pytest.mark.lab
def test_after_sigkill_recover_restores_the_lab_and_marks_the_run_crashed(
    lab: LabConfig, tmp_path: Path
) -> None:
    report_dir = tmp_path / "killed"
    process, _ = run_until_fault(lab, "redis-down", report_dir)
    try:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    events = [json.loads(line) for line in (report_dir / "events.jsonl").open()]
    load_pid = next(e["data"]["pid"] for e in events if e["kind"] == "load_started")
    redis = SupervisorClient(lab.supervisor_url).process("redis:redis")
    assert redis["statename"] != "RUNNING", "the fault was undone without recover"
    gone = poll_until(lambda: (not alive(load_pid)) or None, timeout_s=10)
    assert gone.met, "Locust outlived the gameday process that started it"
    recovered = run_gameday(lab, "recover")
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert "reverted: redis stopped" in recovered.stdout
    assert f"finalised crashed run: {report_dir.resolve()}" in recovered.stdout
    assert_lab_healthy(lab)
    result = result_of(report_dir)
    assert result["status"] == "crashed"
    kinds = [e["kind"] for e in result["timeline"]]
    assert kinds[0] == "run_started" and "load_started" in kinds and "fault_applied" in kinds
    assert datetime.fromisoformat(result["ended_at"]) >= datetime.fromisoformat(
        result["started_at"]
    )
    assert (report_dir / "index.html").exists()
    again = run_gameday(lab, "recover")
    assert again.returncode == 0 and "nothing to recover" in again.stdout
