"""The lab-parts control is checked before anything runs: known part names, and only on
the lab (exit 2 with its place and a fix)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gameday.engine.preflight import check_fault_kinds
from gameday.errors import InvalidInputError
from gameday.experiment import read_experiment
from gameday.lab.extras.registry import EXTRAS

ROOT = Path(__file__).resolve().parents[2]
SEED_FAILURES = sorted((ROOT / "experiments" / "seed-failures").glob("*.yaml"))
POSTGRES_DOWN = ROOT / "experiments" / "seed-failures" / "postgres-down.yaml"


def _with_parts(tmp_path: Path, parts: object) -> Path:
    document = yaml.safe_load(POSTGRES_DOWN.read_text())
    control = next(c for c in document["controls"] if c["name"] == "lab-parts")
    control["provider"]["arguments"]["parts"] = parts
    for item in document["controls"]:
        arguments = item["provider"].get("arguments") or {}
        if "locustfile" in arguments:
            arguments["locustfile"] = str(ROOT / arguments["locustfile"])
    path = tmp_path / "postgres-down.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_every_opt_in_part_is_registered() -> None:
    assert set(EXTRAS) == {"latency", "postgres", "queue", "disk", "memory", "tls"}


@pytest.mark.parametrize("path", SEED_FAILURES, ids=lambda p: p.name)
def test_the_seed_failure_experiments_pass_on_the_lab(path: Path) -> None:
    check_fault_kinds(read_experiment(path), "lab", "lab")


def test_an_unknown_part_is_refused_with_the_parts_there_are(tmp_path: Path) -> None:
    path = _with_parts(tmp_path, ["postgres", "kafka"])
    with pytest.raises(InvalidInputError) as caught:
        check_fault_kinds(read_experiment(path), "lab", "lab")
    assert caught.value.exit_code == 2
    assert "no opt-in part named 'kafka'" in caught.value.message
    assert caught.value.where and caught.value.where.endswith(".arguments.parts")
    assert caught.value.hint and "postgres" in caught.value.hint


def test_parts_must_be_a_list_of_names(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="a list of part names"):
        check_fault_kinds(read_experiment(_with_parts(tmp_path, "postgres")), "lab", "lab")


@pytest.mark.parametrize("kind", ["external", "containers", "kubernetes"])
def test_the_control_is_refused_off_the_lab(tmp_path: Path, kind: str) -> None:
    # Without the lab's own faults, so that only the control is what another target refuses.
    path = _with_parts(tmp_path, ["postgres"])
    document = yaml.safe_load(path.read_text())
    document["method"] = document["method"][1:2]  # a probe, no fault
    document["rollbacks"] = []
    document["extensions"][0]["remediation"] = []
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(InvalidInputError) as caught:
        check_fault_kinds(read_experiment(path), kind, "staging")
    assert "lab-parts control" in caught.value.message and kind in caught.value.message
    assert caught.value.hint and "remove the control" in caught.value.hint
