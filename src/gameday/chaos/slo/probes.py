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
from gameday.chaos.target import resolve_target
from gameday.engine import timeline
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import Prometheus
from gameday.verify.slo import RATE_WINDOW_S, Objective, Source, objectives

__all__ = ["slo_holds", "slo_restored"]
logger = logging.getLogger("gameday.chaos.slo.probes")
POLL_S = 0.5


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


def _evaluate(
    prometheus: Prometheus, wanted: list[Objective], window_s: float
) -> list[tuple[Objective, float | None]]:
    return [(o, prometheus.query_value(o.over_window(window_s))) for o in wanted]


def _since_load_started(window_s: float) -> float:
    """The window, cut so it holds only this run's load: back-to-back runs must not
    judge the steady state by the previous run's fault."""
    started = load_control.started_at()
    if started is None:
        return window_s
    clean = (datetime.now(UTC) - started).total_seconds() - RATE_WINDOW_S
    return max(1.0, min(window_s, clean))


def _violations(values: list[tuple[Objective, float | None]]) -> list[str]:
    return [
        objective.describe(value)
        for objective, value in values
        if value is None or value != value or not objective.met_by(value)  # NaN: no traffic
    ]


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
    values = _evaluate(prometheus, wanted, effective_s)
    violations = _violations(values)
    shown = "; ".join(objective.describe(value) for objective, value in values)
    phase = timeline.phase()
    name = f"{phase + ': ' if phase else ''}SLO holds over {window_s:g}s ({source})"
    data = {o.name: v for o, v in values}
    if violations:
        message = f"SLO violated over the last {effective_s:.0f}s: " + "; ".join(violations)
        timeline.record("slo_violated", message, **data)
        expect("slo_holds", name, False, message)
        raise ActivityFailed(message)
    timeline.record("slo_held", shown, **data)
    expect("slo_holds", name, True, f"SLO held over {effective_s:.0f}s: {shown}")
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
    last: list[list[tuple[Objective, float | None]]] = []

    def restored() -> list[tuple[Objective, float | None]] | None:
        values = _evaluate(prometheus, wanted, window_s)
        last[:] = [values]
        return None if _violations(values) else values

    polled = poll_until(
        restored,
        timeout_s=within_s,
        interval_s=POLL_S,
        on_wait=lambda left: timeline.waiting("the SLOs to be restored", left),
    )
    name = f"SLO restored within {within_s:g}s ({source})"
    if polled.value is None:
        still = _violations(last[0]) if last else ["not evaluated"]
        message = f"SLO not restored within {within_s:g}s: " + "; ".join(still)
        expect("slo_restored", name, False, message, budget_s=within_s)
        raise ActivityFailed(message)
    shown = "; ".join(objective.describe(value) for objective, value in polled.value)
    took, mttr = record_restored(
        what="SLO",
        name=name,
        shown=shown,
        started=started,
        fault=fault,
        reference=reference,
        within_s=within_s,
        mttr_budget_s=mttr_budget_s,
    )
    values = {objective.name: value for objective, value in polled.value}
    return {"restored_after_s": took, "mttr_s": mttr, "values": values}
