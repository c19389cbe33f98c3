from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gameday.report.charts import fault_windows, nice_ticks, timeline_chart
from gameday.report.result_file import read_result

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("low", "high", "count", "expected"),
    [
        (0, 23.6, 12, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]),
        (0, 1, 4, [0, 0.25, 0.5, 0.75, 1]),
        (0, 83.5, 4, [0, 25, 50, 75]),
    ],
)
def test_nice_ticks(low: float, high: float, count: int, expected: list[float]) -> None:
    assert nice_ticks(low, high, count) == expected


def test_nice_ticks_cover_the_range() -> None:
    assert nice_ticks(0, 83.5, 4, cover=True) == [0, 25, 50, 75, 100]
    assert nice_ticks(5, 5) == [5]


def test_fault_window_runs_from_fault_to_its_revert(passed_dir: Path) -> None:
    (window,) = fault_windows(read_result(passed_dir))
    assert (window.start_s, window.end_s) == (10.292, 18.563)
    assert window.detail == "stopped redis" and not window.open_ended


def test_fault_window_without_revert_runs_to_the_end(passed_dir: Path) -> None:
    result = read_result(passed_dir)
    result["timeline"] = [
        e
        for e in result["timeline"]
        if e["kind"] not in ("fault_reverted", "remediation_completed")
    ]
    (window,) = fault_windows(result)
    assert window.end_s == 25.371 and window.open_ended


def _chart(passed_dir: Path, **kwargs: float) -> ET.Element:
    return ET.fromstring(timeline_chart(read_result(passed_dir), **kwargs))


def test_chart_is_valid_svg_with_all_series(passed_dir: Path) -> None:
    svg = _chart(passed_dir)
    assert svg.tag == f"{SVG}svg"
    series = {p.get("data-series") for p in svg.iter(f"{SVG}path") if p.get("data-series")}
    assert series == {
        "client_error_ratio",
        "server_error_ratio",
        "client_p95_latency_s",
        "server_p95_latency_s",
        "client_requests_per_s",
        "server_requests_per_s",
    }
    panels = [g.get("data-panel") for g in svg.iter(f"{SVG}g") if g.get("data-panel")]
    assert panels == ["error_ratio", "p95_latency", "requests_per_s"]
    texts = " ".join("".join(t.itertext()) for t in svg.iter(f"{SVG}text"))
    assert "seconds since the run started" in texts
    assert "Error ratio (%)" in texts and "p95 latency (ms)" in texts
    assert "Request rate (req/s)" in texts


def test_chart_marks_the_events(passed_dir: Path) -> None:
    svg = _chart(passed_dir)
    kinds = [g.get("data-kind") for g in svg.iter(f"{SVG}g") if g.get("data-kind")]
    for kind in (
        "alert_pending",
        "alert_firing",
        "alert_resolved",
        "notified",
        "remediation_started",
        "remediation_completed",
        "slo_restored",
    ):
        assert kind in kinds
    windows = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "fault-window"]
    assert [(w.get("data-start-s"), w.get("data-end-s")) for w in windows] == [("10.292", "18.563")]
    assert "fault: stopped redis" in "".join(windows[0].itertext())


def test_chart_draws_the_runbook_error_target(passed_dir: Path) -> None:
    svg = _chart(passed_dir, error_target_ratio=0.01)
    targets = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "slo-target"]
    assert len(targets) == 1 and "SLO 1%" in "".join(targets[0].itertext())


def test_chart_without_samples_says_so(passed_dir: Path) -> None:
    result = read_result(passed_dir)
    result["series"] = {}
    svg = ET.fromstring(timeline_chart(result))
    assert not [p for p in svg.iter(f"{SVG}path") if p.get("data-series")]
    no_data = [t for t in svg.iter(f"{SVG}text") if t.get("class") == "no-data"]
    assert len(no_data) == 3


def test_chart_breaks_lines_at_bad_samples(passed_dir: Path) -> None:
    result = read_result(passed_dir)
    points = result["series"]["server_error_ratio"]
    points[5] = (points[5][0], float("nan"))
    svg = ET.fromstring(timeline_chart(result))
    (path,) = [p for p in svg.iter(f"{SVG}path") if p.get("data-series") == "server_error_ratio"]
    assert (path.get("d") or "").count("M") == 2
