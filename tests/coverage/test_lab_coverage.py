"""The lab's own runbook, rules and experiments, held against each other."""

from pathlib import Path

from gameday.coverage import build_coverage
from gameday.experiment import find_experiments, load_plan
from gameday.lab.monitoring import lab_rule_files, lab_runbook
from gameday.runbook import load_rule_file, parse_runbook
from gameday.tabletop import build_tabletop, render_markdown

REPO = Path(__file__).resolve().parents[2]
LAB_ALERTS = {
    "PodDown",
    "DeploymentReplicasMismatch",
    "RedisDown",
    "HighErrorRate",
    "HighLatency",
    "ConsensusNoLeader",
    "ConsensusSplitBrain",
    "ConsensusLeaderChanges",
    "ConsensusProposalsFailing",
    "CameraOffline",
    "RTSPStorm",
    "SlowInference",
    "GPUSaturation",
    "GPUOOMRisk",
}
# The opt-in parts' alerts (issue 14): each exercised by an experiment in
# experiments/seed-failures/.
SEED_FAILURE_ALERTS = {
    "BadDeployRollback",
    "QuotaCheckSlow",
    "PostgresDown",
    "DatabaseConnectionFailures",
    "PostgresConnectionsExhausted",
    "QueueBacklog",
    "NatsDown",
    "QueuePublishFailures",
    "HighDiskUsage",
    "StorageNearFull",
    "MemoryPressure",
    "MemoryExhaustion",
    "CertificateExpiring",
    "TLSHandshakeFailures",
}


def test_every_lab_rule_is_explained_by_the_lab_runbook_and_back() -> None:
    runbook = parse_runbook(lab_runbook())
    rules = [rule for path in lab_rule_files() for rule in load_rule_file(path)]
    assert {rule.name for rule in rules} == LAB_ALERTS | SEED_FAILURE_ALERTS
    assert set(runbook.alert_names()) == LAB_ALERTS | SEED_FAILURE_ALERTS
    for name in ("PodDown", "RedisDown", "GPUSaturation", "CameraOffline"):
        alert = runbook.alert(name)
        assert alert is not None and alert.severity == "critical" and alert.procedure


def test_lab_coverage_gaps_are_only_the_alerts_no_experiment_exercises() -> None:
    runbook = parse_runbook(lab_runbook())
    rules = [rule for path in lab_rule_files() for rule in load_rule_file(path)]
    coverage = build_coverage(runbook, rules, find_experiments(REPO / "experiments"))
    gaps = sorted((gap.kind, gap.alert) for gap in coverage.gaps)
    assert gaps == sorted(
        ("no-experiment", alert)
        for alert in (
            "DeploymentReplicasMismatch",
            "ConsensusSplitBrain",
            "ConsensusLeaderChanges",
            "ConsensusProposalsFailing",
            "GPUOOMRisk",
        )
    )


def test_the_lab_tabletop_carries_the_runbook_procedures_and_targets() -> None:
    runbook = parse_runbook(lab_runbook())
    rules = [rule for path in lab_rule_files() for rule in load_rule_file(path)]
    plan = load_plan(REPO / "experiments" / "lab-gameday.yaml")
    text = render_markdown(build_tabletop(plan, runbook, rules=rules))
    assert text.count("## Scenario ") == 6
    assert "supervisorctl -s http://127.0.0.1:17812 start redis:redis" in text
    assert "| Time to detect (MTTD) | < 15s |" in text
    assert "RedisDown" in text and "oncall-pager" in text
