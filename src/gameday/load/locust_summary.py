"""Locust's final figures (its --json-file stats, the master's with workers) reduced to the
run's totals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gameday.model import LoadSummary


def _percentile(response_times: dict[str, int], fraction: float) -> float | None:
    total = sum(response_times.values())
    if total == 0:
        return None
    threshold = fraction * total
    seen = 0
    for value, count in sorted(((float(k), v) for k, v in response_times.items())):
        seen += count
        if seen >= threshold:
            return value
    return None


def summarise(
    stats_path: Path, users: int, elapsed_s: float, *, workers: int = 0
) -> LoadSummary | None:
    """Locust's --json-file stats (one entry per endpoint) reduced to the run's totals."""
    try:
        entries: list[dict[str, Any]] = json.loads(stats_path.read_text())
    except (OSError, ValueError):
        return None
    merged: dict[str, int] = {}
    for entry in entries:
        for value, count in entry.get("response_times", {}).items():
            merged[value] = merged.get(value, 0) + int(count)
    requests_total = sum(int(e.get("num_requests", 0)) for e in entries)
    failures = sum(int(e.get("num_failures", 0)) for e in entries)
    starts = [e["start_time"] for e in entries if e.get("start_time")]
    ends = [e["last_request_timestamp"] for e in entries if e.get("last_request_timestamp")]
    span = (max(ends) - min(starts)) if starts and ends else elapsed_s
    return LoadSummary(
        requests=requests_total,
        failures=failures,
        requests_per_s=round(requests_total / span, 1) if span > 0 else 0.0,
        p50_ms=_percentile(merged, 0.5),
        p95_ms=_percentile(merged, 0.95),
        users=users,
        workers=workers,
    )
