"""The lab's alert rules pass promtool's checks and unit tests, and the checks can fail."""

from pathlib import Path

import pytest
import yaml

from gameday.errors import InvalidInputError
from gameday.lab import monitoring


def test_lab_rules_pass_promtool_check() -> None:
    monitoring.check_rule_files(monitoring.lab_rule_files())


def test_lab_rules_pass_their_promtool_unit_tests() -> None:
    output = monitoring.run_rule_unit_tests(monitoring.lab_rule_test_files())
    assert "SUCCESS" in output


def test_every_lab_rule_has_a_unit_test_and_runbook_annotations() -> None:
    rules = [
        rule
        for path in monitoring.lab_rule_files()
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]
    tested = {
        case["alertname"]
        for path in monitoring.lab_rule_test_files()
        for test in yaml.safe_load(path.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    for rule in rules:
        assert rule["alert"] in tested, f"{rule['alert']} has no firing promtool test"
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert {"summary", "description", "runbook"} <= set(rule["annotations"])
        assert rule["annotations"]["runbook"].startswith("runbook.md#")


def test_a_failing_promtool_unit_test_is_reported_even_when_promtool_exits_zero(
    tmp_path: Path,
) -> None:
    for path in monitoring.lab_rule_files():
        (tmp_path / path.name).write_text(path.read_text())
    lab_tests = next(p for p in monitoring.lab_rule_test_files() if p.name == "lab.rules.test.yml")
    document = yaml.safe_load(lab_tests.read_text())
    wrong = document["tests"][0]["alert_rule_test"][1]
    wrong["exp_alerts"][0]["exp_labels"]["severity"] = "warning"  # the rule says critical
    broken = tmp_path / "broken.rules.test.yml"
    broken.write_text(yaml.safe_dump(document))
    with pytest.raises(InvalidInputError, match="FAILED"):
        monitoring.run_rule_unit_tests([broken])


def test_a_user_rule_file_promtool_rejects_is_refused_with_its_name(tmp_path: Path) -> None:
    bad = tmp_path / "team.rules.yml"
    bad.write_text("groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up ==\n")
    with pytest.raises(InvalidInputError) as caught:
        monitoring.check_rule_files([bad])
    assert str(bad) in caught.value.message
    assert caught.value.exit_code == 2


def test_a_missing_user_rule_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not found"):
        monitoring.check_rule_files([tmp_path / "absent.yml"])
