"""Typed results: timeline events, expectations, measurements and the run result.

These are what `result.json` holds (schema `gameday.result/2`, see the README);
verdicts, MTTD/MTTR, reports and tabletop evidence are computed from them.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

RESULT_SCHEMA = "gameday.result/2"
# Still read by reports: /1 lacks `measure` on expectations and `budgets_s` in measurements.
READABLE_RESULT_SCHEMAS = ("gameday.result/1", RESULT_SCHEMA)

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
    "alert_active_at_fault",
    "stop_condition_tripped",
    "lab_parts_started",
    "run_finished",
    "error",
]

ExpectationKind = Literal[
    "alert_fires",
    "alert_does_not_fire",
    "notification_delivered",
    "alert_routed",
    "slo_holds",
    "slo_restored",
    "steady_state",
    "remediation",
    "probe",
]

# Which run figure an expectation's measured time is: fault → firing, fault → delivered,
# fault → restored.
Measure = Literal["mttd", "notify", "mttr"]

# aborted: a stop condition tripped (exit 1); crashed: gameday itself died and
# `gameday recover` finalised the run from what it had recorded.
RunStatus = Literal["passed", "failed", "aborted", "interrupted", "error", "crashed"]


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
    measure: NotRequired[Measure]


class Budgets(TypedDict):
    """The budget each measured time was judged against (seconds from the fault)."""

    mttd_s: dict[str, float]
    time_to_notify_s: dict[str, float]
    mttr_s: float | None


class ProductionEstimate(TypedDict):
    """The measured times and their budgets × K, when the lab ran the rules K times faster
    than production (`gameday lab up --time-scale K`): what production would take."""

    mttd_s: dict[str, float]
    time_to_notify_s: dict[str, float]
    mttr_s: float | None
    budgets_s: NotRequired[Budgets]


class Measurements(TypedDict):
    """Times derived from the expectations: fault → firing, fault → delivered, fault → SLO
    restored, and the budgets they were judged against (absent in gameday.result/1).
    `time_scale` (K) and `production_estimate_s` only when the lab ran the rules in
    compressed time (K != 1); the times above stay lab seconds."""

    mttd_s: dict[str, float]
    time_to_notify_s: dict[str, float]
    mttr_s: float | None
    budgets_s: NotRequired[Budgets]
    time_scale: NotRequired[float]
    production_estimate_s: NotRequired[ProductionEstimate]


class LoadSummary(TypedDict):
    """Client-side figures Locust reported at the end of the load. `workers`: Locust
    worker processes under a master (0: one process; absent in older results)."""

    requests: int
    failures: int
    requests_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    users: int
    workers: NotRequired[int]


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


PLAN_SCHEMA = "gameday.plan/1"
PLAN_RESULT_NAME = "plan-result.json"


class PlanExperimentRef(TypedDict):
    title: str
    path: str
    dir: str
    status: str


class PlanRef(TypedDict):
    name: str
    path: str
    runbook: str | None


class PlanResult(TypedDict):
    """The content of `plan-result.json`; each experiment's result.json is in its `dir`."""

    schema: str
    plan: PlanRef
    started_at: str
    ended_at: str
    status: str
    experiments: list[PlanExperimentRef]
