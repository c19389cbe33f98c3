from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameday.errors import InvalidInputError
from gameday.report.directory import load_report_set


def test_single_run(passed_dir: Path) -> None:
    report = load_report_set(passed_dir)
    assert report.plan is None
    assert report.status == "passed"
    assert report.title == "Redis down pages on-call and the restart restores the SLOs"
    assert [e.prefix for e in report.experiments] == [""]
    assert report.expectation_counts() == (8, 8)
    assert report.duration_s == pytest.approx(25.372, abs=0.01)
    assert report.experiments[0].problem() is None


def test_plan(plan_dir: Path) -> None:
    report = load_report_set(plan_dir)
    assert report.plan is not None and report.plan["name"] == "Lab game day"
    assert report.status == "failed"
    assert [e.status for e in report.experiments] == [
        "passed",
        "failed",
        "passed",
        "error",
        "skipped",
    ]
    assert report.experiments[1].prefix == "02-redis-down-tight-budget/"
    assert report.experiments[4].result is None and report.experiments[4].skipped
    assert report.experiments[3].problem() == (
        "run error: prometheus at http://127.0.0.1:17890 did not answer within 5s"
    )
    assert report.expectation_counts() == (23, 24)
    assert len({e.anchor for e in report.experiments}) == 5


def test_missing_directory_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        load_report_set(tmp_path / "nowhere")
    assert caught.value.exit_code == 2
    assert "not a directory" in caught.value.message


def test_empty_directory_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"no result\.json or plan-result\.json"):
        load_report_set(tmp_path)


def test_result_that_is_not_json(tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        load_report_set(tmp_path)


def test_plan_with_wrong_schema(tmp_path: Path) -> None:
    (tmp_path / "plan-result.json").write_text('{"schema": "other/1"}', encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"not a gameday plan result"):
        load_report_set(tmp_path)


def test_plan_directory_outside_the_report_is_refused(plan_dir: Path) -> None:
    path = plan_dir / "plan-result.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["experiments"][0]["dir"] = "../elsewhere"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InvalidInputError, match="outside the report directory") as caught:
        load_report_set(plan_dir)
    assert "experiments[0].dir" in caught.value.message
