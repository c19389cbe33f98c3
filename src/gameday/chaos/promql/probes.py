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
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.expectations import settle
from gameday.chaos.objective_checks import await_restored, judge_held, shown
from gameday.context import run_context
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
    context = run_context(configuration)
    values, verdict = judge_held(
        context,
        context.target.prometheus(),
        wanted,
        window_s=_window(window_s),
        name=f"{name or query} holds over {window_s:g}s",
    )
    settle(context, verdict)
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
    overtime_s: float = 30,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Expect the PromQL `query` to be back within `min` and/or `max` within `within_s`
    seconds of the fault (run it after the remediation): it holds over a trailing
    `window_s` seconds, as `query_holds` judges it.

    The time from the fault to restoration is the MTTR (the run's MTTR when
    this is its last restoration probe); with `mttr_budget_s` it is an
    expectation of its own. A restoration after the deadline is watched
    `overtime_s` longer. Returns how long restoration took and the values.
    """
    wanted = _objectives(query, min, max, name, unit)
    context = run_context(configuration)
    what = name or query
    took, mttr, values = await_restored(
        context,
        context.target.prometheus(),
        wanted,
        what=what,
        name=f"{what} restored within {within_s:g}s",
        within_s=within_s,
        window_s=_window(window_s),
        overtime_s=overtime_s,
        mttr_budget_s=mttr_budget_s,
    )
    return {
        "restored_after_s": took,
        "mttr_s": mttr,
        "values": {o.bound: v for o, v in values},
    }
