"""Measured times scaled back (×K) when the lab ran the rules in compressed time: shown in
the terminal, index.html and summary.md next to the lab's own figures; absent at K = 1 and
in results written before time scales existed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.report.conftest import edit_result

from gameday.model import Measurements
from gameday.report.directory import load_report_set
from gameday.report.markdown import render_summary
from gameday.report.page import render_html
from gameday.report.result_file import read_result, write_result
from gameday.report.terminal import summary_lines
from gameday.verify.estimates import with_production_estimate

MEASURED_LINE = (
    "  measured: MTTD RedisDown 5.5s · MTTD HighErrorRate 6.9s · notify RedisDown 5.5s · "
    "notify HighErrorRate 6.7s · MTTR 14.9s"
)
ESTIMATE_LINE = (
    "  production estimate (lab ran the rules 60× faster; the experiment's budgets are lab "
    "budgets, shown ×60): MTTD RedisDown 5m 30s (budget 15m 00s) · MTTD HighErrorRate "
    "6m 56s (budget 20m 00s) · notify RedisDown 5m 28s (budget 15m 00s) · notify "
    "HighErrorRate 6m 45s (budget 20m 00s) · MTTR 14m 53s (budget 1h 00m)"
)
HTML_LABEL = "production estimate (×60, the lab ran the rules in compressed time)"


def _scaled_by(time_scale: float) -> Any:
    def change(document: dict[str, Any]) -> None:
        measured: Measurements = document["measurements"]
        document["measurements"] = with_production_estimate(measured, time_scale)

    return change


@pytest.fixture
def compressed_dir(passed_dir: Path) -> Path:
    return edit_result(passed_dir, _scaled_by(60))


def test_result_json_keeps_k_and_the_estimate(compressed_dir: Path, tmp_path: Path) -> None:
    result = read_result(compressed_dir)
    measured = result["measurements"]
    assert measured["time_scale"] == 60.0
    assert measured["production_estimate_s"]["mttd_s"] == {
        "RedisDown": 330.24,
        "HighErrorRate": 415.92,
    }
    assert measured["production_estimate_s"]["mttr_s"] == 892.62
    assert measured["production_estimate_s"]["budgets_s"]["mttr_s"] == 3600.0
    assert measured["mttd_s"]["RedisDown"] == 5.504  # the lab's own figure is untouched
    write_result(tmp_path, result)
    assert read_result(tmp_path) == result
    assert json.loads((tmp_path / "result.json").read_text())["measurements"] == measured


def test_k1_results_have_no_estimate_keys(passed_dir: Path) -> None:
    edit_result(passed_dir, _scaled_by(1))
    measured = read_result(passed_dir)["measurements"]
    assert "time_scale" not in measured and "production_estimate_s" not in measured


def test_terminal_shows_the_estimate_under_the_measured_line(compressed_dir: Path) -> None:
    lines = summary_lines(read_result(compressed_dir), "r")
    at = lines.index(MEASURED_LINE)
    assert lines[at + 1] == ESTIMATE_LINE


def test_terminal_shows_no_estimate_at_k1_nor_for_older_results(passed_dir: Path) -> None:
    older = summary_lines(read_result(passed_dir), "r")  # a /2 result without the keys
    assert MEASURED_LINE in older
    assert not any("production estimate" in line for line in older)
    edit_result(passed_dir, _scaled_by(1))
    assert summary_lines(read_result(passed_dir), "r") == older


def test_terminal_shows_no_estimate_when_nothing_was_measured(errored_dir: Path) -> None:
    edit_result(errored_dir, _scaled_by(60))
    lines = summary_lines(read_result(errored_dir), "r")
    assert not any("measured" in line or "estimate" in line for line in lines)


def test_html_labels_the_estimate_next_to_the_lab_figures(compressed_dir: Path) -> None:
    html = render_html(load_report_set(compressed_dir))
    assert HTML_LABEL in html
    assert "<th class='num'>Measured on the lab</th>" in html
    assert "<th class='num'>Production estimate (×60)</th>" in html
    assert (
        "<td>MTTD · RedisDown</td><td class='num'>5.5s</td><td class='num'>15.0s</td>"
        "<td class='num estimate'>5m 30s <span class='dim'>of 15m 00s</span></td>" in html
    )
    assert "lab budgets" in html
    assert "lab rules 60× faster (compressed time)" in html
    assert "production estimate 6m 56s" in html  # the MTTD tile
    assert '<span class="pill ok">✓ budget</span>' in html  # the verdicts are the lab's


def test_html_shows_no_estimate_at_k1_nor_for_older_results(passed_dir: Path) -> None:
    older = render_html(load_report_set(passed_dir))
    shown = older[older.index("<body") :]  # the stylesheet names the classes either way
    assert "estimate" not in shown.lower() and "compressed" not in shown
    assert "<th class='num'>Measured</th>" in older
    edit_result(passed_dir, _scaled_by(1))
    assert render_html(load_report_set(passed_dir)) == older


def test_markdown_adds_the_estimate_below_the_table(compressed_dir: Path) -> None:
    lines = render_summary(load_report_set(compressed_dir)).splitlines()
    assert "MTTD and MTTR above are lab seconds." in lines
    [estimate] = [line for line in lines if line.startswith("> **Production estimate**")]
    assert estimate.startswith(
        "> **Production estimate** (×60, the lab ran the rules in compressed time; the "
        "experiment's budgets are lab budgets, shown ×60): MTTD RedisDown 5m 30s "
        "(budget 15m 00s) · "
    )
    assert estimate.endswith("MTTR 14m 53s (budget 1h 00m)")


def test_markdown_shows_no_estimate_at_k1_nor_for_older_results(passed_dir: Path) -> None:
    older = render_summary(load_report_set(passed_dir))
    assert "estimate" not in older.lower() and "lab seconds" not in older
    edit_result(passed_dir, _scaled_by(1))
    assert render_summary(load_report_set(passed_dir)) == older


def test_a_plan_names_the_compressed_experiment(plan_dir: Path) -> None:
    edit_result(plan_dir / "01-redis-down", _scaled_by(10))
    text = render_summary(load_report_set(plan_dir))
    [estimate] = [line for line in text.splitlines() if line.startswith("> **Production")]
    assert "(×10, " in estimate
    assert "): Redis down pages on-call and the restart restores the SLOs: MTTD RedisDown" in (
        estimate
    )
    html = render_html(load_report_set(plan_dir))
    assert html.count("production estimate (×10, the lab ran the rules in compressed time)") == 1
