from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gameday.report.result_file import read_result
from gameday.report.targets import measure_rows
from gameday.runbook import parse_runbook

RUNBOOK = Path(__file__).resolve().parents[1] / "fixtures" / "runbook" / "lab-runbook.md"


def test_rows_pair_measurements_with_budgets(passed_dir: Path) -> None:
    rows = measure_rows(read_result(passed_dir))
    assert [(r.label, r.measured_s, r.budget_s) for r in rows] == [
        ("MTTD · RedisDown", 5.504, 15),
        ("MTTD · HighErrorRate", 6.932, 20),
        ("Time to notify · RedisDown", 5.459, 15),
        ("Time to notify · HighErrorRate", 6.749, 20),
        ("MTTR", 14.877, 60),
    ]
    assert all(r.within_budget for r in rows)
    assert all(r.target is None and r.within_target is None for r in rows)


def test_rows_carry_the_runbook_targets(passed_dir: Path) -> None:
    rows = measure_rows(read_result(passed_dir), parse_runbook(RUNBOOK))
    mttd, mttr = rows[0], rows[-1]
    assert mttd.target is not None and mttd.target.value == pytest.approx(120)
    assert mttr.target is not None and mttr.target.value == pytest.approx(600)
    assert mttd.within_target and mttr.within_target


def test_failed_budget_is_reported(failed_dir: Path) -> None:
    rows = measure_rows(read_result(failed_dir))
    redis = next(r for r in rows if r.label == "MTTD · RedisDown")
    assert (redis.measured_s, redis.budget_s, redis.within_budget) == (6.1, 2, False)


def _as_schema_1(document: dict[str, Any]) -> None:
    document["schema"] = "gameday.result/1"
    del document["measurements"]["budgets_s"]
    for expectation in document["expectations"]:
        expectation.pop("measure", None)


def test_result_of_schema_1_has_rows_without_budgets(passed_dir: Path) -> None:
    path = passed_dir / "result.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    _as_schema_1(document)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    rows = measure_rows(read_result(passed_dir))
    assert [(r.label, r.measured_s) for r in rows] == [
        ("MTTD · RedisDown", 5.504),
        ("MTTD · HighErrorRate", 6.932),
        ("Time to notify · RedisDown", 5.459),
        ("Time to notify · HighErrorRate", 6.749),
        ("MTTR", 14.877),
    ]
    assert all(r.budget_s is None and r.within_budget is None for r in rows)
