"""The run's charts: client- and server-side error ratio, latency and request rate,
fetched from Prometheus once at the end of a run and kept in result.json, so a
report can be re-rendered later without Prometheus."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

import requests

from gameday.observe.prometheus import Prometheus
from gameday.verify.slo import objectives

logger = logging.getLogger("gameday.observe.series")
Points = list[tuple[float, float]]


def chart_queries(server_queries: Mapping[str, str] | None = None) -> dict[str, str]:
    """Series name → PromQL, for both sources (the server side from a target's own SLO
    queries when it has them; a series it has no query for is left out)."""
    wanted = {
        "error_ratio": {"error_ratio_max": 1.0},
        "p95_latency_s": {"latency_max_s": 1.0},
        "requests_per_s": {"throughput_min_rps": 0.0},
    }
    queries: dict[str, str] = {}
    for source in ("server", "client"):
        for name, asked in wanted.items():
            try:
                (objective,) = objectives(
                    source=source,
                    queries=server_queries if source == "server" else None,
                    **asked,
                )
            except ValueError:
                continue  # the target has no query for it
            queries[f"{source}_{name}"] = objective.expr
    return queries


def fetch_series(
    prometheus: Prometheus,
    start: datetime,
    end: datetime,
    server_queries: Mapping[str, str] | None = None,
) -> dict[str, Points]:
    """Every chart series over [start, end] at 1 s; a series that fails is left out."""
    found: dict[str, Points] = {}
    for name, query in chart_queries(server_queries).items():
        try:
            response = prometheus.get(
                "/api/v1/query_range",
                query=query,
                start=f"{start.timestamp():.3f}",
                end=f"{end.timestamp():.3f}",
                step="1",
            )
            result = response.json()["data"]["result"]
        except (requests.RequestException, KeyError, ValueError) as exc:
            logger.warning("could not fetch %s: %s", name, exc)
            continue
        points: Points = []
        for sample in result[:1]:
            for timestamp, value in sample["values"]:
                number = float(value)
                if number == number:  # drop NaN (no traffic at that instant)
                    points.append((round(float(timestamp), 3), number))
        found[name] = points
    return found
