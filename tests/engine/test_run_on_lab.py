"""`gameday run` on the real lab: the shipped experiments pass, wrong expectations fail
with exit 1 and say by how much, MTTD agrees with Prometheus, interrupts roll back."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.lab_runs import (
    REPO,
    assert_lab_healthy,
    gameday_env,
    interrupt_during_fault,
    result_of,
    run_gameday,
)

from gameday.lab.config import LabConfig
from gameday.lab.supervisor import SupervisorClient
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import Prometheus

EXPERIMENTS = REPO / "experiments"
RULE_FOR_S = {"RedisDown": 5.0, "HighErrorRate": 5.0, "PodDown": 5.0}
EVALUATION_INTERVAL_S = 1.0
PROBE_POLL_S = 0.2


@pytest.mark.parametrize(
    ("name", "alerts"),
    [
        ("redis-down", ["RedisDown", "HighErrorRate"]),
        ("pod-kill", ["PodDown"]),
        ("pod-kill-single", []),
    ],
)
def test_shipped_experiment_passes(
    lab: LabConfig, tmp_path: Path, name: str, alerts: list[str]
) -> None:
    done = run_gameday(lab, "run", f"experiments/{name}.yaml", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    result = result_of(tmp_path)
    assert result["status"] == "passed"
    assert all(e["passed"] for e in result["expectations"])
    assert sorted(result["measurements"]["mttd_s"]) == sorted(alerts)
    assert sorted(result["measurements"]["time_to_notify_s"]) == sorted(alerts)
    kinds = [event["kind"] for event in result["timeline"]]
    for kind in ("load_started", "steady_state_met", "fault_applied", "rollbacks_completed"):
        assert kind in kinds
    assert kinds.index("load_stopped") > kinds.index("rollbacks_completed")
    assert result["load"]["requests"] > 100
    assert (tmp_path / "journal.json").is_file()
    assert "verdict: PASSED" in done.stdout
    if alerts:
        assert result["measurements"]["mttr_s"] is not None
        assert "notified" in kinds and "alert_firing" in kinds
    else:
        paged = [
            e
            for e in result["timeline"]
            if e["kind"] == "notified" and e["data"]["receiver"] == "oncall-pager"
        ]
        assert paged == []
    assert_lab_healthy(lab)


def test_mttd_agrees_with_prometheus_active_at_and_for(lab: LabConfig, tmp_path: Path) -> None:
    done = run_gameday(
        lab, "run", "-q", "experiments/redis-down.yaml", "--report-dir", str(tmp_path)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = result_of(tmp_path)
    journal = json.loads((tmp_path / "journal.json").read_text())
    fault = datetime.fromisoformat(
        next(e["at"] for e in result["timeline"] if e["kind"] == "fault_applied")
    )
    for run in journal["run"]:
        if run["activity"]["provider"].get("func") != "alert_fires":
            continue
        output = run["output"]
        alert = output["alert"]
        active_at = datetime.fromisoformat(output["active_at"].replace("Z", "+00:00"))
        expected = (active_at - fault).total_seconds() + RULE_FOR_S[alert]
        measured = result["measurements"]["mttd_s"][alert]
        # Prometheus fires at the first evaluation at or after activeAt + for; gameday sees
        # it at its next poll.
        assert -0.1 <= measured - expected <= EVALUATION_INTERVAL_S + PROBE_POLL_S, (
            alert,
            measured,
            expected,
        )


def _experiment_with(tmp_path: Path, edit: Any) -> Path:
    document = yaml.safe_load((EXPERIMENTS / "redis-down.yaml").read_text())
    edit(document)
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_wrong_expectations_fail_with_exit_1_and_say_by_how_much(
    lab: LabConfig, tmp_path: Path
) -> None:
    def edit(document: dict[str, Any]) -> None:
        method = document["method"]
        method[1]["provider"]["arguments"]["within_s"] = 2  # RedisDown has for: 5s
        impossible = {
            "type": "probe",
            "name": "an alert that cannot fire",
            "provider": {
                "type": "python",
                "module": "gameday.chaos.alerts.probes",
                "func": "alert_fires",
                "arguments": {"alert": "NoSuchAlert", "within_s": 1, "overtime_s": 0},
            },
        }
        document["method"] = [method[0], method[1], impossible, *method[5:]]

    path = _experiment_with(tmp_path, edit)
    report = tmp_path / "report"
    done = run_gameday(lab, "run", "-q", str(path), "--report-dir", str(report))
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "FAIL  RedisDown fires within 2s" in out
    assert "s over the 2s budget" in out
    assert "FAIL  NoSuchAlert fires within 1s" in out
    assert "NoSuchAlert did not fire within 1s of the fault" in out
    assert "verdict: FAILED" in out
    result = result_of(report)
    late = next(e for e in result["expectations"] if e["alert"] == "RedisDown")
    assert late["measured_s"] > late["budget_s"] == 2
    assert_lab_healthy(lab)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_during_the_fault_window_rolls_back(
    lab: LabConfig, tmp_path: Path, signum: signal.Signals
) -> None:
    def redis_is_down() -> None:
        supervisor = SupervisorClient(lab.supervisor_url)
        assert supervisor.process("redis:redis")["statename"] == "STOPPED"

    result = interrupt_during_fault(lab, "redis-down", tmp_path, signum, redis_is_down)
    assert result["status"] == "interrupted"
    assert_lab_healthy(lab)


def test_manual_remediation_waits_for_people_and_measures_them(
    lab: LabConfig, tmp_path: Path
) -> None:
    supervisor = SupervisorClient(lab.supervisor_url)
    prometheus = Prometheus(lab.prometheus_url)

    def person_following_the_runbook() -> None:
        # Waits for the page, then restarts Redis by hand, as the runbook says.
        paged = poll_until(
            lambda: next(
                (
                    a
                    for a in prometheus.alerts()
                    if a["alertname"] == "HighErrorRate" and a["state"] == "firing"
                ),
                None,
            ),
            timeout_s=90,
        )
        if paged.met:
            time.sleep(2)
            supervisor.start("redis:redis")

    person = threading.Thread(target=person_following_the_runbook, daemon=True)
    person.start()
    done = run_gameday(
        lab,
        "run",
        "experiments/redis-down.yaml",
        "--manual",
        "--manual-timeout",
        "90",
        "--report-dir",
        str(tmp_path),
    )
    person.join(timeout=5)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "waiting for people to remediate" in done.stderr
    result = result_of(tmp_path)
    assert result["manual"] is True
    restored = next(e for e in result["expectations"] if e["kind"] == "slo_restored")
    assert restored["passed"] and restored["measured_s"] >= 2
    assert result["measurements"]["mttr_s"] > result["measurements"]["mttd_s"]["RedisDown"]
    assert_lab_healthy(lab)


def test_plain_chaos_run_uses_the_extension(lab: LabConfig, tmp_path: Path) -> None:
    chaos = Path(sys.executable).with_name("chaos")
    journal = tmp_path / "journal.json"
    done = subprocess.run(
        [
            str(chaos),
            "--no-version-check",
            "--log-file",
            str(tmp_path / "chaostoolkit.log"),
            "run",
            "--rollback-strategy",
            "always",
            "--journal-path",
            str(journal),
            "experiments/redis-down.yaml",
        ],
        cwd=REPO,
        env=gameday_env(lab),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(journal.read_text())
    assert document["status"] == "completed" and not document["deviated"]
    statuses = {run["activity"]["name"]: run["status"] for run in document["run"]}
    assert statuses["RedisDown fires"] == "succeeded"
    assert statuses["SLOs restored"] == "succeeded"
    assert_lab_healthy(lab)


def test_an_invalid_experiment_injects_nothing(lab: LabConfig, tmp_path: Path) -> None:
    path = _experiment_with(
        tmp_path, lambda d: d["method"][0]["provider"].update({"func": "stop_servic"})
    )
    deliveries = lab.notifications_file.read_text() if lab.notifications_file.exists() else ""
    done = run_gameday(lab, "run", str(path), "--report-dir", str(tmp_path / "r"))
    assert done.returncode == 2
    assert f"{path}:method[0] (stop redis)" in done.stderr
    assert not (tmp_path / "r").exists()
    assert_lab_healthy(lab)
    validated = run_gameday(lab, "validate", str(path))
    assert validated.returncode == 2 and "stop_servic" in validated.stderr
    assert run_gameday(lab, "validate", "experiments/redis-down.yaml").returncode == 0
    now = lab.notifications_file.read_text() if lab.notifications_file.exists() else ""
    assert "RedisDown" not in now[len(deliveries) :]
