from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gameday.cli.coverage import command
from gameday.errors import ExpectationFailed, GamedayError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runbook"
SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
LAB = [
    "--runbook",
    str(FIXTURES / "lab-runbook.md"),
    "--rules",
    str(FIXTURES / "rules" / "lab.yml"),
    "--experiments",
    str(FIXTURES / "experiments"),
    "--results",
    str(FIXTURES / "results"),
]


def _exit_code(result: Result) -> int:
    if isinstance(result.exception, GamedayError):
        return result.exception.exit_code
    return result.exit_code


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(command, list(args), standalone_mode=False)


def test_matrix_text() -> None:
    result = _invoke(*LAB)
    assert _exit_code(result) == 0
    out = result.output
    assert "warning:" in out and "broken" in out  # bad result.json is skipped, not fatal
    lines = out.splitlines()
    redis = next(line for line in lines if line.startswith("RedisDown"))
    assert "passed" in redis and "42.5s" in redis and redis.rstrip().endswith("ok")
    assert "Redis goes down under load (must not fire, fires, delivered → oncall-pager)" in redis
    assert "Gaps (6)" in out
    assert "- [no-rule] ApiReplicasLow: the runbook describes it but no rule defines it" in out
    assert "- [no-runbook] DiskFillingUp:" in out


def test_strict_exits_1_on_gaps() -> None:
    result = _invoke(*LAB, "--strict")
    assert isinstance(result.exception, ExpectationFailed)
    assert _exit_code(result) == 1
    assert "Gaps (6)" in result.output  # printed before failing


def test_strict_passes_without_gaps(tmp_path: Path) -> None:
    runbook = tmp_path / "r.md"
    runbook.write_text(
        "# R\n\n## Alerts\n\n| Alert | Severity |\n|---|---|\n| RedisDown | critical |\n"
    )
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: RedisDown\n        expr: redis_up == 0\n"
    )
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    (experiments / "e.yaml").write_text((FIXTURES / "experiments" / "redis-down.yaml").read_text())
    result = _invoke(
        "--runbook",
        str(runbook),
        "--rules",
        str(rules),
        "--experiments",
        str(experiments),
        "--strict",
    )
    assert _exit_code(result) == 0, result.output
    assert "No gaps" in result.output


def test_json() -> None:
    result = _invoke(*LAB, "--json")
    data = json.loads(result.output[result.output.index("{") :])
    assert data["summary"]["gaps"] == 6
    assert [row["alert"] for row in data["alerts"]][:2] == ["RedisDown", "ApiHighErrorRate"]


def test_bad_rules_exit_2() -> None:
    result = _invoke(
        "--runbook",
        str(FIXTURES / "lab-runbook.md"),
        "--rules",
        str(FIXTURES / "rules" / "broken.yml"),
    )
    assert _exit_code(result) == 2
    assert "broken.yml:line" in str(result.exception)


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed runbooks not present at {SEEDS}")
def test_creto_seed_matrix() -> None:
    result = _invoke(
        "--runbook",
        str(SEEDS / "creto-enablement-runbook.md"),
        "--experiments",
        str(FIXTURES / "seed-experiments"),
        "--json",
    )
    assert _exit_code(result) == 0
    data = json.loads(result.output)
    assert data["summary"]["alerts"] == 18
    assert data["summary"]["no-rule"] == 6
