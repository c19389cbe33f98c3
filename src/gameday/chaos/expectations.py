"""Recording the extension's verdicts into the run's timeline, shared by its probes.

`expect` records one expectation; `record_restored` records that a condition
(the SLOs, a PromQL objective) was restored after the fault: the
`slo_restored` event that carries the MTTR, the expectation, and the MTTR
budget when there is one. Outside a gameday run both are no-ops.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chaoslib.exceptions import ActivityFailed

from gameday.engine import timeline
from gameday.model import Expectation, ExpectationKind

__all__ = ["EXPECTATION_MODULES", "expect", "record_restored"]

# The modules whose probes record their own expectations (a failure of theirs is
# already judged; it must not be counted again from the journal).
EXPECTATION_MODULES = ("gameday.chaos.alerts.", "gameday.chaos.slo.", "gameday.chaos.promql.")


def expect(
    kind: ExpectationKind,
    name: str,
    passed: bool,
    message: str,
    *,
    alert: str | None = None,
    receiver: str | None = None,
    measured_s: float | None = None,
    budget_s: float | None = None,
) -> None:
    """Record one expectation (measured time rounded to the millisecond)."""
    timeline.expect(
        Expectation(
            name=name,
            kind=kind,
            alert=alert,
            receiver=receiver,
            passed=passed,
            measured_s=None if measured_s is None else round(measured_s, 3),
            budget_s=budget_s,
            message=message,
        )
    )


def record_restored(
    *,
    what: str,
    name: str,
    shown: str,
    started: datetime,
    fault: datetime,
    reference: str,
    within_s: float,
    mttr_budget_s: float | None,
) -> tuple[float, float]:
    """Record `what` restored now: the probe began polling at `started`, the fault was at
    `fault`. Returns (seconds since `started`, MTTR); raises ActivityFailed when the MTTR
    is over `mttr_budget_s`."""
    now = datetime.now(UTC)
    took = (now - started).total_seconds()
    mttr = (now - fault).total_seconds()
    timeline.record("slo_restored", shown, now, mttr_s=round(mttr, 3))
    expect(
        "slo_restored",
        name,
        True,
        f"{what} restored {took:.1f}s after remediation, {mttr:.1f}s after {reference}: {shown}",
        measured_s=took,
        budget_s=within_s,
    )
    if mttr_budget_s is not None:
        passed = mttr <= mttr_budget_s
        verdict = "within" if passed else "over"
        expect(
            "slo_restored",
            f"MTTR within {mttr_budget_s:g}s",
            passed,
            f"MTTR {mttr:.1f}s is {verdict} the budget of {mttr_budget_s:g}s",
            measured_s=mttr,
            budget_s=mttr_budget_s,
        )
        if not passed:
            raise ActivityFailed(f"MTTR {mttr:.1f}s exceeds the budget of {mttr_budget_s:g}s")
    return took, mttr
