"""A game day on the real lab: a failing experiment does not stop the others, JUnit shows
exactly that failure, an invalid plan injects nothing, secrets stay out of every file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import yaml
from tests.lab_runs import assert_lab_healthy

from gameday.lab.config import LabConfig
from gameday.lab.supervisor import SupervisorClient
from gameday.report.result_file import read_result
from gameday.targets import fault_ledger

REPO = Path(__file__).resolve().parents[2]
EXPERIMENTS = REPO / "experiments"
PLANTED_WEBHOOK = "https://hooks.example.invalid/T000/B000/planted-webhook-secret"
PLANTED_TOKEN = "planted-token-4f1c9e"


def gameday(lab: LabConfig, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GAMEDAY_LAB_DIR=str(lab.directory), GAMEDAY_TEST_TOKEN=PLANTED_TOKEN)
    return subprocess.run(
        [sys.executable, "-m", "gameday.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )


def _with_planted_secrets(tmp_path: Path) -> Path:
    document = yaml.safe_load((EXPERIMENTS / "pod-kill-single.yaml").read_text())
    document["configuration"]["slack_webhook"] = PLANTED_WEBHOOK
    document["secrets"] = {"pager": {"token": {"type": "env", "key": "GAMEDAY_TEST_TOKEN"}}}
    # The secret reaches a probe's arguments, and so the journal, through substitution.
    document["method"][2]["provider"]["arguments"]["alert"] = "Page-${token}"
    path = tmp_path / "single-with-secrets.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_a_failing_experiment_does_not_stop_the_game_day(lab: LabConfig, tmp_path: Path) -> None:
    single = _with_planted_secrets(tmp_path)
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        yaml.safe_dump(
            {
                "name": "failing game day",
                "target": "lab",
                "runbook": str(REPO / "src/gameday/lab/assets/runbook.md"),
                "experiments": [
                    {
                        "path": str(EXPERIMENTS / "pod-kill.yaml"),
                        "overrides": {"deadlines": {"PodDown": 2}},
                    },
                    str(single),
                ],
            }
        )
    )
    report = tmp_path / "report"
    done = gameday(lab, "run", "-q", str(plan), "--report-dir", str(report))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "game day 'failing game day': FAILED (1/2 experiments passed)" in done.stdout
    statuses = [
        read_result(report / d)["status"] for d in ("01-pod-kill", "02-single-with-secrets")
    ]
    assert statuses == ["failed", "passed"]

    root = ElementTree.parse(report / "junit.xml").getroot()
    failures = {
        (case.get("classname"), case.get("name")): case.find("failure")
        for case in root.iter("testcase")
        if case.find("failure") is not None
    }
    names = sorted(name for _, name in failures)
    assert names == [
        "PodDown (firing) delivered to oncall-pager within 2s",
        "PodDown fires within 2s",
    ]
    for failure in failures.values():
        assert failure is not None and "over the 2s budget" in (failure.get("message") or "")
    assert len(list(root.iter("testcase"))) > len(failures)

    written = [p for p in report.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"index.html", "summary.md", "junit.xml", "result.json"}
    for path in written:
        text = path.read_text(errors="replace")
        assert PLANTED_WEBHOOK not in text, path
        assert PLANTED_TOKEN not in text, path
    journal = (report / "02-single-with-secrets" / "journal.json").read_text()
    assert "***redacted***" in journal
    assert (
        SupervisorClient(lab.supervisor_url).process("gateway:gateway-2")["statename"] == "RUNNING"
    )
    assert fault_ledger(lab).entries() == []


def test_an_invalid_plan_injects_nothing(lab: LabConfig, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        yaml.safe_dump(
            {
                "name": "typo",
                "experiments": [
                    str(EXPERIMENTS / "pod-kill-single.yaml"),
                    {
                        "path": str(EXPERIMENTS / "redis-down.yaml"),
                        "overrides": {"deadlines": {"RedisDwn": 20}},
                    },
                ],
            }
        )
    )
    done = gameday(lab, "run", str(plan), "--report-dir", str(tmp_path / "report"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{plan}:experiments[1]" in done.stderr and "RedisDwn" in done.stderr
    assert not (tmp_path / "report").exists()
    assert_lab_healthy(lab)  # every part runs (opt-in ones once started), no fault left
    validated = gameday(lab, "validate", str(plan))
    assert validated.returncode == 2
    assert gameday(lab, "validate", "experiments/lab-gameday.yaml").returncode == 0
