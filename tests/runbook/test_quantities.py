from __future__ import annotations

import pytest

from gameday.runbook.quantities import (
    Quantity,
    parse_duration,
    parse_quantile,
    parse_quantity,
    threshold_in,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("<5 min", 300.0),
        ("15-minute", 900.0),
        ("1-hour response", 3600.0),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("24 hours", 86400.0),
        ("Real-time", 0.0),
        ("immediate", 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_parse_duration(text: str | None, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("99.9%", Quantity(None, 0.999, "ratio")),
        ("<100ms", Quantity("<", 0.1, "s")),
        ("≤ 2 s", Quantity("<=", 2.0, "s")),
        ("> 10,000", Quantity(">", 10000.0, None)),
    ],
)
def test_parse_quantity(text: str, quantity: Quantity) -> None:
    assert parse_quantity(text) == quantity


def test_parse_quantile() -> None:
    assert parse_quantile("Latency (P95)") == 0.95
    assert parse_quantile("p99.9 latency") == 0.999
    assert parse_quantile("latency") is None


def test_threshold_in() -> None:
    assert threshold_in("GPU utilization > 95%") == "GPU utilization > 95%"
    assert threshold_in("The p95 FPS is below 55.") == "< 55"
    assert threshold_in("exceeded the safe threshold of 10") == "> 10"
    assert threshold_in("Camera disconnected") is None
