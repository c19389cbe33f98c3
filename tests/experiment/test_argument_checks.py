"""Argument values an activity's module checks (`ARGUMENT_CHECKS`) are refused when the
experiment is read: exit 2 with the activity's place, before anything is injected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gameday.errors import InvalidInputError
from gameday.experiment import read_experiment
from gameday.experiment.checks import check_experiment

REPO = Path(__file__).resolve().parents[2]
SEED_FAILURES = REPO / "experiments" / "seed-failures"

# experiment, function, argument, an impossible value, what the refusal must say
IMPOSSIBLE = [
    ("bad-deploy", "deploy_release", "error_ratio", 1.5, "error_ratio is 1.5"),
    ("bad-deploy", "deploy_release", "error_ratio", True, "error_ratio is True"),
    ("disk-fill", "fill_disk", "percent", 150, "percent is 150"),
    ("disk-fill", "fill_disk", "percent", "full", "percent is 'full'"),
    ("memory-pressure", "grow_working_set", "percent", 99, "percent is 99"),
    ("certificate-expiring", "swap_certificate", "kind", "expired-ish", "'expired-ish'"),
    ("redis-latency", "inject_latency", "dependency", "kafka", "'kafka'"),
    ("redis-latency", "inject_latency", "delay_ms", -5, "bad latency"),
]


def _fault(document: dict[str, Any], func: str) -> tuple[int, dict[str, Any]]:
    return next(
        (index, activity)
        for index, activity in enumerate(document["method"])
        if activity["provider"].get("func") == func
    )


def _copy(tmp_path: Path, name: str, func: str, argument: str, value: object) -> Path:
    document = yaml.safe_load((SEED_FAILURES / f"{name}.yaml").read_text())
    _fault(document, func)[1]["provider"].setdefault("arguments", {})[argument] = value
    for control in document.get("controls") or []:
        arguments = control["provider"].get("arguments") or {}
        if "locustfile" in arguments:
            arguments["locustfile"] = str(REPO / arguments["locustfile"])
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.mark.parametrize("name", sorted({row[0] for row in IMPOSSIBLE}))
def test_the_shipped_values_pass(name: str) -> None:
    check_experiment(read_experiment(SEED_FAILURES / f"{name}.yaml"))


@pytest.mark.parametrize(("name", "func", "argument", "value", "says"), IMPOSSIBLE)
def test_an_impossible_value_is_refused_with_its_place(
    tmp_path: Path, name: str, func: str, argument: str, value: object, says: str
) -> None:
    path = _copy(tmp_path, name, func, argument, value)
    index, activity = _fault(yaml.safe_load(path.read_text()), func)
    with pytest.raises(InvalidInputError) as raised:
        check_experiment(read_experiment(path))
    assert raised.value.exit_code == 2
    assert raised.value.where == f"method[{index}] ({activity['name']}).provider.arguments"
    assert says in str(raised.value), str(raised.value)


def test_a_substituted_value_is_left_to_run_time(tmp_path: Path) -> None:
    path = _copy(tmp_path, "bad-deploy", "deploy_release", "error_ratio", "${ratio}")
    document = yaml.safe_load(path.read_text())
    document["configuration"]["ratio"] = 0.2
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    check_experiment(read_experiment(path))
