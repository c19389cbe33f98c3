from __future__ import annotations

from pathlib import Path

import pytest

from gameday.coverage import load_results
from gameday.errors import InvalidInputError
from gameday.experiment import find_experiments, load_plan, load_scenarios
from gameday.experiment import read_experiment as load_experiment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runbook"


def test_experiment_expectations() -> None:
    experiment = load_experiment(FIXTURES / "experiments" / "redis-down.yaml")
    assert experiment.title == "Redis goes down under load"
    assert experiment.tags == ("redis", "lab")
    assert [(e.alert, e.kind, e.phase, e.receiver) for e in experiment.expectations()] == [
        ("RedisDown", "does_not_fire", "steady-state", None),
        ("RedisDown", "fires", "method", None),
        ("RedisDown", "delivered", "method", "oncall-pager"),
    ]
    [fault] = experiment.faults()
    assert (fault.func, fault.pause_before, fault.pause_after) == ("stop_service", 10.0, 5.0)
    assert fault.describe() == "stop_service(service=redis)"


def test_find_experiments_skips_other_yaml() -> None:
    titles = [e.title for e in find_experiments(FIXTURES / "experiments")]
    assert titles == ["Two API replicas die", "Redis goes down under load"]


def test_plan_resolves_paths_relative_to_itself() -> None:
    plan = load_plan(FIXTURES / "plans" / "gameday.yaml")
    assert plan.name == "Checkout game day"
    assert plan.runbook == (FIXTURES / "lab-runbook.md").resolve()
    assert [e.title for e in plan.experiments] == [
        "Redis goes down under load",
        "Two API replicas die",
    ]


def test_scenarios_from_a_single_experiment() -> None:
    plan = load_scenarios(FIXTURES / "experiments" / "api-replicas.yaml")
    assert plan.runbook is None
    assert [e.title for e in plan.experiments] == ["Two API replicas die"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("users: 5\n", "neither a plan"),
        ("experiments: []\n", "non-empty list"),
        ("experiments:\n  - missing.yaml\n", "not found"),
        ("experiments:\n  - 3\n", "neither a path"),
        ("method: 5\n", "not a list"),
        ("method:\n  - 5\n", "not a mapping"),
        ("title: [\n", "not valid YAML"),
    ],
)
def test_bad_scenarios_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        load_scenarios(path)


def test_results_tolerate_missing_keys_and_skip_bad_json(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "result.json").write_text(
        '{"expectations": [{"alert": "X"}, 3], "measurements": 1}'
    )
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "result.json").write_text("not json")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "result.json").write_text("[1, 2]")
    results, warnings = load_results(tmp_path)
    assert len(results) == 1 and len(warnings) == 2
    [result] = results
    assert result.status == "unknown"
    assert result.expectations[0].alert == "X" and not result.expectations[0].passed
    assert result.mttd_s == {} and result.mttr_s is None


def test_results_sorted_by_ended_at() -> None:
    results, _ = load_results(FIXTURES / "results")
    assert [r.ended_at for r in results] == [
        "2024-05-01T10:05:00+00:00",
        "2024-05-02T10:04:00+00:00",
        "2024-05-02T11:03:00+00:00",
    ]
