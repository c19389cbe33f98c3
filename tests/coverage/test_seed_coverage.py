"""The seed systems' view (`gameday coverage --seeds`): every alert a seed runbook names,
exercised on the lab as written, adapted, or not (and why), with the counts per system."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from gameday.cli.coverage import command
from gameday.coverage import build_coverage
from gameday.coverage.seeds import (
    ADAPTED,
    AS_WRITTEN,
    NOT_EXERCISED,
    STATUSES,
    SeedSet,
    build_seed_coverage,
    find_seed_runbook,
    runbooks_without_set,
)
from gameday.errors import GamedayError, InvalidInputError
from gameday.experiment import find_experiments, read_experiment
from gameday.lab.profile import read_profile
from gameday.runbook import Rule, load_rule_file, parse_runbook, parse_runbook_text

REPO = Path(__file__).resolve().parents[2]
SETS = REPO / "experiments" / "seeds"
SEEDS = REPO.parent / "shared" / "seeds"
needs_seeds = pytest.mark.skipif(
    not all(
        (SEEDS / name).is_file()
        for name in (
            "creto-enablement-runbook.md",
            "holograph-runbook.md",
            "verolux-runbooks-index.md",
        )
    ),
    reason=f"seed runbooks not present at {SEEDS}",
)
# as written / adapted / not exercised, per system
COUNTS = {"creto": (4, 7, 6), "holograph": (0, 2, 2), "verolux": (0, 7, 1)}


def _exit_code(result: Result) -> int:
    if isinstance(result.exception, GamedayError):
        return result.exception.exit_code
    return result.exit_code


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(command, list(args), standalone_mode=False)


def _view(sets: Path = SETS) -> dict[str, Any]:
    result = _invoke("--seeds", str(SEEDS), "--experiments", str(sets), "--json")
    assert _exit_code(result) == 0, f"{result.output}{result.exception!r}"
    document: dict[str, Any] = json.loads(result.output)
    return document


# -- the view, on a small runbook of its own ------------------------------------------

RUNBOOK = """# Shop

## Alerts

