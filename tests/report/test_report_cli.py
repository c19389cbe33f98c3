"""`gameday report` (src/gameday/cli/report.py)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from gameday.cli.report import command
from gameday.errors import GamedayError

RUNBOOK = Path(__file__).resolve().parents[1] / "fixtures" / "runbook" / "lab-runbook.md"


def _exit_code(result: Result) -> int:
    """The exit code `gameday.cli.main` gives: GamedayError → its exit_code."""
    if isinstance(result.exception, GamedayError):
        return result.exception.exit_code
    return result.exit_code


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(command, list(args), standalone_mode=False)


def test_prints_the_paths_it_wrote(passed_dir: Path) -> None:
    result = _invoke(str(passed_dir))
    assert _exit_code(result) == 0, result.output
    assert result.output.splitlines() == [
        str(passed_dir / "index.html"),
        str(passed_dir / "summary.md"),
        str(passed_dir / "junit.xml"),
    ]


def test_runbook_option(passed_dir: Path) -> None:
    result = _invoke(str(passed_dir), "--runbook", str(RUNBOOK))
    assert _exit_code(result) == 0, result.output
    assert "Runbook target" in (passed_dir / "index.html").read_text(encoding="utf-8")


def test_plan_runbook_is_used_by_default(plan_dir: Path) -> None:
    path = plan_dir / "plan-result.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["plan"]["runbook"] = str(RUNBOOK)
    path.write_text(json.dumps(document), encoding="utf-8")
    result = _invoke(str(plan_dir))
    assert _exit_code(result) == 0, result.output
    assert "Runbook target" in (plan_dir / "index.html").read_text(encoding="utf-8")


def test_missing_directory_exits_2(tmp_path: Path) -> None:
    result = _invoke(str(tmp_path / "missing"))
    assert _exit_code(result) == 2
    assert isinstance(result.exception, GamedayError)
    assert "not a directory" in result.exception.message


def test_invalid_result_exits_2(tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text('{"schema": "nope"}', encoding="utf-8")
    result = _invoke(str(tmp_path))
    assert _exit_code(result) == 2
