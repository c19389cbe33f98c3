"""Expectations on any PromQL query: what the SLO probes do for the gateway, for any series.

`query_holds` checks the worst value of a query over the last `window_s`
seconds against `min` and/or `max` (e.g. every camera is analysed at its
target frame rate, every consensus member has a leader, one route's error
ratio). `query_restored` polls until the query holds again and measures MTTR
from the fault, like `gameday.chaos.slo.probes.slo_restored`.

"Worst" is over every series the query returns and every second of the
window: the probe evaluates `min_over_time(min(QUERY)[W:1s])` for a lower
bound and `max_over_time(max(QUERY)[W:1s])` for an upper bound. A query that
returns nothing has no data, which never holds.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.clock import reference_time
from gameday.chaos.expectations import expect, record_restored
from gameday.chaos.objective_checks import evaluate, shown, violations, wait_until_held
from gameday.chaos.target import resolve_target
from gameday.engine import timeline
from gameday.observe.prometheus import Prometheus
from gameday.verify.slo import Objective

__all__ = ["query_holds", "query_restored"]
logger = logging.getLogger("gameday.chaos.promql.probes")


def _objectives(
    query: str, low: float | None, high: float | None, name: str | None, unit: str
) -> list[Objective]:
    if not query or not query.strip():
        raise ActivityFailed("query is empty: give the PromQL expression to check")
    if low is None and high is None:
        raise ActivityFailed(f"no bound for {query!r}: set min, max or both")
    if low is not None and high is not None and low > high:
        raise ActivityFailed(f"min {low:g} is above max {high:g}: no value can hold")
    label = name or query
    found: list[Objective] = []
    if low is not None:
        found.append(Objective(label, f"min({query})", float(low), "min", unit))
    if high is not None:
        found.append(Objective(label, f"max({query})", float(high), "max", unit))
    return found


def _window(window_s: float) -> float:
    if window_s < 1:
        raise ActivityFailed(f"window_s is {window_s:g}: use at least 1 second")
    return window_s


def query_holds(
    query: str,
    min: float | None = None,
    max: float | None = None,
    window_s: float = 10,
    name: str | None = None,
    unit: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """Expect the PromQL `query` to have stayed within `min` and/or `max` over the last
    `window_s` seconds: its lowest value (over every series it returns and every second
    of the window) at least `min`, its highest at most `max`.

    `name` says what the query means in the report (e.g. "every camera at its
    target FPS"); `unit` is appended to the values shown (`ratio` shows them as
    percentages, `s` as milliseconds). Works in the
    steady-state hypothesis (with `tolerance: true`) and in the method. Returns
    true when it holds; raises ActivityFailed naming the worst value otherwise.
    """
    wanted = _objectives(query, min, max, name, unit)
    prometheus = Prometheus(resolve_target(configuration).prometheus_url)
    values = evaluate(prometheus, wanted, _window(window_s))
    violated = violations(values)
    phase = timeline.phase()
    label = f"{phase + ': ' if phase else ''}{name or query} holds over {window_s:g}s"
    if violated:
        message = f"not held over the last {window_s:g}s: " + "; ".join(violated)
        expect("slo_holds", label, False, message)
        raise ActivityFailed(message)
    expect("slo_holds", label, True, f"held over {window_s:g}s: {shown(values)}")
    logger.info("%s held over %gs: %s", name or query, window_s, shown(values))
    return True


def query_restored(
    query: str,
    min: float | None = None,
    max: float | None = None,
    within_s: float = 60,
    window_s: float = 5,
    name: str | None = None,
    unit: str = "",
    mttr_budget_s: float | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Expect the PromQL `query` to be back within `min` and/or `max` within `within_s`
    seconds of this probe's start (run it after the remediation): it holds over a
    trailing `window_s` seconds, as `query_holds` judges it.

    The time from the fault to restoration is the MTTR (the run's MTTR when
    this is its last restoration probe); with `mttr_budget_s` it is an
    expectation of its own. Returns how long restoration took and the values.
    """
    wanted = _objectives(query, min, max, name, unit)
    window = _window(window_s)
    prometheus = Prometheus(resolve_target(configuration).prometheus_url)
    fault, reference = reference_time()
    started = datetime.now(UTC)
    what = name or query
    restored, still = wait_until_held(
        prometheus, wanted, window_s=window, within_s=within_s, what=what
    )
    label = f"{what} restored within {within_s:g}s"
    if restored is None:
        message = f"not restored within {within_s:g}s: " + "; ".join(still)
        expect("slo_restored", label, False, message, budget_s=within_s)
        raise ActivityFailed(message)
    took, mttr = record_restored(
        what=what,
        name=label,
        shown=shown(restored),
        started=started,
        fault=fault,
        reference=reference,
        within_s=within_s,
        mttr_budget_s=mttr_budget_s,
    )
    return {
        "restored_after_s": took,
        "mttr_s": mttr,
        "values": {o.bound: v for o, v in restored},
    }