| Alert | Severity | Meaning |
|---|---|---|
| Redis Down | critical | Redis is unreachable |
| HighErrorRate | critical | Too many 5xx |
| DiskFull | warning | Disk above 90% |
| Mentioned | warning | No rule |
"""


def _rules() -> list[Rule]:
    return [
        Rule(name="RedisDown", expr="redis_up == 0", severity="critical"),
        Rule(name="HighErrorRate", expr="grpc_errors > 0", severity="critical"),
        Rule(name="DiskFull", expr="disk > 0.9", severity="warning"),
    ]


def _experiment(tmp_path: Path, name: str, *alerts: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    probes = [
        {
            "type": "probe",
            "name": f"{alert} fires",
            "provider": {
                "type": "python",
                "module": "gameday.chaos.alerts.probes",
                "func": "alert_fires",
                "arguments": {"alert": alert, "within_s": 10},
            },
        }
        for alert in alerts
    ]
    path.write_text(yaml.safe_dump({"title": name, "method": probes}))
    return path


def _seed(tmp_path: Path, **overrides: Any) -> SeedSet:
    experiments = [
        read_experiment(_experiment(tmp_path, "redis", "RedisDown")),
        read_experiment(_experiment(tmp_path, "errors", "HighErrorRate")),
    ]
    values: dict[str, Any] = {
        "system": "shop",
        "profile": str(tmp_path / "profile.yaml"),
        "rules": _rules(),
        "adapted": {"HighErrorRate": "gRPC errors answered by HTTP 5xx"},
        "not_exercised": {"DiskFull": "no disk in the lab"},
        "experiments": experiments,
        **overrides,
    }
    return SeedSet(**values)


def _runbook() -> Any:
    return parse_runbook_text(RUNBOOK, source="shop-runbook.md", rules=_rules())


def test_each_alert_gets_one_status_and_why(tmp_path: Path) -> None:
    view = build_seed_coverage(_runbook(), _seed(tmp_path))
    rows = {row.alert: (row.status, row.why, row.experiments) for row in view.alerts}
    assert rows == {
        "RedisDown": (AS_WRITTEN, "", ("redis.yaml",)),
        "HighErrorRate": (ADAPTED, "gRPC errors answered by HTTP 5xx", ("errors.yaml",)),
        "DiskFull": (NOT_EXERCISED, "no disk in the lab", ()),
        "Mentioned": (NOT_EXERCISED, "no experiment", ()),
    }
    assert view.counts() == {AS_WRITTEN: 1, ADAPTED: 1, NOT_EXERCISED: 2}
    redis = view.row("RedisDown")
    assert redis is not None and redis.runbook_name == "Redis Down" and redis.rule
    assert view.warnings == ()


def test_an_adaptation_without_an_experiment_is_not_exercised(tmp_path: Path) -> None:
    seed = _seed(tmp_path, experiments=[])
    row = build_seed_coverage(_runbook(), seed).row("HighErrorRate")
    assert row is not None and row.status == NOT_EXERCISED
    assert row.why.startswith("no experiment of the set expects it (the profile adapts it")


def test_an_alert_both_adapted_and_not_exercised_is_refused(tmp_path: Path) -> None:
    seed = _seed(tmp_path, not_exercised={"HighErrorRate": "no gRPC in the lab"})
    with pytest.raises(InvalidInputError) as caught:
        build_seed_coverage(_runbook(), seed)
    assert caught.value.exit_code == 2
    assert "'HighErrorRate' is both adapted and not exercised" in caught.value.message


def test_not_exercised_but_expected_is_refused(tmp_path: Path) -> None:
    seed = _seed(tmp_path, adapted={}, not_exercised={"RedisDown": "no redis"})
    with pytest.raises(InvalidInputError, match=r"not exercised, but 'redis\.yaml' expects"):
        build_seed_coverage(_runbook(), seed)


def test_names_the_runbook_does_not_know_are_warnings(tmp_path: Path) -> None:
    seed = _seed(
        tmp_path,
        experiments=[read_experiment(_experiment(tmp_path, "typo", "RedisDwn"))],
        adapted={"Nope": "x"},
    )
    view = build_seed_coverage(_runbook(), seed)
    assert view.warnings == (
        "the profile adapts 'Nope', which the runbook does not name",
        "experiment 'typo.yaml' expects 'RedisDwn', which the runbook does not name",
    )


def test_an_expected_alert_without_a_rule_is_not_exercised(tmp_path: Path) -> None:
    seed = _seed(tmp_path, experiments=[read_experiment(_experiment(tmp_path, "m", "Mentioned"))])
    row = build_seed_coverage(_runbook(), seed).row("Mentioned")
    assert row is not None and (row.status, row.why) == (
        NOT_EXERCISED,
        "no rule the profile loads defines it",
    )


def test_the_runbook_is_found_by_the_systems_name(tmp_path: Path) -> None:
    for name in ("creto-enablement-runbook.md", "holograph-runbook.md", "notes.txt"):
        (tmp_path / name).write_text("# R\n")
    assert find_seed_runbook(tmp_path, "creto").name == "creto-enablement-runbook.md"
    assert find_seed_runbook(tmp_path, "Holograph").name == "holograph-runbook.md"
    with pytest.raises(InvalidInputError, match="no runbook whose name starts with 'verolux'"):
        find_seed_runbook(tmp_path, "verolux")
    (tmp_path / "creto-old.md").write_text("# R\n")
    with pytest.raises(InvalidInputError, match="2 runbooks start with 'creto'"):
        find_seed_runbook(tmp_path, "creto")
    assert runbooks_without_set(tmp_path, ["creto"]) == ["holograph-runbook.md"]


# -- the three seed systems ----------------------------------------------------------


def _expected_counts(system: str) -> tuple[int, int, int]:
    """The counts as the set's own files give them: the alerts the runbook names, those
    the set's experiments expect, and those of them the profile adapts."""
    profile = read_profile(SETS / system / "profile.yaml")
    rules = [rule for path in profile.rule_files for rule in load_rule_file(path)]
    runbook = parse_runbook(find_seed_runbook(SEEDS, system), rules=rules)
    names = set(runbook.alert_names()) | {rule.name for rule in runbook.rules}
    expected = {
        expectation.alert
        for experiment in find_experiments(SETS / system)
        for expectation in experiment.expectations()
        if expectation.kind != "does_not_fire"
    }
    assert expected <= names
    adapted = expected & set(profile.adapted)
    return len(expected - adapted), len(adapted), len(names - expected)


