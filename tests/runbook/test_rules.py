from __future__ import annotations

from pathlib import Path

import pytest

from gameday.errors import InvalidInputError
from gameday.runbook import load_rule_file

RULES = Path(__file__).resolve().parents[1] / "fixtures" / "runbook" / "rules"


def test_loads_alert_rules_and_skips_recording_rules() -> None:
    rules = load_rule_file(RULES / "lab.yml")
    assert [r.name for r in rules] == [
        "RedisDown",
        "ApiHighErrorRate",
        "EtcdNoLeader",
        "DiskFillingUp",
    ]
    redis = rules[0]
    assert (redis.expr, redis.for_, redis.severity, redis.group) == (
        "redis_up == 0",
        "30s",
        "critical",
        "lab",
    )
    assert redis.annotations == {"summary": "Redis is down"}
    assert redis.source == str(RULES / "lab.yml")
    assert redis.line == 4
    assert redis.to_dict()["for"] == "30s"


def test_bad_yaml_names_the_place() -> None:
    with pytest.raises(InvalidInputError) as caught:
        load_rule_file(RULES / "broken.yml")
    error = caught.value
    assert error.exit_code == 2
    assert error.source == str(RULES / "broken.yml")
    assert error.where is not None and error.where.startswith("line ")
    assert "not valid YAML" in error.message


def test_wrong_shape() -> None:
    with pytest.raises(InvalidInputError) as caught:
        load_rule_file(RULES / "wrong-shape.yml")
    assert "groups" in caught.value.message
    assert caught.value.hint and "groups:" in caught.value.hint


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("", "line 1"),
        ("groups: 3\n", "groups"),
        ("groups:\n  - 1\n", "groups[0]"),
        ("groups:\n  - name: g\n    rules: {a: 1}\n", "groups[0].rules"),
        ("groups:\n  - name: g\n    rules:\n      - expr: up\n", "groups[0].rules[0]"),
        ("groups:\n  - name: g\n    rules:\n      - alert: ''\n", "groups[0].rules[0]"),
    ],
)
def test_shape_errors_say_where(tmp_path: Path, content: str, where: str) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(content)
    with pytest.raises(InvalidInputError) as caught:
        load_rule_file(path)
    assert caught.value.where == where


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not found"):
        load_rule_file(tmp_path / "missing.yml")
