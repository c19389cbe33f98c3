"""The seed systems' experiment sets (experiments/seeds/<system>/): every experiment and
plan validates, every profile reads and its rules run at its time scale, Creto's
rules are its runbook's as written, and the rules written from holograph's and
Verolux's runbooks say which runbook line each encodes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from gameday.cli.run import validate
from gameday.experiment import find_experiments
from gameday.lab.monitoring import check_rule_files
from gameday.lab.profile import read_profile
from gameday.lab.team_rules import lab_clock
from gameday.lab.time_scale import scale_rules
from gameday.runbook import load_rule_file, parse_runbook
from gameday.runbook.rules import rule_file_document

REPO = Path(__file__).resolve().parents[2]
SETS = REPO / "experiments" / "seeds"
SEEDS = REPO.parent / "shared" / "seeds"
SYSTEMS = ["creto", "holograph", "verolux"]
RUNBOOKS = {
    "creto": "creto-enablement-runbook.md",
    "holograph": "holograph-runbook.md",
    "verolux": "verolux-runbooks-index.md",
}
YAML_FILES = sorted(
    path
    for path in SETS.rglob("*.yaml")
    if path.name != "profile.yaml"  # a lab profile, read by `gameday lab up --profile`
)


def _needs(system: str) -> pytest.MarkDecorator:
    path = SEEDS / RUNBOOKS[system]
    return pytest.mark.skipif(not path.is_file(), reason=f"seed runbook not present at {path}")


def test_every_system_has_a_set() -> None:
    assert sorted(path.parent.name for path in SETS.glob("*/profile.yaml")) == SYSTEMS
    for system in SYSTEMS:
        assert find_experiments(SETS / system), system


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda path: str(path.relative_to(SETS)))
def test_gameday_validate_passes(path: Path) -> None:
    result = CliRunner().invoke(validate, [str(path)], standalone_mode=False)
    assert result.exception is None, f"{result.output}{result.exception!r}"
    assert ": valid " in result.output


@pytest.mark.parametrize("system", SYSTEMS)
def test_the_profile_reads_and_its_rules_run_at_its_time_scale(system: str) -> None:
    profile = read_profile(SETS / system / "profile.yaml")
    assert profile.system == system
    assert profile.time_scale == 60
    assert profile.replace_lab_rules
    check_rule_files(list(profile.rule_files))  # promtool
    rules = [rule for path in profile.rule_files for rule in load_rule_file(path)]
    names = {rule.name for rule in rules}
    # every alert the profile adapts is a rule of the set, and the lab replaces it
    assert set(profile.adapted) <= names
    assert not set(profile.adapted) & set(profile.not_exercised)
    held: set[str] = set()
    for path in profile.rule_files:
        scaled = scale_rules(
            yaml.safe_load(path.read_text(encoding="utf-8")),
            source=str(path),
            settings=profile.scale_settings(),
            clock=lab_clock(),
        )
        held |= scaled.adapted
    assert held == set(profile.adapted)


@pytest.mark.parametrize("system", SYSTEMS)
def test_an_experiment_of_an_adapted_alert_says_so(system: str) -> None:
    adapted = set(read_profile(SETS / system / "profile.yaml").adapted)
    for experiment in find_experiments(SETS / system):
        if adapted & set(experiment.alert_names()):
            assert "adapted" in experiment.title.lower(), experiment.path
            assert "Adapted, not as written" in experiment.description, experiment.path
        # a seed experiment names its system's runbook, which is not in the repository:
        # the lab's coverage never counts it
        assert experiment.gameday_extension()["runbook"] == RUNBOOKS[system]
        assert experiment.runbook_path() is None


@_needs("creto")
def test_creto_rules_are_the_runbooks_as_written() -> None:
    path = SETS / "creto" / "rules.yml"
    runbook = parse_runbook(SEEDS / RUNBOOKS["creto"])
    written = load_rule_file(path)

    def fields(rule: object) -> tuple[object, ...]:
        return tuple(
            getattr(rule, name)
            for name in ("name", "expr", "for_", "severity", "labels", "annotations", "group")
        )

    assert [fields(rule) for rule in written] == [fields(rule) for rule in runbook.rules]
    assert [rule.name for rule in written][:2] == ["HighErrorRate", "PodDown"]
    # the same document `gameday runbook rules` writes
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    ours = rule_file_document(written, default_group="rules")
    assert ours == rule_file_document(runbook.rules, default_group="rules")
    assert [group["interval"] for group in document["groups"]] == ["30s", "60s"]
    header = path.read_text(encoding="utf-8").splitlines()[:6]
    assert any("creto-enablement-runbook.md" in line for line in header)
    assert any("3.3 Alert Definitions with Thresholds" in line for line in header)


def test_creto_profile_maps_only_the_namespace_of_the_rules_it_runs_as_written() -> None:
    profile = read_profile(SETS / "creto" / "profile.yaml")
    assert profile.labels == {"namespace": {"creto-enablement": "lab"}}
    as_written = {"RedisDown", "PodDown", "DatabaseConnectionFailures", "MemoryPressure"}
    assert not as_written & set(profile.adapted)
    assert "gateway_requests_total" in profile.adapted["HighErrorRate"].expr
    assert "gRPC" in profile.adapted["HighErrorRate"].why
    # QuotaCheckSlow keeps Creto's expression; only its 10 µs threshold becomes 250 ms
    rules = {rule.name: rule for rule in load_rule_file(SETS / "creto" / "rules.yml")}
    written = "".join(rules["QuotaCheckSlow"].expr.split())
    assert written.endswith(">0.00001")
    adapted = "".join(profile.adapted["QuotaCheckSlow"].expr.split())
    assert adapted == written.replace(">0.00001", ">0.25")


LAB_PARTS = "gameday.chaos.lab.parts"
LOAD = "gameday.chaos.load.control"


@pytest.mark.parametrize("system", SYSTEMS)
def test_an_experiment_on_an_opt_in_part_starts_it_before_its_load(system: str) -> None:
    for experiment in find_experiments(SETS / system):
        document = yaml.safe_load(experiment.path.read_text(encoding="utf-8"))
        modules = [control["provider"]["module"] for control in document.get("controls", [])]
        if LAB_PARTS in modules:
            assert modules[:2] == [LAB_PARTS, LOAD], experiment.path


@pytest.mark.parametrize("plan", sorted(SETS.glob("*/plan.yaml")), ids=lambda p: p.parent.name)
def test_a_sets_plan_runs_every_experiment_of_the_set_under_its_own_load(plan: Path) -> None:
    document = yaml.safe_load(plan.read_text(encoding="utf-8"))
    # a plan's load would replace each experiment's locustfile (orders, quota checks)
    assert "load" not in document
    names = {experiment.path.name for experiment in find_experiments(plan.parent)}
    assert sorted(document["experiments"]) == sorted(names)


_LINE = re.compile(r"^\s*# line (\d+): ")


@pytest.mark.parametrize("system", ["holograph", "verolux"])
def test_each_written_rule_names_the_runbook_line_it_encodes(system: str) -> None:
    path = SETS / system / "rules.yml"
    lines = path.read_text(encoding="utf-8").splitlines()
    rules = load_rule_file(path)
    cited: dict[str, int] = {}
    for index, line in enumerate(lines):
        alert = re.match(r"^\s*- alert: (\S+)", line)
        if alert is None:
            continue
        comments = [_LINE.match(text) for text in lines[max(0, index - 3) : index]]
        found = [int(match.group(1)) for match in comments if match]
        assert found, f"{path}: rule {alert.group(1)} names no runbook line"
        cited[alert.group(1)] = found[-1]
    assert sorted(cited) == sorted(rule.name for rule in rules)
    assert RUNBOOKS[system] in lines[0] + lines[1]
    runbook_path = SEEDS / RUNBOOKS[system]
    if runbook_path.is_file():
        runbook = parse_runbook(runbook_path, rules=rules)
        for name, number in cited.items():
            named = runbook.alert(name)
            assert named is not None and named.line == number, (name, number, named)