@needs_seeds
def test_every_seed_system_has_its_row_and_counts() -> None:
    view = _view()
    systems = {system["system"]: system for system in view["systems"]}
    assert sorted(systems) == sorted(COUNTS)
    for name, (written, adapted, not_exercised) in COUNTS.items():
        counts = systems[name]["counts"]
        assert (counts[AS_WRITTEN], counts[ADAPTED], counts[NOT_EXERCISED]) == (
            written,
            adapted,
            not_exercised,
        )
        assert (written, adapted, not_exercised) == _expected_counts(name)
        assert len(systems[name]["alerts"]) == sum(counts.values())
        assert systems[name]["warnings"] == []
        for row in systems[name]["alerts"]:
            assert row["status"] in STATUSES
            assert row["status"] == AS_WRITTEN or row["why"], row
    statuses = {row["status"] for system in view["systems"] for row in system["alerts"]}
    assert statuses == set(STATUSES)
    assert view["schema"] == "gameday.seed-coverage/1"
    assert view["runbooks_without_set"] == []


@needs_seeds
def test_creto_statuses_and_experiments() -> None:
    creto = next(system for system in _view()["systems"] if system["system"] == "creto")
    rows = {row["alert"]: row for row in creto["alerts"]}
    as_written = {
        "RedisDown": ["redis-down.yaml"],
        "PodDown": ["pod-kill.yaml"],
        "DatabaseConnectionFailures": ["database-connection-failures.yaml"],
        "MemoryPressure": ["memory-pressure.yaml"],
    }
    adapted = {
        "HighErrorRate": ["high-error-rate-adapted.yaml"],
        "HighLatency": ["quota-check-slow-adapted.yaml"],
        "QuotaCheckSlow": ["quota-check-slow-adapted.yaml"],
        "OversightBacklog": ["consumer-backlog-adapted.yaml"],
        "KafkaLagHigh": ["consumer-backlog-adapted.yaml"],
        "HighDiskUsage": ["high-disk-usage-adapted.yaml"],
        "CertificateExpiring": ["certificate-expiring-adapted.yaml"],
    }
    for status, alerts in ((AS_WRITTEN, as_written), (ADAPTED, adapted)):
        for alert, experiments in alerts.items():
            assert (rows[alert]["status"], rows[alert]["experiments"]) == (status, experiments)
    assert "gRPC" in rows["HighErrorRate"]["why"]
    assert "10 µs" in rows["QuotaCheckSlow"]["why"] and "250 ms" in rows["QuotaCheckSlow"]["why"]
    assert 'mountpoint="/"' in rows["HighDiskUsage"]["why"]
    assert "400 s" in rows["KafkaLagHigh"]["why"] and "167" in rows["KafkaLagHigh"]["why"]
    assert rows["WarmPoolDepleted"]["status"] == NOT_EXERCISED
    assert "runtime_warmpool_size" in rows["WarmPoolDepleted"]["why"]
    # no reason still waits on issue 14's parts
    assert not any(
        "issue 14" in row["why"] for system in _view()["systems"] for row in system["alerts"]
    )
    assert creto["runbook"].endswith("creto-enablement-runbook.md")


