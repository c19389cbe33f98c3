"""The verolux seed: Mac-Roman mojibake, severity headings with response times, linked runbooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.runbook import Runbook, parse_runbook

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
SEED = SEEDS / "verolux-runbooks-index.md"

pytestmark = pytest.mark.skipif(not SEED.is_file(), reason=f"seed runbooks not present at {SEEDS}")

CRITICAL = ["Camera Offline", "GPU Saturation", "Database Down", "Queue Backlog", "API Down"]
WARNING = ["RTSP Storm", "Storage Near Full", "Slow Inference"]


@pytest.fixture(scope="module")
def runbook() -> Runbook:
    return parse_runbook(SEED)


def test_finds_every_alert(runbook: Runbook) -> None:
    assert runbook.alert_names() == CRITICAL + WARNING


def test_severities_and_response_times(runbook: Runbook) -> None:
    for name in CRITICAL:
        alert = runbook.alert(name)
        assert alert is not None
        assert (alert.severity, alert.response_time, alert.response_time_s) == (
            "critical",
            "15-minute",
            900.0,
        )
    for name in WARNING:
        alert = runbook.alert(name)
        assert alert is not None
        assert (alert.severity, alert.response_time_s) == ("warning", 3600.0)


def test_meanings_thresholds_and_linked_procedures(runbook: Runbook) -> None:
    gpu = runbook.alert("GPU Saturation")
    assert gpu is not None
    assert gpu.meaning == "GPU utilization > 95%"
    assert gpu.threshold == "GPU utilization > 95%"
    assert gpu.procedure == "RUNBOOK_GPU_SATURATION.md"
    camera = runbook.alert("Camera Offline")
    assert camera is not None
    assert camera.meaning == "Camera disconnected or not responding"
    assert camera.threshold is None
    slow = runbook.alert("Slow Inference")
    assert slow is not None and slow.threshold == "FPS < 20 for 15+ minutes"


def test_mojibake_is_repaired(runbook: Runbook) -> None:
    titles = [p.title for p in runbook.procedures]
    assert "During an Incident" in titles
    text = repr(runbook.to_dict())
    assert "üì" not in text and "\uf8ff" not in text


def test_escalation_levels(runbook: Runbook) -> None:
    assert [(e.level, e.name, e.response_time_s, e.condition) for e in runbook.escalation] == [
        (1, "On-Call Engineer", 900.0, "All incidents"),
        (2, "Senior SRE", 1800.0, "Not resolved in 30 minutes"),
        (3, "Engineering Lead", 3600.0, "SLO breach or customer-facing"),
        (4, "CTO", 7200.0, "Major outage or security incident"),
    ]
    assert runbook.escalation[0].contact == "PagerDuty rotation"


def test_procedures_and_commands(runbook: Runbook) -> None:
    assert [(p.title, len(p.steps), len(p.commands)) for p in runbook.procedures] == [
        ("During an Incident", 7, 0),
        ("Health Checks", 0, 5),
        ("Service Restart", 0, 3),
        ("Log Inspection", 0, 3),
        ("Improvement Process", 6, 0),
    ]
    restart = runbook.procedure("Service Restart")
    assert restart is not None
    assert [c.text for c in restart.commands] == [
        "docker-compose -f docker-compose.production.yml restart backend",
        "systemctl restart verolux-backend",
        "docker-compose -f docker-compose.production.yml restart",
    ]


def test_no_slos_or_rules(runbook: Runbook) -> None:
    assert runbook.slos == []
    assert runbook.rules == []
