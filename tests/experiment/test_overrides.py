from pathlib import Path

import pytest
import yaml

from gameday.errors import InvalidInputError
from gameday.experiment.overrides import apply_overrides, check_overrides

REPO = Path(__file__).resolve().parents[2]


def _redis_down() -> dict[str, object]:
    document: dict[str, object] = yaml.safe_load((REPO / "experiments/redis-down.yaml").read_text())
    return document


def _arguments(document: dict[str, object], name: str) -> dict[str, object]:
    method = document["method"]
    assert isinstance(method, list)
    return next(a for a in method if a["name"] == name)["provider"]["arguments"]  # type: ignore[no-any-return]


def test_deadlines_load_and_configuration_are_applied_to_a_copy() -> None:
    original = _redis_down()
    changed = apply_overrides(
        original,
        {
            "deadlines": {"RedisDown": 20, "recovery": 45},
            "load": {"users": 25},
            "configuration": {"team": "sre"},
        },
    )
    assert _arguments(changed, "RedisDown fires")["within_s"] == 20
    assert _arguments(changed, "RedisDown pages on-call")["within_s"] == 20
    assert _arguments(changed, "HighErrorRate fires")["within_s"] == 20  # untouched: its own 20
    assert _arguments(changed, "SLOs restored")["within_s"] == 45
    assert changed["controls"][0]["provider"]["arguments"]["users"] == 25  # type: ignore[index]
    assert changed["configuration"]["team"] == "sre"  # type: ignore[index]
    assert _arguments(original, "RedisDown fires")["within_s"] == 15


def test_a_deadline_for_an_alert_the_experiment_does_not_check_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="'RedisDwn'"):
        apply_overrides(_redis_down(), {"deadlines": {"RedisDwn": 20}})


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"deadline": {}}, "experiments[0].overrides.deadline"),
        ({"deadlines": {"RedisDown": -1}}, "experiments[0].overrides.deadlines.RedisDown"),
        ({"load": 10}, "experiments[0].overrides.load"),
    ],
)
def test_bad_overrides_name_their_place(overrides: dict[str, object], where: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_overrides(overrides, source="plan.yaml", where="experiments[0].overrides")
    assert f"plan.yaml:{where}" in caught.value.message
