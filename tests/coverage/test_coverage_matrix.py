from __future__ import annotations

from pathlib import Path

import pytest

from gameday.coverage import build_coverage, load_results
from gameday.experiment import find_experiments
from gameday.runbook import load_rule_file, parse_runbook

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runbook"
SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


def _lab_coverage():  # type: ignore[no-untyped-def]
    results, warnings = load_results(FIXTURES / "results")
    return build_coverage(
        parse_runbook(FIXTURES / "lab-runbook.md"),
        load_rule_file(FIXTURES / "rules" / "lab.yml"),
        find_experiments(FIXTURES / "experiments"),
        results,
        warnings=warnings,
    )


def test_matrix_rows_and_gaps() -> None:
    coverage = _lab_coverage()
    assert [(row.alert, row.in_runbook, bool(row.rules), row.gaps) for row in coverage.alerts] == [
        ("RedisDown", True, True, []),
        ("ApiHighErrorRate", True, True, ["no-experiment"]),
        ("ApiReplicasLow", True, False, ["no-rule", "failing"]),
        ("EtcdNoLeader", True, True, ["no-experiment"]),
        ("DiskFillingUp", False, True, ["no-runbook", "no-experiment"]),
    ]
    assert coverage.has_gaps
    assert len(coverage.warnings) == 1 and "broken" in coverage.warnings[0]


def test_last_outcome_is_latest_by_ended_at() -> None:
    redis = _lab_coverage().row("RedisDown")
    assert redis is not None and redis.last is not None
    # run-1 failed on 2024-05-01, run-2 passed on 2024-05-02: the later one counts
    assert redis.last.passed
    assert redis.last.mttd_s == 42.5
    assert redis.last.ended_at == "2024-05-02T10:04:00+00:00"
    assert sorted(check.expects for check in redis.experiments) == [
        "delivered",
        "does_not_fire",
        "fires",
    ]


def test_failing_gap_carries_the_message() -> None:
    coverage = _lab_coverage()
    [failing] = [gap for gap in coverage.gaps if gap.kind == "failing"]
    assert failing.alert == "ApiReplicasLow"
    assert "ApiReplicasLow did not fire" in failing.message


def test_negative_only_expectations_do_not_count_as_exercised() -> None:
    row = _lab_coverage().row("ApiHighErrorRate")
    assert row is not None and not row.exercised
    assert [check.expects for check in row.experiments] == ["does_not_fire"]


def test_to_dict_summary() -> None:
    data = _lab_coverage().to_dict()
    assert data["schema"] == "gameday.coverage/1"
    assert data["summary"] == {
        "alerts": 5,
        "gaps": 6,
        "no-rule": 1,
        "no-runbook": 1,
        "no-experiment": 3,
        "failing": 1,
    }


def test_experiment_alert_unknown_everywhere_is_flagged() -> None:
    runbook = parse_runbook(FIXTURES / "lab-runbook.md")
    coverage = build_coverage(runbook, [], find_experiments(FIXTURES / "seed-experiments"), [])
    row = coverage.row("Camera Offline")
    assert row is not None and row.gaps == ["no-rule", "no-runbook"]


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed runbooks not present at {SEEDS}")
def test_creto_seed_coverage() -> None:
    runbook = parse_runbook(SEEDS / "creto-enablement-runbook.md")
    coverage = build_coverage(runbook, [], find_experiments(FIXTURES / "seed-experiments"), [])
    assert (
        len(coverage.alerts) == 18
    )  # 17 from the runbook, "Camera Offline" from the verolux experiment
    exercised = [row.alert for row in coverage.alerts if row.exercised]
    assert exercised == ["HighErrorRate", "RedisDown", "Camera Offline"]
    no_rule = [gap.alert for gap in coverage.gaps if gap.kind == "no-rule"]
    assert no_rule == [
        "AuthzUnavailable",
        "StorageQuotaExceeded",
        "VaultHSMUnavailable",
        "NHITokenRefreshFailed",
        "ConsensusSplitBrain",
        "Camera Offline",
    ]
    redis = coverage.row("RedisDown")
    assert redis is not None and redis.rules == [str(SEEDS / "creto-enablement-runbook.md")]


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed runbooks not present at {SEEDS}")
def test_verolux_seed_coverage_without_rules() -> None:
    runbook = parse_runbook(SEEDS / "verolux-runbooks-index.md")
    coverage = build_coverage(runbook, [], find_experiments(FIXTURES / "seed-experiments"), [])
    camera = coverage.row("Camera Offline")
    assert camera is not None and camera.gaps == ["no-rule"]
    no_rule = [gap.alert for gap in coverage.gaps if gap.kind == "no-rule"]
    # every runbook alert, plus the two the creto experiment expects
    assert no_rule == [*runbook.alert_names(), "RedisDown", "HighErrorRate"]
