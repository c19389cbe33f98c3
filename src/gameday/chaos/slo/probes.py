"""SLO expectations over Prometheus, server-side (gateway) or client-side (Locust).

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

from gameday.chaos.clock import reference_time
from gameday.chaos.expectations import expect, record_restored
from gameday.chaos.load import control as load_control
from gameday.chaos.objective_checks import evaluate, shown, violations, wait_until_held
from gameday.chaos.target import resolve_target
from gameday.engine import timeline
from gameday.observe.prometheus import Prometheus
from gameday.verify.slo import RATE_WINDOW_S, Objective, Source, objectives

__all__ = ["slo_holds", "slo_restored"]
logger = logging.getLogger("gameday.chaos.slo.probes")


def _objectives(
    source: str,
    error_ratio_max: float | None,
    latency_max_s: float | None,
    latency_quantile: float,
    throughput_min_rps: float | None,
) -> list[Objective]:
    if source not in ("server", "client"):
        raise ActivityFailed(f"source must be 'server' or 'client', not {source!r}")
    chosen: Source = "server" if source == "server" else "client"
    try:
        return objectives(
            source=chosen,
            error_ratio_max=error_ratio_max,
            latency_max_s=latency_max_s,
            latency_quantile=latency_quantile,
            throughput_min_rps=throughput_min_rps,
        )
    except ValueError as exc:
        raise ActivityFailed(str(exc)) from exc


def _since_load_started(window_s: float) -> float:
    """The window, cut so it holds only this run's load: back-to-back runs must not
    judge the steady state by the previous run's fault."""
    started = load_control.started_at()
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
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """Expect every given objective to have held over the last `window_s` seconds.

    Objectives: `error_ratio_max` (e.g. 0.01 for 1 %), `latency_max_s` at
    `latency_quantile` (default p95), `throughput_min_rps`. `source` is
    `server` (the gateway's metrics) or `client` (Locust's, while load runs).
    Returns true when they hold; raises ActivityFailed naming each violation.
    """
    wanted = _objectives(
        source, error_ratio_max, latency_max_s, latency_quantile, throughput_min_rps
    )
    prometheus = Prometheus(resolve_target(configuration).prometheus_url)
    effective_s = _since_load_started(window_s)
    values = evaluate(prometheus, wanted, effective_s)
    violated = violations(values)
    phase = timeline.phase()
    name = f"{phase + ': ' if phase else ''}SLO holds over {window_s:g}s ({source})"
    data = {o.name: v for o, v in values}
    if violated:
        message = f"SLO violated over the last {effective_s:.0f}s: " + "; ".join(violated)
        timeline.record("slo_violated", message, **data)
        expect("slo_holds", name, False, message)
        raise ActivityFailed(message)
    timeline.record("slo_held", shown(values), **data)
    expect("slo_holds", name, True, f"SLO held over {effective_s:.0f}s: {shown(values)}")
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
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Expect the SLOs to be restored within `within_s` seconds of this probe's start
    (run it after the remediation): every objective holds over a trailing
    `window_s` seconds. The time from the fault to restoration is the MTTR; with
    `mttr_budget_s` it is an expectation of its own (the runbook's MTTR target).
    """
    wanted = _objectives(
        source, error_ratio_max, latency_max_s, latency_quantile, throughput_min_rps
    )
    prometheus = Prometheus(resolve_target(configuration).prometheus_url)
    fault, reference = reference_time()
    started = datetime.now(UTC)
    restored, still = wait_until_held(
        prometheus, wanted, window_s=window_s, within_s=within_s, what="the SLOs"
    )
    name = f"SLO restored within {within_s:g}s ({source})"
    if restored is None:
        message = f"SLO not restored within {within_s:g}s: " + "; ".join(still)
        expect("slo_restored", name, False, message, budget_s=within_s)
        raise ActivityFailed(message)
    took, mttr = record_restored(
        what="SLO",
        name=name,
        shown=shown(restored),
        started=started,
        fault=fault,
        reference=reference,
        within_s=within_s,
        mttr_budget_s=mttr_budget_s,
    )
    values = {objective.name: value for objective, value in restored}
    return {"restored_after_s": took, "mttr_s": mttr, "values": values}
