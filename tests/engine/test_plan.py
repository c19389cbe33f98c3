from pathlib import Path

import pytest

from gameday.engine.plan_runner import plan_status, validate_plan
from gameday.engine.runner import RunOptions
from gameday.errors import InvalidInputError
from gameday.experiment import is_plan, load_plan

REPO = Path(__file__).resolve().parents[2]


def test_the_sample_game_day_names_every_lab_experiment() -> None:
    plan = load_plan(REPO / "experiments/lab-gameday.yaml")
    names = {entry.path.name for entry in plan.entries}
    assert {"pod-kill.yaml", "pod-kill-single.yaml", "redis-down.yaml"} <= names
    assert plan.runbook is not None and plan.runbook.name == "runbook.md"
    assert all(entry.overrides["load"]["users"] >= 1 for entry in plan.entries)
    titles = validate_plan(plan, RunOptions())
    assert len(titles) == len(plan.entries)


def _plan(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text.replace("EXP", str(REPO / "experiments")))
    return path


def test_plan_load_is_the_default_and_entries_override_it(tmp_path: Path) -> None:
    path = _plan(
        tmp_path,
        "name: p\nload: {users: 5, spawn_rate: 5}\nexperiments:\n"
        "  - EXP/redis-down.yaml\n"
        "  - {path: EXP/pod-kill.yaml, overrides: {load: {users: 9}}}\n",
    )
    assert is_plan(path)
    first, second = load_plan(path).entries
    assert first.overrides["load"] == {"users": 5, "spawn_rate": 5}
    assert second.overrides["load"] == {"users": 9, "spawn_rate": 5}
    assert second.slug == "pod-kill"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: p\nexperiments: []\n", "plan.yaml:experiments: 'experiments' must be a non-empty"),
        ("name: p\ntarget: k8s\nexperiments: [EXP/redis-down.yaml]\n", "plan.yaml:target"),
        ("name: p\nexperiments: [missing.yaml]\n", "plan.yaml:experiments[0]: experiment"),
        ("name: p\nrunbook: nope.md\nexperiments: [EXP/redis-down.yaml]\n", "plan.yaml:runbook"),
        ("name: p\nexperiments: [{file: x}]\n", "plan.yaml:experiments[0]"),
    ],
)
def test_invalid_plans_name_the_place(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        load_plan(_plan(tmp_path, text))
    assert fragment in caught.value.message


def test_an_invalid_experiment_in_a_plan_is_named_with_the_plan_place(tmp_path: Path) -> None:
    path = _plan(
        tmp_path,
        "name: p\nexperiments:\n  - EXP/redis-down.yaml\n"
        "  - {path: EXP/pod-kill.yaml, overrides: {deadlines: {RedisDown: 3}}}\n",
    )
    with pytest.raises(InvalidInputError) as caught:
        validate_plan(load_plan(path), RunOptions())
    assert "plan.yaml:experiments[1]" in caught.value.message
    assert "RedisDown" in caught.value.message


def test_plan_status_precedence() -> None:
    assert plan_status(["passed", "failed", "passed"]) == "failed"
    assert plan_status(["failed", "error"]) == "error"
    assert plan_status(["passed", "interrupted", "error"]) == "interrupted"
    assert plan_status(["passed"]) == "passed"


def test_a_plan_target_inline_or_by_file_is_checked_against_every_experiment(
    tmp_path: Path,
) -> None:
    """Lab faults on a system that is not the lab are refused, with the plan's place;
    the plan's target may be a file (relative to the plan) or a mapping."""
    external = "{kind: external, prometheus: {url: 'http://127.0.0.1:9'}, allow: ['*']}"
    inline = _plan(tmp_path, f"name: p\ntarget: {external}\nexperiments: [EXP/redis-down.yaml]\n")
    with pytest.raises(InvalidInputError) as caught:
        validate_plan(load_plan(inline), RunOptions())
    assert "plan.yaml:experiments[0]" in caught.value.message
    assert "is a fault of gameday's lab" in caught.value.message
    (tmp_path / "staging.yaml").write_text(
        "kind: external\nprometheus: {url: 'ftp://x'}\nallow: []\n"
    )
    by_file = _plan(tmp_path, "name: p\ntarget: staging.yaml\nexperiments: [EXP/redis-down.yaml]\n")
    with pytest.raises(InvalidInputError) as bad_url:
        validate_plan(load_plan(by_file), RunOptions())
    assert "prometheus.url" in bad_url.value.message and "not an http(s) URL" in (
        bad_url.value.message
    )
