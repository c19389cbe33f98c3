"""Lab profiles: every key read and checked (file, key, hint; exit 2); the rules they name are
rewritten into the lab directory with notes, beside copies of the originals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from gameday.errors import EXIT_INVALID_INPUT, InvalidInputError
from gameday.lab.config import LabConfig, LabPorts
from gameday.lab.profile import Adaptation, read_profile
from gameday.lab.team_rules import prepare_rules, read_rules_record, rules_dir

RULES = """\
groups:
  - name: team
    interval: 30s
    rules:
      - alert: RedisDown
        expr: redis_up{namespace="creto-enablement"} == 0
        for: 1m
        labels: {severity: critical}
      - alert: HighErrorRate
        expr: sum(rate(grpc_server_handled_total{grpc_code!="OK"}[5m])) > 0
        for: 5m
        labels: {severity: critical}
"""
PROFILE = """\
system: creto
rules: [rules/team.yml]
time_scale: 60
labels: {namespace: {creto-enablement: lab}}
replace_lab_rules: true
adapted:
  HighErrorRate:
    expr: 'sum(rate(gateway_requests_total{namespace="lab",code=~"5.."}[5m])) > 0'
    why: gRPC error counters answered by the gateway's HTTP counters
not_exercised:
  QuotaCheckSlow: no lab part exports metering_quota_check_duration_seconds
"""


@pytest.fixture
def profile_file(tmp_path: Path) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "team.yml").write_text(RULES)
    path = tmp_path / "creto.profile.yml"
    path.write_text(PROFILE)
    return path


def test_reads_every_key_with_paths_relative_to_the_file(profile_file: Path) -> None:
    profile = read_profile(profile_file)
    assert profile.system == "creto"
    assert profile.rule_files == ((profile_file.parent / "rules" / "team.yml").resolve(),)
    assert profile.time_scale == 60.0
    assert profile.labels == {"namespace": {"creto-enablement": "lab"}}
    assert profile.replace_lab_rules is True
    assert profile.adapted == {
        "HighErrorRate": Adaptation(
            expr='sum(rate(gateway_requests_total{namespace="lab",code=~"5.."}[5m])) > 0',
            why="gRPC error counters answered by the gateway's HTTP counters",
        )
    }
    assert profile.not_exercised == {
        "QuotaCheckSlow": "no lab part exports metering_quota_check_duration_seconds"
    }
    assert profile.source == profile_file.resolve()
    settings = profile.scale_settings()
    assert settings.time_scale == 60 and set(settings.adapted) == {"HighErrorRate"}
    assert profile.scale_settings(10).time_scale == 10


def _profile_with(profile_file: Path, **changes: object) -> Path:
    document = yaml.safe_load(profile_file.read_text())
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    profile_file.write_text(yaml.safe_dump(document))
    return profile_file


@pytest.mark.parametrize(
    ("changes", "where", "says"),
    [
        ({"time_sacle": 60}, "time_sacle", "unknown key 'time_sacle'"),
        ({"rules": None}, "rules", "'rules' is missing"),
        ({"rules": ["missing.yml"]}, "rules[0]", "not found"),
        ({"rules": ["runbook.md"]}, "rules[0]", "is a runbook"),
        ({"time_scale": 0.5}, "time_scale", "under 1"),
        ({"time_scale": "fast"}, "time_scale", "not a number"),
        ({"labels": {"namespace": "lab"}}, "labels.namespace", "must be a mapping"),
        ({"replace_lab_rules": "yes"}, "replace_lab_rules", "not true or false"),
        ({"adapted": {"A": {"expr": "up", "reason": "x"}}}, "adapted.A.reason", "unknown key"),
        ({"adapted": {"A": {"expr": "up"}}}, "adapted.A", "'why' is missing"),
        ({"adapted": {"A": {"expr": "rate(x[5m)", "why": "x"}}}, "adapted.A.expr", "not PromQL"),
        ({"not_exercised": {"A": ""}}, "not_exercised.A", "must not be empty"),
    ],
)
def test_every_mistake_names_the_file_and_key(
    profile_file: Path, changes: dict[str, object], where: str, says: str
) -> None:
    path = _profile_with(profile_file, **changes)
    with pytest.raises(InvalidInputError) as caught:
        read_profile(path)
    error = caught.value
    assert error.exit_code == EXIT_INVALID_INPUT
    assert (error.source, error.where) == (str(path), where)
    assert says in error.message and error.hint


@pytest.mark.skipif(shutil.which("promtool") is None, reason="needs promtool")
def test_the_lab_keeps_the_originals_and_their_scaled_form_with_notes(
    profile_file: Path, tmp_path: Path
) -> None:
    profile = read_profile(profile_file)
    config = profile.lab_config(tmp_path / "lab", LabPorts.from_base(47800))
    assert (config.time_scale, config.system, config.replace_lab_rules) == (60, "creto", True)
    assert config.label_values == profile.labels and set(config.adapted_exprs) == {"HighErrorRate"}
    record = prepare_rules(config)
    directory = rules_dir(config)
    scaled = directory / "team.scaled-60.yml"
    assert (directory / "team.yml").read_text() == RULES
    assert record["files"] == [{"source": str(profile.rule_files[0]), "loaded": str(scaled)}]
    text = scaled.read_text()
    assert text.startswith("# team.yml's rules rewritten by gameday for the lab")
    assert "time scale 60" in text and "namespace mapped" in text and "HighErrorRate" in text
    rules = yaml.safe_load(text)["groups"][0]["rules"]
    assert rules[0]["for"] == "1s" and rules[0]["expr"] == 'redis_up{namespace="lab"} == 0'
    assert "gateway_requests_total" in rules[1]["expr"] and "[5s]" in rules[1]["expr"]
    assert record["notes"] == [
        "team.yml: group 'team': interval 30s ÷ 60 = 500ms is under the lab's evaluation "
        "interval; raised to 1s"
    ]
    assert read_rules_record(config) == record
    assert (record["system"], record["time_scale"], record["replace_lab_rules"]) == (
        "creto",
        60,
        True,
    )
    # saved and loaded with the lab
    config.save()
    assert LabConfig.load(config.config_file) == config


def test_what_the_lab_cannot_apply_is_refused(profile_file: Path, tmp_path: Path) -> None:
    base = LabConfig(directory=tmp_path / "lab", ports=LabPorts.from_base(47800))
    with pytest.raises(InvalidInputError, match="no rule file is given"):
        prepare_rules(LabConfig(directory=base.directory, ports=base.ports, replace_lab_rules=True))
    with pytest.raises(InvalidInputError, match="none is given"):
        prepare_rules(LabConfig(directory=base.directory, ports=base.ports, time_scale=60))
    if shutil.which("promtool") is None:
        return
    with pytest.raises(InvalidInputError, match="adapted alert 'Nope'") as caught:
        prepare_rules(
            LabConfig(
                directory=base.directory,
                ports=base.ports,
                extra_rule_files=read_profile(profile_file).rule_files,
                adapted_exprs={"Nope": "up"},
            )
        )
    assert caught.value.where == "adapted.Nope"
