from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gameday.cli.tabletop import command
from gameday.errors import GamedayError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runbook"
SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


def _exit_code(result: Result) -> int:
    if isinstance(result.exception, GamedayError):
        return result.exception.exit_code
    return result.exit_code


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(command, list(args), standalone_mode=False)


def test_plan_to_stdout_uses_the_plans_runbook(tmp_path: Path) -> None:
    result = _invoke(
        str(FIXTURES / "plans" / "gameday.yaml"), "--results", str(FIXTURES / "results")
    )
    assert _exit_code(result) == 0, result.output
    assert "# Tabletop exercise: Checkout game day" in result.output
    assert "## Scenario 2: Two API replicas die" in result.output
    assert "### What the automated run measured" in result.output


def test_output_writes_markdown_and_html(tmp_path: Path) -> None:
    target = tmp_path / "out" / "script.md"
    result = _invoke(
        str(FIXTURES / "experiments" / "redis-down.yaml"),
        "--runbook",
        str(FIXTURES / "lab-runbook.md"),
        "-o",
        str(target),
    )
    assert _exit_code(result) == 0, result.output
    assert sorted(p.name for p in target.parent.iterdir()) == ["script.html", "script.md"]
    assert target.read_text().startswith("# Tabletop exercise: Redis goes down under load")
    page = (tmp_path / "out" / "script.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<table>" in page and "<script" not in page


def test_experiment_without_runbook_exits_2() -> None:
    result = _invoke(str(FIXTURES / "experiments" / "redis-down.yaml"))
    assert _exit_code(result) == 2
    assert "no runbook given" in str(result.exception)


def test_not_a_scenario_exits_2() -> None:
    result = _invoke(
        str(FIXTURES / "experiments" / "not-an-experiment.yaml"),
        "--runbook",
        str(FIXTURES / "lab-runbook.md"),
    )
    assert _exit_code(result) == 2


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed runbooks not present at {SEEDS}")
def test_seed_runbook(tmp_path: Path) -> None:
    result = _invoke(
        str(FIXTURES / "seed-experiments" / "creto-redis-down.yaml"),
        "--runbook",
        str(SEEDS / "creto-enablement-runbook.md"),
    )
    assert _exit_code(result) == 0
    assert "#### 6.2 Error Rate Spikes" in result.output
