"""Verdicts and measurements: pure functions over the recorded expectations."""

from __future__ import annotations

from collections.abc import Mapping

from gameday.model import Budgets, Expectation, Measurements, RunStatus
from gameday.verify.estimates import REAL_TIME, with_production_estimate
from gameday.verify.expectations import over_budget


def measurements(
    expectations: list[Expectation],
    *,
    time_scale: float = REAL_TIME,
    for_s: Mapping[str, float] | None = None,
) -> Measurements:
    """MTTD per alert (fault → firing), time to notify per alert (fault → delivered) and the
    MTTR (fault → restored: the last restoration measured), each with its budget. Taken from
    the expectations that say which figure they measure; the first per alert counts. With a
    `time_scale` K other than 1 (the lab ran the rules K times faster), the production
    estimate too (`verify/estimates.py`; `for_s`: each alert's `for:` on the lab)."""
    mttd: dict[str, float] = {}
    notify: dict[str, float] = {}
    budgets = Budgets(mttd_s={}, time_to_notify_s={}, mttr_s=None)
    mttr: float | None = None
    for expectation in expectations:
        measure, measured = expectation.get("measure"), expectation["measured_s"]
        budget, alert = expectation["budget_s"], expectation["alert"]
        if measure == "mttr":
            mttr = measured if measured is not None else mttr
            budgets["mttr_s"] = budget
            continue
        if measured is None or alert is None or measure is None:
            continue
        figures, limits = (
            (mttd, budgets["mttd_s"])
            if measure == "mttd"
            else (notify, budgets["time_to_notify_s"])
        )
        if alert not in figures:
            figures[alert] = measured
            if budget is not None:
                limits[alert] = budget
    found = Measurements(mttd_s=mttd, time_to_notify_s=notify, mttr_s=mttr, budgets_s=budgets)
    return with_production_estimate(found, time_scale, for_s)


def run_status(
    expectations: list[Expectation],
    *,
    interrupted: bool,
    errors: list[str],
    aborted: bool = False,
) -> RunStatus:
    """interrupted (by a person) beats aborted (by a stop condition) beats error beats
    failed beats passed."""
    if interrupted:
        return "interrupted"
    if aborted:
        return "aborted"
    if errors:
        return "error"
    if not all(e["passed"] for e in expectations):
        return "failed"
    return "passed"


def shortfall(expectation: Expectation) -> str:
    """How far a measured time is from its budget, for the summary line."""
    measured, budget = expectation["measured_s"], expectation["budget_s"]
    if measured is None or budget is None:
        return ""
    if measured > budget:
        return f"{measured:.1f}s, {over_budget(measured, budget)}"
    return f"{measured:.1f}s of {budget:g}s"
