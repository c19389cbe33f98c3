"""The run's charts: client- and server-side error ratio, latency and request rate,
fetched from Prometheus once at the end of a run and kept in result.json, so a
report can be re-rendered later without Prometheus."""

from __future__ import annotations

import logging
from datetime import datetime

import requests

from gameday.observe.prometheus import Prometheus
from gameday.verify.slo import objectives

logger = logging.getLogger("gameday.observe.series")
Points = list[tuple[float, float]]


def chart_queries() -> dict[str, str]:
    """Series name → PromQL, for both sources."""
    queries: dict[str, str] = {}
    for source in ("server", "client"):
        ratio, latency, rate = objectives(
            source=source,
            error_ratio_max=1.0,
            latency_max_s=1.0,
            throughput_min_rps=0.0,
        )
        queries[f"{source}_error_ratio"] = ratio.expr
        queries[f"{source}_p95_latency_s"] = latency.expr
        queries[f"{source}_requests_per_s"] = rate.expr
    return queries


def fetch_series(prometheus_url: str, start: datetime, end: datetime) -> dict[str, Points]:
    """Every chart series over [start, end] at 1 s; a series that fails is left out."""
    prometheus = Prometheus(prometheus_url)
    found: dict[str, Points] = {}
    for name, query in chart_queries().items():
        try:
            response = requests.get(
                f"{prometheus.url}/api/v1/query_range",
                params={
                    "query": query,
                    "start": f"{start.timestamp():.3f}",
                    "end": f"{end.timestamp():.3f}",
                    "step": "1",
                },
                timeout=10,
            )
            response.raise_for_status()
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
