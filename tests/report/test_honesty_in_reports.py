"""Reports say what was not credited to the fault and which stop condition ended a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.report.conftest import copy_run, edit_result

from gameday.report.directory import load_report_set
from gameday.report.markdown import render_summary
from gameday.report.page import render_html
from gameday.report.result_file import read_result
from gameday.report.terminal import summary_lines


def _aborted_with_a_noisy_start(document: dict[str, Any]) -> None:
    timeline = document["timeline"]
    fault = next(i for i, e in enumerate(timeline) if e["kind"] == "fault_applied")
    at = timeline[fault]["at"]
    timeline.insert(
        fault + 1,
        {
            "at": at,
            "elapsed_s": timeline[fault]["elapsed_s"],
            "kind": "alert_active_at_fault",
            "detail": "HighLatency already firing 42.0s before the fault",
            "data": {"alert": "HighLatency", "state": "firing", "before_s": 42.0},
        },
    )
    timeline.insert(
        fault + 2,
        {
            "at": at,
            "elapsed_s": timeline[fault]["elapsed_s"] + 1,
            "kind": "stop_condition_tripped",
            "detail": "checkout error budget: value 0.2 for 10.0s",
            "data": {"value": 0.2},
        },
    )
    document["status"] = "aborted"


def test_reports_name_the_stop_condition_and_what_was_not_credited(tmp_path: Path) -> None:
    run = edit_result(copy_run(tmp_path / "run"), _aborted_with_a_noisy_start)
    lines = summary_lines(read_result(run), str(run))
    assert "  STOP  stop condition tripped: checkout error budget: value 0.2 for 10.0s" in lines
    assert (
        "  note  not credited to the fault: HighLatency already firing 42.0s before the fault"
        in lines
    )
    assert lines[-1].startswith("verdict: ABORTED by a stop condition (rolled back)")
    report = load_report_set(run)
    html = render_html(report)
    assert "Already active at the fault (not credited to it)" in html
    assert "HighLatency already firing 42.0s before the fault" in html
    assert "run aborted: checkout error budget: value 0.2 for 10.0s" in html
    assert "🛑" in render_summary(report)
