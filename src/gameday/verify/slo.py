"""SLO objectives as PromQL, server-side (the gateway's metrics) or client-side (Locust's).

An objective "holds over a window" when its worst value over that window,
sampled every second, is within the target: `max_over_time(expr[W:1s])` for an
upper bound, `min_over_time` for a lower one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Source = Literal["server", "client"]
Bound = Literal["max", "min"]
RATE_WINDOW_S = 3  # short: 3 samples at the lab's 1 s scrape; recovery shows within seconds
RATE_WINDOW = f"{RATE_WINDOW_S}s"


@dataclass(frozen=True)
class SeriesNames:
    requests: str
    error_selector: str
    duration_buckets: str


SERIES: dict[Source, SeriesNames] = {
    "server": SeriesNames(
        requests="gateway_requests_total",
        error_selector='code=~"5.."',
        duration_buckets="gateway_request_duration_seconds_bucket",
    ),
    "client": SeriesNames(
        requests="locust_requests_total",
        error_selector='result="failure"',
        duration_buckets="locust_request_duration_seconds_bucket",
    ),
}


@dataclass(frozen=True)
class Objective:
    """One SLO: a name, the PromQL of its current value, the target and its direction."""

    name: str
    expr: str
    target: float
    bound: Bound
    unit: str

    def over_window(self, window_s: float) -> str:
        function = "max_over_time" if self.bound == "max" else "min_over_time"
        return f"{function}(({self.expr})[{int(window_s)}s:1s])"

    def met_by(self, value: float) -> bool:
        return value <= self.target if self.bound == "max" else value >= self.target

    def describe(self, value: float | None = None) -> str:
        sign = "<=" if self.bound == "max" else ">="
        shown = "no data" if value is None else _format(value, self.unit)
        return f"{self.name} {shown} (target {sign} {_format(self.target, self.unit)})"


def _format(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value * 100:.2f}%"
    if unit == "s":
        return f"{value * 1000:.0f}ms"
    return f"{value:.1f}{unit}"


def latency_key(quantile: float) -> str:
    """The name of a target's SLO query for this latency quantile: latency_p95_s, …"""
    return f"latency_p{quantile * 100:g}_s"


def _own(
    queries: Mapping[str, str], key: str, source: Source, target: float, bound: Bound, unit: str
) -> Objective:
    if key not in queries:
        known = ", ".join(sorted(queries)) or "none"
        raise ValueError(
            f"no SLO query {key!r} for this objective (the target's slo: or the probe's "
            f"queries: give {known})"
        )
    name = {"error_ratio": "error ratio", "requests_per_s": "throughput"}.get(key)
    label = name or f"p{key[len('latency_p') : -len('_s')]} latency"
    return Objective(f"{source} {label}", queries[key], target, bound, unit)


def objectives(
    *,
    source: Source = "server",
    error_ratio_max: float | None = None,
    latency_quantile: float = 0.95,
    latency_max_s: float | None = None,
    throughput_min_rps: float | None = None,
    queries: Mapping[str, str] | None = None,
) -> list[Objective]:
    """The objectives asked for; raise ValueError when none is. With `queries` (a
    target's own SLO PromQL by name: error_ratio, latency_p95_s, requests_per_s), those
    expressions are the objectives' values instead of the lab gateway's metrics."""
    if queries:
        return _from_queries(
            queries, source, error_ratio_max, latency_quantile, latency_max_s, throughput_min_rps
        )
    names = SERIES[source]
    found: list[Objective] = []
    if error_ratio_max is not None:
        total = f"sum(rate({names.requests}[{RATE_WINDOW}]))"
        errors = f"sum(rate({names.requests}{{{names.error_selector}}}[{RATE_WINDOW}]))"
        found.append(
            Objective(
                f"{source} error ratio",
                f"(({errors}) or vector(0)) / {total}",
                error_ratio_max,
                "max",
                "ratio",
            )
        )
    if latency_max_s is not None:
        found.append(
            Objective(
                f"{source} p{latency_quantile * 100:g} latency",
                f"histogram_quantile({latency_quantile}, "
                f"sum by (le) (rate({names.duration_buckets}[{RATE_WINDOW}])))",
                latency_max_s,
                "max",
                "s",
            )
        )
    if throughput_min_rps is not None:
        found.append(
            Objective(
                f"{source} throughput",
                f"sum(rate({names.requests}[{RATE_WINDOW}]))",
                throughput_min_rps,
                "min",
                " req/s",
            )
        )
    return _some(found)


def _from_queries(
    queries: Mapping[str, str],
    source: Source,
    error_ratio_max: float | None,
    latency_quantile: float,
    latency_max_s: float | None,
    throughput_min_rps: float | None,
) -> list[Objective]:
    found: list[Objective] = []
    if error_ratio_max is not None:
        found.append(_own(queries, "error_ratio", source, error_ratio_max, "max", "ratio"))
    if latency_max_s is not None:
        key = latency_key(latency_quantile)
        found.append(_own(queries, key, source, latency_max_s, "max", "s"))
    if throughput_min_rps is not None:
        found.append(_own(queries, "requests_per_s", source, throughput_min_rps, "min", " req/s"))
    return _some(found)


def _some(found: list[Objective]) -> list[Objective]:
    if not found:
        raise ValueError(
            "no objective given: set error_ratio_max, latency_max_s or throughput_min_rps"
        )
    return found
