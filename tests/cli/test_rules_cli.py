"""`gameday runbook rules` (a runbook's embedded rules as a rule file, optionally scaled) and
`gameday lab up --profile` refusing a bad profile before anything starts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from gameday.cli.lab import lab
from gameday.cli.runbook import command
from gameday.errors import GamedayError

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
CRETO = SEEDS / "creto-enablement-runbook.md"
needs_creto = pytest.mark.skipif(not CRETO.is_file(), reason=f"seed runbooks not at {SEEDS}")


def _exit_code(result: Result) -> int:
    if isinstance(result.exception, GamedayError):
        return result.exception.exit_code
    return result.exit_code


def _invoke(group: object, *args: str) -> Result:
    return CliRunner().invoke(group, list(args), standalone_mode=False)  # type: ignore[arg-type]


@needs_creto
def test_runbook_rules_writes_the_creto_rules_as_written_and_scaled(tmp_path: Path) -> None:
    output = tmp_path / "creto.yml"
    result = _invoke(command, "rules", str(CRETO), "-o", str(output), "--time-scale", "60")
    assert _exit_code(result) == 0, result.output
    text = output.read_text()
    assert text.startswith(f"# alert rules embedded in the runbook {CRETO}, as written")
    groups = yaml.safe_load(text)["groups"]
    assert [(g["name"], g.get("interval")) for g in groups] == [
        ("enablement_critical", "30s"),
        ("enablement_warnings", "60s"),
    ]
    rules = {rule["alert"]: rule for group in groups for rule in group["rules"]}
    assert len(rules) == 12
    assert rules["RedisDown"]["for"] == "1m"
    assert rules["RedisDown"]["labels"] == {"severity": "critical"}
    assert rules["RedisDown"]["annotations"]["summary"] == "Redis instance down"
    assert "for" not in rules["CertificateExpiring"]
    scaled = yaml.safe_load((tmp_path / "creto.scaled-60.yml").read_text())["groups"]
    assert [g["interval"] for g in scaled] == ["1s", "1s"]
    assert scaled[0]["rules"][0]["for"] == "5s"
    if shutil.which("promtool"):
        assert "promtool check rules: ok" in result.output
    assert "raised to 1s" in result.output


def test_runbook_rules_without_rules_is_invalid_input(tmp_path: Path) -> None:
    runbook = tmp_path / "runbook.md"
    runbook.write_text("# Runbook\n\n## RedisDown\n\n1. Restart redis: `systemctl restart redis`\n")
    result = _invoke(command, "rules", str(runbook), "-o", str(tmp_path / "out.yml"))
    assert _exit_code(result) == 2
    assert "holds no alert rules" in str(result.exception)
    assert not (tmp_path / "out.yml").exists()


def _profile(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "rules.yml").write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n"
    )
    path = tmp_path / "profile.yml"
    path.write_text(f"system: team\nrules: [rules.yml]\n{extra}")
    return path


def test_lab_up_refuses_a_bad_profile_key_with_exit_2(tmp_path: Path) -> None:
    profile = _profile(tmp_path, "time_scael: 60\n")
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "gameday.cli", "lab", "up", "--profile", str(profile)),
            *("--lab-dir", str(tmp_path / "lab"), "--base-port", "37800"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2, completed.stderr
    assert f"{profile}:time_scael: unknown key 'time_scael'" in completed.stderr
    assert "hint: a lab profile's keys:" in completed.stderr
    assert not (tmp_path / "lab").exists()  # refused before anything started


def test_lab_up_refuses_a_profile_and_rule_options_together(tmp_path: Path) -> None:
    profile = _profile(tmp_path, "time_scale: 60\n")
    result = _invoke(
        lab, "up", "--profile", str(profile), "--replace-lab-rules", "--lab-dir", str(tmp_path)
    )
    assert _exit_code(result) == 2
    assert "--profile already says" in str(result.exception)
    result = _invoke(lab, "up", "--map-label", "namespace=lab", "--lab-dir", str(tmp_path))
    assert _exit_code(result) == 2
    assert "LABEL:PRODUCTION=LAB" in str(result.exception)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="needs promtool")
def test_lab_up_refuses_a_range_too_short_at_the_time_scale(tmp_path: Path) -> None:
    rules = tmp_path / "team.yml"
    rules.write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: Flaps\n"
        "        expr: increase(restarts_total[1m]) > 2\n        for: 5m\n"
    )
    lab_dir = tmp_path / "lab"
    # nothing listens there: the refusal comes before anything starts
    args = ["up", "--rules", str(rules), "--time-scale", "60", "--lab-dir", str(lab_dir)]
    result = _invoke(lab, *args, "--base-port", "47800")
    assert _exit_code(result) == 2
    error = result.exception
    assert isinstance(error, GamedayError)
    assert str(rules) in error.message and "alert 'Flaps'" in error.message
    assert error.hint is not None and "largest time scale that works for 'Flaps' is 15" in (
        error.hint
    )
    assert not (lab_dir / "config" / "rules").exists()
