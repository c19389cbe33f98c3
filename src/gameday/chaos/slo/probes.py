"""SLO expectations over Prometheus, server-side (the system's own metrics: the target's
SLO queries, or the lab gateway's) or client-side (Locust).

`slo_holds` checks the worst value of each objective over the last `window_s`
seconds. `slo_restored` polls until every objective holds again over a short
window and measures MTTR from the fault.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.expectations import settle
from gameday.chaos.objective_checks import await_restored, judge_held
from gameday.context import RunContext, run_context
from gameday.observe.prometheus import Prometheus
from gameday.verify.slo import RATE_WINDOW_S, Objective, Source, objectives

__all__ = ["slo_holds", "slo_restored"]
logger = logging.getLogger("gameday.chaos.slo.probes")


def _objectives(
    context: RunContext,
    source: str,
    error_ratio_max: float | None,
    latency_max_s: float | None,
    latency_quantile: float,
    throughput_min_rps: float | None,
    queries: dict[str, str] | None,
) -> list[Objective]:
    if source not in ("server", "client"):
        raise ActivityFailed(f"source must be 'server' or 'client', not {source!r}")
    chosen: Source = "server" if source == "server" else "client"
    own = queries or (context.target.slo_queries if chosen == "server" else None)
    if chosen == "server" and not own and not context.target.is_lab:
        raise ActivityFailed(
            f"target {context.target.name!r} has no SLO queries: add slo: to the target file "
            "(error_ratio, latency_p95_s, requests_per_s) or give the probe queries:"
        )
    try:
        return objectives(
            source=chosen,
            error_ratio_max=error_ratio_max,
            latency_max_s=latency_max_s,
            latency_quantile=latency_quantile,
            throughput_min_rps=throughput_min_rps,
            queries=own,
        )
    except ValueError as exc:
        raise ActivityFailed(str(exc)) from exc


def _prometheus_of(context: RunContext, source: str) -> Prometheus:
    """Where a source's figures are: Locust's (client) or the system's (server)."""
    return context.client_prometheus() if source == "client" else context.target.prometheus()


def _since_load_started(context: RunContext, window_s: float) -> float:
    """The window, cut so it holds only this run's load: back-to-back runs must not
    judge the steady state by the previous run's fault."""
    started = context.load_started_at()
    if started is None:
        return window_s
    clean = (datetime.now(UTC) - started).total_seconds() - RATE_WINDOW_S
    return max(1.0, min(window_s, clean))


def slo_holds(
    error_ratio_max: float | None = None,
    latency_max_s: float | None = None,
    throughput_min_rps: float | None = None,
    window_s: float = 10,
    source: str = "server",
    latency_quantile: float = 0.95,
    queries: dict[str, str] | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """Expect every given objective to have held over the last `window_s` seconds.

    Objectives: `error_ratio_max` (e.g. 0.01 for 1 %), `latency_max_s` at
    `latency_quantile` (default p95), `throughput_min_rps`. `source` is
    `server` (the system's metrics: the target's `slo:` queries, or the lab
    gateway's) or `client` (Locust's, while load runs). `queries` gives this probe's
    own server-side PromQL by name (error_ratio, latency_p95_s, requests_per_s).
    Returns true when they hold; raises ActivityFailed naming each violation.
    """
    context = run_context(configuration)
    wanted = _objectives(
        context,
        source,
        error_ratio_max,
        latency_max_s,
        latency_quantile,
        throughput_min_rps,
        queries,
    )
    prometheus = _prometheus_of(context, source)
    effective_s = _since_load_started(context, window_s)
    values, verdict = judge_held(
        context,
        prometheus,
        wanted,
        window_s=effective_s,
        name=f"SLO holds over {window_s:g}s ({source})",
        what="SLO",
    )
    seen = {o.name: v for o, v in values}
    if verdict["passed"]:
        context.record("slo_held", verdict["message"], **seen)
    else:
        context.record("slo_violated", verdict["message"], **seen)
    settle(context, verdict)
    return True


def slo_restored(
    within_s: float = 60,
    error_ratio_max: float | None = None,
    latency_max_s: float | None = None,
    throughput_min_rps: float | None = None,
    window_s: float = 5,
    source: str = "server",
    latency_quantile: float = 0.95,
    mttr_budget_s: float | None = None,
    overtime_s: float = 30,
    queries: dict[str, str] | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Expect the SLOs to be restored within `within_s` seconds of the fault (run it
    after the remediation): every objective holds over a trailing `window_s`
    seconds. The time from the fault to restoration is the MTTR; with
    `mttr_budget_s` it is an expectation of its own (the runbook's MTTR target).
    A restoration after the deadline is watched `overtime_s` longer, to say by
    how much it was late. `queries` as for `slo_holds`.
    """
    context = run_context(configuration)
    wanted = _objectives(
        context,
        source,
        error_ratio_max,
        latency_max_s,
        latency_quantile,
        throughput_min_rps,
        queries,
    )
    took, mttr, values = await_restored(
        context,
        _prometheus_of(context, source),
        wanted,
        what="SLO",
        name=f"SLO restored within {within_s:g}s ({source})",
        within_s=within_s,
        window_s=window_s,
        overtime_s=overtime_s,
        mttr_budget_s=mttr_budget_s,
    )
    return {
        "restored_after_s": took,
        "mttr_s": mttr,
        "values": {objective.name: value for objective, value in values},
    }
