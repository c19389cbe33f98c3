"""Detection and recovery figures: measured, the experiment's budget, the runbook's target.

One row per MTTD (per alert), time to notify (per alert) and MTTR. Budgets are
the ones the run judged them against (`measurements.budgets_s`; none in results
of schema gameday.result/1); targets come from the runbook's SLO table, when
one is given. When the lab ran the rules in compressed time, each row carries
the production estimate too (`measurements.production_estimate_s`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gameday.model import Budgets, RunResult
from gameday.runbook.model import Runbook, SloTarget
from gameday.verify.estimates import estimate_of

__all__ = ["MeasureRow", "measure_rows"]


@dataclass(frozen=True)
class MeasureRow:
    """One measured time (`kind`: mttd, notify or mttr; `subject`: the alert) and its limits;
    `estimate_s` and `estimate_budget_s`: both × K when the lab ran the rules in compressed
    time (None otherwise)."""

    kind: str
    subject: str | None
    measured_s: float
    budget_s: float | None
    target: SloTarget | None
    estimate_s: float | None = None
    estimate_budget_s: float | None = None

    @property
    def label(self) -> str:
        name = {"mttd": "MTTD", "notify": "Time to notify", "mttr": "MTTR"}[self.kind]
        return f"{name} · {self.subject}" if self.subject else name

    @property
    def within_budget(self) -> bool | None:
        return None if self.budget_s is None else self.measured_s <= self.budget_s

    @property
    def within_target(self) -> bool | None:
        if self.target is None or self.target.value is None:
            return None
        if self.target.comparator in ("<",):
            return self.measured_s < self.target.value
        return self.measured_s <= self.target.value


_NO_BUDGETS = Budgets(mttd_s={}, time_to_notify_s={}, mttr_s=None)


def _target(runbook: Runbook | None, kind: str) -> SloTarget | None:
    if runbook is None:
        return None
    return next((slo for slo in runbook.slo(kind) if slo.value is not None), None)


def measure_rows(result: RunResult, runbook: Runbook | None = None) -> list[MeasureRow]:
    """MTTD and time to notify per alert, then MTTR, in the order the run measured them."""
    measured = result["measurements"]
    budgets = measured.get("budgets_s") or _NO_BUDGETS
    found = estimate_of(measured)
    estimate = found[1] if found is not None else None
    scaled = (estimate.get("budgets_s") if estimate else None) or _NO_BUDGETS
    rows: list[MeasureRow] = []
    mttd_target = _target(runbook, "mttd")
    for alert, seconds in measured["mttd_s"].items():
        rows.append(
            MeasureRow(
                kind="mttd",
                subject=alert,
                measured_s=float(seconds),
                budget_s=budgets["mttd_s"].get(alert),
                target=mttd_target,
                estimate_s=estimate["mttd_s"].get(alert) if estimate else None,
                estimate_budget_s=scaled["mttd_s"].get(alert),
            )
        )
    for alert, seconds in measured["time_to_notify_s"].items():
        rows.append(
            MeasureRow(
                kind="notify",
                subject=alert,
                measured_s=float(seconds),
                budget_s=budgets["time_to_notify_s"].get(alert),
                target=mttd_target,
                estimate_s=estimate["time_to_notify_s"].get(alert) if estimate else None,
                estimate_budget_s=scaled["time_to_notify_s"].get(alert),
            )
        )
    if measured["mttr_s"] is not None:
        mttr = float(measured["mttr_s"])
        rows.append(
            MeasureRow(
                kind="mttr",
                subject=None,
                measured_s=mttr,
                budget_s=budgets["mttr_s"],
                target=_target(runbook, "mttr"),
                estimate_s=estimate["mttr_s"] if estimate else None,
                estimate_budget_s=scaled["mttr_s"],
            )
        )
    return rows
