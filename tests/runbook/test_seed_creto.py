"""The creto seed: 2,900 lines, cp1252/cp1254 mojibake, embedded Prometheus rules,
alerts named in troubleshooting sections, SLA and RTO/RPO tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.runbook import Runbook, parse_runbook

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
SEED = SEEDS / "creto-enablement-runbook.md"

pytestmark = pytest.mark.skipif(not SEED.is_file(), reason=f"seed runbooks not present at {SEEDS}")

RULE_ALERTS = {
    # name: (severity, for)
    "HighErrorRate": ("critical", "5m"),
    "PodDown": ("critical", "2m"),
    "HighLatency": ("warning", "10m"),
    "QuotaCheckSlow": ("warning", "5m"),
    "WarmPoolDepleted": ("warning", "1m"),
    "OversightBacklog": ("warning", "10m"),
    "DatabaseConnectionFailures": ("critical", "2m"),
    "RedisDown": ("critical", "1m"),
    "HighDiskUsage": ("warning", "5m"),
    "MemoryPressure": ("warning", "5m"),
    "CertificateExpiring": ("warning", None),
    "KafkaLagHigh": ("warning", "15m"),
}
# named only in troubleshooting sections ("Alert: `AuthzUnavailable`"), no rule defines them
MENTIONED_ALERTS = {
    "AuthzUnavailable": "6.6 AuthZ Outage",
    "StorageQuotaExceeded": "6.7 Storage Cleanup",
    "VaultHSMUnavailable": "6.8 HSM Recovery",
    "NHITokenRefreshFailed": "6.9 Token Refresh Failures",
    "ConsensusSplitBrain": "6.10 Cluster Healing (Consensus Split Brain)",
}


@pytest.fixture(scope="module")
def runbook() -> Runbook:
    return parse_runbook(SEED)


def test_finds_every_alert(runbook: Runbook) -> None:
    assert runbook.alert_names() == [*RULE_ALERTS, *MENTIONED_ALERTS]
    assert len(runbook.alerts) == 17


def test_embedded_rules(runbook: Runbook) -> None:
    assert [rule.name for rule in runbook.rules] == list(RULE_ALERTS)
    for rule in runbook.rules:
        assert (rule.severity, rule.for_) == RULE_ALERTS[rule.name]
    assert {rule.group for rule in runbook.rules} == {"enablement_critical", "enablement_warnings"}
    redis = next(rule for rule in runbook.rules if rule.name == "RedisDown")
    assert redis.expr == 'redis_up{namespace="creto-enablement"} == 0'
    assert redis.annotations["summary"] == "Redis instance down"
    assert redis.line == 615


def test_rule_alerts_carry_rule_fields(runbook: Runbook) -> None:
    error_rate = runbook.alert("HighErrorRate")
    assert error_rate is not None
    assert error_rate.severity == "critical"
    assert error_rate.for_ == "5m"
    assert error_rate.threshold == "> 0.01"
    assert error_rate.sources == ["rule", "mention"]
    assert error_rate.procedure == "6.2 Error Rate Spikes"
    quota = runbook.alert("QuotaCheckSlow")
    assert quota is not None and quota.meaning == "Quota checks exceeding 10µs target"


def test_mentioned_alerts_point_at_their_procedure(runbook: Runbook) -> None:
    for name, procedure in MENTIONED_ALERTS.items():
        alert = runbook.alert(name)
        assert alert is not None
        assert alert.procedure == procedure
        assert alert.sources == ["mention"]
        assert runbook.procedure(procedure) is not None
    for name, procedure in {
        "MemoryPressure": "6.3 Memory/CPU Issues",
        "DatabaseConnectionFailures": "6.4 Database Connection Issues",
        "KafkaLagHigh": "6.5 Kafka Lag Issues",
    }.items():
        alert = runbook.alert(name)
        assert alert is not None and alert.procedure == procedure


def test_sla_table(runbook: Runbook) -> None:
    sla = [
        (s.name, s.kind, s.target, s.comparator, s.value, s.unit, s.quantile)
        for s in runbook.slos
        if s.scope is None
    ]
    assert sla == [
        ("Availability", "availability", "99.9%", None, 0.999, "ratio", None),
        ("Latency (P95)", "latency", "<100ms", "<", 0.1, "s", 0.95),
        ("Latency (P99)", "latency", "<500ms", "<", 0.5, "s", 0.99),
        ("Error Rate", "error_rate", "<0.1%", "<", 0.001, "ratio", None),
        ("MTTD", "mttd", "<5 min", "<", 300.0, "s", None),
        ("MTTR", "mttr", "<15 min", "<", 900.0, "s", None),
    ]


def test_rto_rpo_table(runbook: Runbook) -> None:
    recovery = {(s.kind, s.scope): s.value for s in runbook.slos if s.scope is not None}
    assert recovery == {
        ("rto", "PostgreSQL"): 1800.0,
        ("rpo", "PostgreSQL"): 3600.0,
        ("rto", "Redis"): 900.0,
        ("rpo", "Redis"): 900.0,
        ("rto", "Kubernetes State"): 3600.0,
        ("rpo", "Kubernetes State"): 86400.0,
        ("rto", "Application Secrets"): 900.0,
        ("rpo", "Application Secrets"): 0.0,
        ("rto", "Audit Logs"): 14400.0,
        ("rpo", "Audit Logs"): 0.0,
    }


def test_severity_levels_and_escalation(runbook: Runbook) -> None:
    assert [(s.name, s.response_time_s) for s in runbook.severity_levels] == [
        ("SEV-1", 300.0),
        ("SEV-2", 900.0),
        ("SEV-3", 3600.0),
        ("SEV-4", 14400.0),
    ]
    assert [(e.level, e.name, e.response_time, e.condition) for e in runbook.escalation] == [
        (1, "On-call SRE", "immediate", ""),
        (2, "SRE Team Lead", "5 min delay", "no ack in 5 min"),
        (3, "Engineering Manager", "15 min delay", "no ack in 10 min"),
        (4, "VP Engineering", "30 min delay", "no ack in 15 min"),
    ]


def test_services(runbook: Runbook) -> None:
    components = [s.name for s in runbook.services if s.kind == "component"]
    assert components == [
        "creto-metering",
        "creto-oversight",
        "creto-runtime",
        "creto-messaging",
        "Redis",
        "PostgreSQL",
        "NATS",
    ]
    dependencies = [s.name for s in runbook.services if s.kind == "dependency"]
    assert dependencies[:3] == ["creto-authz", "creto-audit", "creto-nhi"]
    assert len(dependencies) == 11


def test_troubleshooting_procedures(runbook: Runbook) -> None:
    authz = runbook.procedure("6.6 AuthZ Outage")
    assert authz is not None
    assert [step.text for step in authz.steps] == [
        "Immediate Actions",
        "Option A: Restart AuthZ pods (if crashed)",
        "Option B: Scale up (if overloaded)",
        "Option C: Enable circuit breaker fallback (EMERGENCY ONLY)",
        "Verification",
    ]
    assert (
        authz.steps[1].commands[0].text
        == "kubectl -n creto-authz rollout restart deploy/creto-authz"
    )
    blue_green = runbook.procedure("2.4 Blue-Green Deployment")
    assert blue_green is not None
    assert blue_green.steps[0].text == "Step 1: Deploy green environment"
    assert blue_green.steps[-1].text == "Rollback (if issues detected)"
    # the table of contents and the post-incident template are not procedures
    titles = [p.title for p in runbook.procedures]
    assert "Table of Contents" not in titles
    assert all("Template" not in title for title in titles)


def test_multiline_commands_are_joined(runbook: Runbook) -> None:
    restore = runbook.procedure("PostgreSQL Restore")
    assert restore is not None
    assert len(restore.steps) == 7
    helm = runbook.procedure("2.2 Helm Chart Configuration")
    assert helm is not None
    install = next(c.text for c in helm.commands if c.text.startswith("helm install"))
    assert install.endswith("--values helm/creto-enablement/values-staging.yaml")
    assert install.count("\n") == 3


def test_dashboards_and_rollback_triggers(runbook: Runbook) -> None:
    assert [d.name for d in runbook.dashboards][:2] == ["Enablement Overview", "Metering Dashboard"]
    assert len(runbook.dashboards) == 8
    assert [(t.condition, t.procedure) for t in runbook.rollback_triggers] == [
        ("issues detected", "2.4 Blue-Green Deployment"),
        ("INTERNAL: Application bug (panic, nil pointer)", "6.2 Error Rate Spikes"),
    ]


def test_mojibake_repaired_everywhere(runbook: Runbook) -> None:
    text = repr(runbook.to_dict())
    for garbled in ("â€", "â”", "ğŸ", "Âµ"):
        assert garbled not in text