@needs_seeds
def test_verolux_database_queue_and_storage_run_adapted() -> None:
    verolux = next(system for system in _view()["systems"] if system["system"] == "verolux")
    rows = {row["alert"]: row for row in verolux["alerts"]}
    assert rows["DatabaseDown"]["status"] == ADAPTED
    assert rows["DatabaseDown"]["experiments"] == [
        "database-down-postgres.yaml",
        "database-down.yaml",
    ]
    assert "pg_up" in rows["DatabaseDown"]["why"] and "redis_up" in rows["DatabaseDown"]["why"]
    assert rows["QueueBacklog"]["status"] == ADAPTED and "167" in rows["QueueBacklog"]["why"]
    assert rows["StorageNearFull"]["status"] == ADAPTED
    assert rows["APIDown"]["status"] == NOT_EXERCISED


@needs_seeds
def test_the_text_view_ends_with_the_counts() -> None:
    result = _invoke("--seeds", str(SEEDS), "--experiments", str(SETS))
    assert _exit_code(result) == 0, result.output
    out = result.output
    assert "Seed systems (3), runbooks from" in out
    summary = out[out.index("Seed systems (3)") :].splitlines()
    for name, counts in COUNTS.items():
        row = next(line for line in summary if line.startswith(name))
        assert row.split()[2:] == [str(count) for count in counts], row
    assert "CameraOffline (Camera Offline)" in out
    assert "- HighErrorRate (adapted): Creto's gRPC error counters" in out


@needs_seeds
def test_strict_fails_while_any_alert_is_not_exercised() -> None:
    result = _invoke("--seeds", str(SEEDS), "--experiments", str(SETS), "--strict")
    assert _exit_code(result) == 1
    assert "9 alert(s) of the seed systems are not exercised" in str(result.exception)


@needs_seeds
def test_a_profile_listing_an_alert_both_ways_exits_2(tmp_path: Path) -> None:
    sets = tmp_path / "seeds"
    shutil.copytree(SETS / "creto", sets / "creto")
    profile = sets / "creto" / "profile.yaml"
    document = yaml.safe_load(profile.read_text())
    document["not_exercised"]["HighErrorRate"] = "the lab has no gRPC"
    profile.write_text(yaml.safe_dump(document))
    result = _invoke("--seeds", str(SEEDS), "--experiments", str(sets))
    assert _exit_code(result) == 2
    assert "'HighErrorRate' is both adapted and not exercised" in str(result.exception)


@needs_seeds
def test_a_runbook_without_a_set_is_listed(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "x0tta6bl4-runbook.md").write_text("# x0tta6bl4\n")
    result = _invoke("--seeds", str(seeds), "--experiments", str(SETS), "--json")
    assert _exit_code(result) == 0, result.output
    assert json.loads(result.output)["runbooks_without_set"] == ["x0tta6bl4-runbook.md"]


def test_seeds_refuses_runbook_and_needs_experiments() -> None:
    assert _exit_code(_invoke("--seeds", str(SETS), "--runbook", "r.md")) == 2
    assert _exit_code(_invoke("--seeds", str(SETS))) == 2
    assert _exit_code(_invoke("--json")) == 2  # neither --runbook nor --seeds


@needs_seeds
def test_the_lab_coverage_never_counts_a_seed_experiment() -> None:
    """Seed experiments name their system's runbook (not in the repository): coverage of
    another runbook over experiments/ skips them, coverage of theirs counts them."""
    creto = parse_runbook(SEEDS / "creto-enablement-runbook.md")
    lab = parse_runbook(REPO / "src" / "gameday" / "lab" / "assets" / "runbook.md")
    everything = find_experiments(REPO / "experiments")
    for_lab = build_coverage(lab, experiments=everything)
    assert not any("seeds" in check.path for row in for_lab.alerts for check in row.experiments)
    for_creto = build_coverage(creto, experiments=everything)
    paths = {check.path for row in for_creto.alerts for check in row.experiments}
    assert paths and all("/seeds/creto/" in path for path in paths)
