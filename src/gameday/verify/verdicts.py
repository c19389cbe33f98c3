"""Verdicts and measurements: pure functions over the recorded expectations and timeline."""

from __future__ import annotations

from gameday.model import Expectation, Measurements, RunStatus, TimelineEvent


def measurements(expectations: list[Expectation], events: list[TimelineEvent]) -> Measurements:
    """MTTD per alert (fault → firing), time to notify per alert, MTTR (fault → SLO restored)."""
    mttd: dict[str, float] = {}
    notify: dict[str, float] = {}
    for expectation in expectations:
        if expectation["measured_s"] is None or expectation["alert"] is None:
            continue
        if expectation["kind"] == "alert_fires":
            mttd.setdefault(expectation["alert"], expectation["measured_s"])
        elif expectation["kind"] == "notification_delivered":
            notify.setdefault(expectation["alert"], expectation["measured_s"])
    restored = [e for e in events if e["kind"] == "slo_restored" and "mttr_s" in e["data"]]
    mttr = restored[-1]["data"]["mttr_s"] if restored else None
    return Measurements(
        mttd_s=mttd,
        time_to_notify_s=notify,
        mttr_s=float(mttr) if isinstance(mttr, int | float) else None,
    )


def run_status(
    expectations: list[Expectation], *, interrupted: bool, errors: list[str]
) -> RunStatus:
    """interrupted beats error beats failed beats passed."""
    if interrupted:
        return "interrupted"
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
    difference = measured - budget
    if difference > 0:
        return f"{measured:.1f}s, {difference:.1f}s over the {budget:g}s budget"
    return f"{measured:.1f}s of {budget:g}s"
