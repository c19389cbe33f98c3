"""Bad input never gives a traceback: experiments, plans, rule files and overrides,
mutated, truncated, of the wrong types, as YAML bombs, with huge numbers or binary
junk, are read as gameday reads them before a run and either pass or are refused
with InvalidInputError (exit 2) naming the file."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gameday.errors import InvalidInputError
from gameday.experiment import check_experiment, load_plan, read_experiment
from gameday.experiment.overrides import apply_overrides, check_overrides
from gameday.runbook import load_rule_file

REPO = Path(__file__).resolve().parents[2]
EXPERIMENTS = sorted((REPO / "experiments").glob("*.yaml"))
SHIPPED = {
    path.name: yaml.safe_load(path.read_text())
    for path in EXPERIMENTS
    if path.name != "lab-gameday.yaml"
}
RULES = REPO / "src" / "gameday" / "lab" / "assets" / "rules" / "lab.rules.yml"
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, item in node.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _paths(item, (*prefix, index))
    return found


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    changed = copy.deepcopy(document)
    node = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


def _read_as_a_run_does(path: Path) -> None:
    try:
        check_experiment(read_experiment(path))
    except InvalidInputError as exc:
        assert exc.exit_code == 2
        assert str(path) in exc.message


@FUZZ
@given(name=st.sampled_from(sorted(SHIPPED)), choice=st.integers(min_value=0), value=values)
def test_a_mutated_experiment_passes_or_is_refused(
    tmp_path: Path, name: str, choice: int, value: Any
) -> None:
    document = SHIPPED[name]
    places = _paths(document)
    mutated = _replaced(document, places[choice % len(places)], value)
    path = tmp_path / "mutated.yaml"
    path.write_text(yaml.safe_dump(mutated, allow_unicode=True))
    _read_as_a_run_does(path)


@FUZZ
@given(name=st.sampled_from([p.name for p in EXPERIMENTS]), cut=st.integers(min_value=0))
def test_a_truncated_file_passes_or_is_refused(tmp_path: Path, name: str, cut: int) -> None:
    text = (REPO / "experiments" / name).read_bytes()
    path = tmp_path / name
    path.write_bytes(text[: cut % max(1, len(text))])
    if name == "lab-gameday.yaml":
        try:
            load_plan(path)
        except InvalidInputError as exc:
            assert str(path) in exc.message
    else:
        _read_as_a_run_does(path)


@FUZZ
@given(junk=st.binary(min_size=1, max_size=200))
def test_binary_junk_is_refused_everywhere(tmp_path: Path, junk: bytes) -> None:
    path = tmp_path / "junk.yaml"
    path.write_bytes(junk)
    for read in (read_experiment, load_plan, load_rule_file):
        try:
            read(path)
        except InvalidInputError as exc:
            assert str(path) in exc.message


@FUZZ
@given(document=values)
def test_any_document_as_a_plan_or_rule_file(tmp_path: Path, document: Any) -> None:
    path = tmp_path / "any.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    for read in (load_plan, load_rule_file, read_experiment):
        try:
            read(path)
        except InvalidInputError as exc:
            assert exc.exit_code == 2


@FUZZ
@given(overrides=values)
def test_any_overrides_are_checked_before_they_are_applied(overrides: Any) -> None:
    try:
        checked = check_overrides(overrides, source="plan.yaml", where="experiments[0].overrides")
        apply_overrides(SHIPPED["redis-down.yaml"], checked)
    except InvalidInputError as exc:
        assert exc.exit_code == 2


@FUZZ
@given(value=st.one_of(scalars, st.just(10**400), st.just("1e999")))
def test_huge_or_odd_deadlines_are_refused_or_taken(tmp_path: Path, value: Any) -> None:
    document = copy.deepcopy(SHIPPED["redis-down.yaml"])
    document["method"][1]["provider"]["arguments"]["within_s"] = value
    path = tmp_path / "deadline.yaml"
    path.write_text(yaml.safe_dump(document))
    _read_as_a_run_does(path)


NASTY = {
    "bomb.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    + "method: *i\n",
    "self.yaml": "method: &m [*m]\n",
    "deep.yaml": "method: " + "[" * 5000 + "]" * 5000 + "\n",
    "date.yaml": "title: x\nmethod: []\nwhen: 2026-13-45\n",
    "nul.yaml": "title: x\x00\nmethod: []\n",
}


@pytest.mark.parametrize("name", sorted(NASTY))
def test_nasty_files_get_exit_2_from_validate_before_anything_runs(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_text(NASTY[name])
    completed = subprocess.run(
        [sys.executable, "-m", "gameday.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert completed.stderr.startswith(f"error: {path}"), completed.stderr
    assert "Traceback" not in completed.stderr and "internal error" not in completed.stderr


def test_the_rules_file_survives_mutation_of_every_rule_field(tmp_path: Path) -> None:
    document = yaml.safe_load(RULES.read_text())
    for place in _paths(document)[:80]:
        for value in (None, 3, [], {"x": 1}, "??"):
            path = tmp_path / "rules.yml"
            path.write_text(yaml.safe_dump(_replaced(document, place, value)))
            try:
                load_rule_file(path)
            except InvalidInputError as exc:
                assert str(path) in exc.message
