"""Objectives checked against Prometheus, shared by the SLO probes (the gateway's and
Locust's series) and the PromQL probes (any series): one check that they hold over a
window, one wait until they are restored after the fault."""

from __future__ import annotations

import math

from chaoslib.exceptions import ActivityFailed

from gameday.chaos.expectations import seconds_since, settle, watch_from
from gameday.context import RunContext
from gameday.model import EventKind, Expectation
from gameday.observe.prometheus import Prometheus
from gameday.verify import expectations as verdicts
from gameday.verify.slo import Objective

POLL_S = 0.5
# Prometheus needs a scrape (1 s in the lab) to see a change, and the window's points are
# aligned to whole seconds: a sample younger than that is not in the window yet. So a
# restoration is not judged until this long after the last change the run made (the
# fault, its revert, the remediation): else the window, not yet showing the fault's last
# sample, could pass the instant after a quick remediation.
SETTLE_AFTER_CHANGE_S = 2.0
CHANGES: tuple[EventKind, ...] = ("fault_applied", "fault_reverted", "remediation_completed")
Values = list[tuple[Objective, float | None]]


def evaluate(prometheus: Prometheus, wanted: list[Objective], window_s: float) -> Values:
    """Each objective's worst value over the last `window_s` seconds (None: no data)."""
    return [(o, prometheus.query_value(o.over_window(window_s))) for o in wanted]


def violations(values: Values) -> list[str]:
    """The objectives that do not hold; no data (or NaN: no traffic) never holds."""
    return [
        objective.describe(value)
        for objective, value in values
        if value is None or math.isnan(value) or not objective.met_by(value)
    ]


def shown(values: Values) -> str:
    return "; ".join(objective.describe(value) for objective, value in values)


def judge_held(
    context: RunContext,
    prometheus: Prometheus,
    wanted: list[Objective],
    *,
    window_s: float,
    name: str,
    what: str = "",
) -> tuple[Values, Expectation]:
    """Whether every objective held over the last `window_s` seconds: the values seen and
    the verdict (named after the run's phase), for the probe to settle."""
    values = evaluate(prometheus, wanted, window_s)
    phase = context.phase()
    verdict = verdicts.objectives_hold(
        f"{phase + ': ' if phase else ''}{name}",
        window_s=window_s,
        violations=violations(values),
        shown=shown(values),
        what=what,
    )
    return values, verdict


def await_restored(
    context: RunContext,
    prometheus: Prometheus,
    wanted: list[Objective],
    *,
    what: str,
    name: str,
    within_s: float,
    window_s: float,
    overtime_s: float,
    mttr_budget_s: float | None,
) -> tuple[float, float, Values]:
    """Wait until every objective holds over a trailing `window_s` seconds again, at most
    `within_s` seconds after the fault (then `overtime_s` longer, to measure a late
    restoration). The time from the fault is the MTTR; records the `slo_restored` event
    and the verdicts, raises ActivityFailed when restoration missed its budgets. Returns
    (seconds this probe waited, MTTR, the values that held)."""
    fault, reference = context.reference_time()
    started = seconds_since(fault)
    last: list[Values] = []
    changed = [moment for kind in CHANGES if (moment := context.timeline.time_of(kind))]

    def held() -> Values | None:
        values = evaluate(prometheus, wanted, window_s)
        last[:] = [values]
        if changed and seconds_since(max(changed)) < SETTLE_AFTER_CHANGE_S:
            return None  # seen (for the verdict's "still"), not yet judged restored
        return None if violations(values) else values

    polled = watch_from(
        context,
        held,
        since=fault,
        within_s=within_s,
        overtime_s=overtime_s,
        what=f"{what} to be restored",
        interval_s=POLL_S,
    )
    mttr = seconds_since(fault) if polled.value is not None else None
    if polled.value is not None and mttr is not None:
        context.record("slo_restored", shown(polled.value), mttr_s=round(mttr, 3))
    judged = verdicts.restored(
        what,
        name=name,
        within_s=within_s,
        reference=reference,
        mttr_s=mttr,
        shown=shown(polled.value) if polled.value is not None else "",
        still=violations(last[0]) if last else ["not evaluated"],
        overtime_s=overtime_s,
        mttr_budget_s=mttr_budget_s,
    )
    settle(context, *judged)
    if polled.value is None or mttr is None:  # settle raised: not reached
        raise ActivityFailed(judged[0]["message"])
    return round(mttr - started, 3), mttr, polled.value
