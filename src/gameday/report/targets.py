"""Detection and recovery figures: measured, the experiment's budget, the runbook's target.

One row per MTTD (per alert), time to notify (per alert) and MTTR. Budgets come
from the run's own expectations; targets from the runbook's SLO table, when
one is given.
"""

from __future__ import annotations

from dataclasses import dataclass

from gameday.model import Expectation, RunResult
from gameday.runbook.model import Runbook, SloTarget

__all__ = ["MeasureRow", "measure_rows"]


@dataclass(frozen=True)
class MeasureRow:
    """One measured time (`kind`: mttd, notify or mttr; `subject`: the alert) and its limits."""

    kind: str
    subject: str | None
    measured_s: float
    budget_s: float | None
    target: SloTarget | None

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


def _budget(expectations: list[Expectation], kind: str, alert: str | None) -> float | None:
    for expectation in expectations:
        if expectation["kind"] == kind and expectation["alert"] == alert:
            return expectation["budget_s"]
    return None


def _mttr_budget(expectations: list[Expectation], mttr: float) -> float | None:
    restored = [
        e for e in expectations if e["kind"] == "slo_restored" and e["budget_s"] is not None
    ]
    for expectation in restored:
        measured = expectation["measured_s"]
        if measured is not None and abs(measured - mttr) < 0.001:
            return expectation["budget_s"]
    for expectation in restored:
        if expectation["name"].lower().startswith("mttr"):
            return expectation["budget_s"]
    return None


def _target(runbook: Runbook | None, kind: str) -> SloTarget | None:
    if runbook is None:
        return None
    return next((slo for slo in runbook.slo(kind) if slo.value is not None), None)


def measure_rows(result: RunResult, runbook: Runbook | None = None) -> list[MeasureRow]:
    """MTTD and time to notify per alert, then MTTR, in the order the run measured them."""
    expectations = result["expectations"]
    measured = result["measurements"]
    rows: list[MeasureRow] = []
    mttd_target = _target(runbook, "mttd")
    for alert, seconds in measured["mttd_s"].items():
        rows.append(
            MeasureRow(
                kind="mttd",
                subject=alert,
                measured_s=float(seconds),
                budget_s=_budget(expectations, "alert_fires", alert),
                target=mttd_target,
            )
        )
    for alert, seconds in measured["time_to_notify_s"].items():
        rows.append(
            MeasureRow(
                kind="notify",
                subject=alert,
                measured_s=float(seconds),
                budget_s=_budget(expectations, "notification_delivered", alert),
                target=mttd_target,
            )
        )
    if measured["mttr_s"] is not None:
        mttr = float(measured["mttr_s"])
        rows.append(
            MeasureRow(
                kind="mttr",
                subject=None,
                measured_s=mttr,
                budget_s=_mttr_budget(expectations, mttr),
                target=_target(runbook, "mttr"),
            )
        )
    return rows
