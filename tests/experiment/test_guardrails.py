"""Stop conditions as written in an experiment or a plan: read strictly, refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gameday.errors import InvalidInputError
from gameday.experiment import load_plan, read_experiment
from gameday.experiment.guardrails import StopCondition, parse_stop_conditions

REPO = Path(__file__).resolve().parents[2]


def test_query_and_alert_conditions_are_read() -> None:
    query, alert = parse_stop_conditions(
        [
            {"name": "budget", "query": "sum(rate(x[1m]))", "max": 0.05, "for_s": 10},
            {"alert": "CustomerFacingOutage"},
        ],
        source="e.yaml",
        where="stop_conditions",
    )
    assert query == StopCondition(name="budget", query="sum(rate(x[1m]))", high=0.05, for_s=10)
    assert query.worst_of() == "max(sum(rate(x[1m])))"
    assert query.violated_by(0.06) and not query.violated_by(0.05)
    assert query.describe() == "budget (must stay <= 0.05 for 10s)"
    assert alert.alert == "CustomerFacingOutage" and alert.name == "CustomerFacingOutage"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"alert": "X"}, "must be a list"),
        ([3], "must be a mapping"),
        ([{"query": "up"}], "needs 'max', 'min' or both"),
        ([{"query": "up", "max": 1, "alert": "X"}], "either a 'query' or an 'alert'"),
        ([{}], "either a 'query' or an 'alert'"),
        ([{"query": "up", "max": "high"}], "max must be a finite number"),
        ([{"query": "up", "max": float("inf")}], "max must be a finite number"),
        ([{"query": "up", "min": 2, "max": 1}], "would always trip"),
        ([{"query": "up", "max": 1, "for_s": -1}], "for_s must be between"),
        ([{"query": "up", "max": 1, "forr_s": 5}], "unknown key 'forr_s'"),
        ([{"alert": ""}], "alert must be an alert name"),
    ],
)
def test_bad_conditions_are_refused_with_their_place(raw: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        parse_stop_conditions(raw, source="e.yaml", where="extensions[gameday].stop_conditions")
    assert caught.value.exit_code == 2
    assert "e.yaml:extensions[gameday].stop_conditions" in caught.value.message


def test_an_experiment_with_a_bad_condition_is_refused_when_read(tmp_path: Path) -> None:
    document = yaml.safe_load((REPO / "experiments" / "redis-down.yaml").read_text())
    document["extensions"][0]["stop_conditions"] = [{"query": "up"}]
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(InvalidInputError, match=r"stop_conditions\[0\]"):
        read_experiment(path)


def test_a_plans_conditions_guard_every_experiment(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        yaml.safe_dump(
            {
                "name": "guarded",
                "stop_conditions": [{"alert": "CustomerFacingOutage"}],
                "experiments": [
                    str(REPO / "experiments" / "pod-kill-single.yaml"),
                    {
                        "path": str(REPO / "experiments" / "redis-down.yaml"),
                        "overrides": {"stop_conditions": [{"query": "up", "min": 1}]},
                    },
                ],
            }
        )
    )
    single, redis = load_plan(plan).experiments
    assert [c.alert for c in single.stop_conditions] == ["CustomerFacingOutage"]
    assert [(c.alert, c.query) for c in redis.stop_conditions] == [
        ("CustomerFacingOutage", None),
        (None, "up"),
    ]
