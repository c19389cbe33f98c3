"""The holograph seed: bullet-list alerts, services, dashboards, numbered procedures."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.runbook import Runbook, parse_runbook

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
SEED = SEEDS / "holograph-runbook.md"

pytestmark = pytest.mark.skipif(not SEED.is_file(), reason=f"seed runbooks not present at {SEEDS}")


@pytest.fixture(scope="module")
def runbook() -> Runbook:
    return parse_runbook(SEED)


def test_finds_every_alert(runbook: Runbook) -> None:
    assert runbook.alert_names() == [
        "HoloFPSDegradation",
        "RecursiveExplosion",
        "FrameBudgetBreach",
        "GPUOOMRisk",
    ]


def test_alert_meanings_and_thresholds(runbook: Runbook) -> None:
    fps = runbook.alert("HoloFPSDegradation")
    assert fps is not None
    assert fps.meaning == "The p95 FPS of the holographic reality is below 55."
    assert fps.threshold == "< 55"
    depth = runbook.alert("RecursiveExplosion")
    assert depth is not None and depth.threshold == "> 10"
    # the runbook states no severity or response time for any alert
    assert all(alert.severity is None and alert.response_time is None for alert in runbook.alerts)


def test_services(runbook: Runbook) -> None:
    assert [(s.name, s.kind) for s in runbook.services] == [
        ("holograph-gateway", "component"),
        ("holograph-renderer", "component"),
    ]


def test_dashboards_and_contacts(runbook: Runbook) -> None:
    assert [d.name for d in runbook.dashboards] == ["Grafana", "Prometheus"]
    assert runbook.dashboards[0].url.startswith("https://grafana.example.com/d/holograph-baseline")
    assert [(c.role, c.value) for c in runbook.contacts] == [
        ("On-call", "@sre-team"),
        ("PagerDuty", "https://example.pagerduty.com"),
    ]


def test_procedures(runbook: Runbook) -> None:
    assert [(p.title, len(p.steps), p.is_rollback) for p in runbook.procedures] == [
        ("Rotation Steps", 5, False),
        ("Rollback Procedures", 3, True),
        ("NATS JetStream Installation", 2, False),
    ]
    nats = runbook.procedure("NATS JetStream Installation")
    assert nats is not None
    assert [c.text for c in nats.commands] == [
        "helm repo add nats https://nats-io.github.io/k8s/helm/charts",
        "helm upgrade --install jetstream nats/nats --namespace nats --create-namespace "
        "-f k8s/jetstream/values.yaml",
    ]
    assert nats.steps[0].text == "Add the NATS Helm repo:"
    assert len(nats.steps[0].commands) == 1


def test_no_slo_targets_or_rules(runbook: Runbook) -> None:
    # "Key SLOs and Alert Meanings" lists alerts, not numeric targets
    assert runbook.slos == []
    assert runbook.rules == []
