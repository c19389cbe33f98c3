from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gameday.cli.runbook import command
from gameday.errors import GamedayError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runbook"
SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


def _exit_code(result: Result) -> int:
    """The exit code `gameday.cli.main` gives: GamedayError → its exit_code."""
    if isinstance(result.exception, GamedayError):
        return result.exception.exit_code
    return result.exit_code


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(command, list(args), standalone_mode=False)


def test_show_text() -> None:
    result = _invoke("show", str(FIXTURES / "lab-runbook.md"))
    assert _exit_code(result) == 0, result.output
    out = result.output
    assert out.startswith("Checkout lab runbook")
    assert "Alerts (4)" in out
    assert "RedisDown" in out and "Redis down" in out
    assert "SLO targets (5)" in out
    assert "$ redis-cli -p 6379 PING" in out
    assert "Rollback triggers (3)" in out


def test_show_json() -> None:
    result = _invoke("show", "--json", str(FIXTURES / "lab-runbook.md"))
    data = json.loads(result.output)
    assert data["schema"] == "gameday.runbook/1"
    assert [a["name"] for a in data["alerts"]] == [
        "RedisDown",
        "ApiHighErrorRate",
        "ApiReplicasLow",
        "EtcdNoLeader",
    ]


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed runbooks not present at {SEEDS}")
@pytest.mark.parametrize(
    ("seed", "alerts"),
    [
        ("holograph-runbook.md", 4),
        ("verolux-runbooks-index.md", 8),
        ("creto-enablement-runbook.md", 17),
    ],
)
def test_show_seeds(seed: str, alerts: int) -> None:
    result = _invoke("show", str(SEEDS / seed))
    assert _exit_code(result) == 0
    assert f"Alerts ({alerts})" in result.output
    data = json.loads(_invoke("show", "--json", str(SEEDS / seed)).output)
    assert len(data["alerts"]) == alerts


@pytest.mark.parametrize("content", ["", "  \n", "\x00\x01binary"])
def test_malformed_runbook_exits_2(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.md"
    path.write_text(content)
    result = _invoke("show", str(path))
    assert _exit_code(result) == 2
    assert isinstance(result.exception, GamedayError)
    assert str(path) in result.exception.format()
    assert "hint:" in result.exception.format()


def test_page_without_alerts_is_reported_with_what_was_looked_for(tmp_path: Path) -> None:
    path = tmp_path / "title.md"
    path.write_text("# only a title\n")
    result = _invoke("show", str(path))
    assert _exit_code(result) == 0
    assert "Alerts (0)" in result.output
    assert "found no alerts; looked for an Alert column" in result.output


def test_missing_runbook_exits_2(tmp_path: Path) -> None:
    assert _exit_code(_invoke("show", str(tmp_path / "missing.md"))) == 2


def test_through_main_when_available(tmp_path: Path) -> None:
    pytest.importorskip("gameday.cli.lab", reason="gameday.cli.lab is not there yet")
    from gameday.cli.main import main

    path = tmp_path / "empty.md"
    path.write_text("")
    with pytest.raises(SystemExit) as caught:
        main(["runbook", "show", str(path)])
    assert caught.value.code == 2


def test_show_folder_prints_steps_and_marks_inferred() -> None:
    folder = Path(__file__).resolve().parents[1] / "runbook" / "corpus" / "payments-alerts"
    result = _invoke("show", str(folder))
    assert _exit_code(result) == 0, result.output
    out = result.output
    assert "Alerts (3)" in out
    assert "~PaymentsProviderErrors" in out  # the procedure is tied by section, not stated
    assert "[Mitigation]" in out
    assert "$ payctl failover --to acquirer-b" in out
