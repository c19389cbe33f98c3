"""Typed results: timeline events, expectations, measurements and the run result.

These are what `result.json` holds (schema `gameday.result/1`, see the README);
verdicts, MTTD/MTTR, reports and tabletop evidence are computed from them.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

RESULT_SCHEMA = "gameday.result/1"

EventKind = Literal[
    "run_started",
    "load_started",
    "load_stopped",
    "steady_state_started",
    "steady_state_met",
    "steady_state_failed",
    "method_started",
    "activity_started",
    "activity_completed",
    "fault_applied",
    "fault_reverted",
    "alert_pending",
    "alert_firing",
    "alert_resolved",
    "alert_silent",
    "notified",
    "remediation_started",
    "remediation_completed",
    "slo_held",
    "slo_violated",
    "slo_restored",
    "rollbacks_started",
    "rollbacks_completed",
    "interrupted",
    "run_finished",
    "error",
]

ExpectationKind = Literal[
    "alert_fires",
    "alert_does_not_fire",
    "notification_delivered",
    "slo_holds",
    "slo_restored",
    "steady_state",
    "remediation",
    "probe",
]

RunStatus = Literal["passed", "failed", "interrupted", "error"]


class TimelineEvent(TypedDict):
    """One thing that happened, with its wall-clock time and its offset from the run's start."""

    at: str
    elapsed_s: float
    kind: EventKind
    detail: str
    data: dict[str, object]


class Expectation(TypedDict):
    """One promise checked by a run: what, whether it held, measured against which budget."""

    name: str
    kind: ExpectationKind
    alert: str | None
    receiver: str | None
    passed: bool
    measured_s: float | None
    budget_s: float | None
    message: str
    activity: NotRequired[str | None]


class Measurements(TypedDict):
    """Times derived from the timeline: fault → firing, fault → delivered, fault → SLO restored."""

    mttd_s: dict[str, float]
    time_to_notify_s: dict[str, float]
    mttr_s: float | None


class LoadSummary(TypedDict):
    """Client-side figures Locust reported at the end of the load."""

    requests: int
    failures: int
    requests_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    users: int


class ExperimentRef(TypedDict):
    title: str
    path: str
    runbook: NotRequired[str | None]


class RunResult(TypedDict):
    """The content of `result.json`."""

    schema: str
    experiment: ExperimentRef
    started_at: str
    ended_at: str
    status: RunStatus
    chaostoolkit_status: str
    manual: bool
    timeline: list[TimelineEvent]
    expectations: list[Expectation]
    measurements: Measurements
    load: LoadSummary | None
    series: dict[str, list[tuple[float, float]]]
    journal: str
