"""The tabletop script model: scenarios built from experiments, explained by the runbook.

A tabletop needs no infrastructure: the facilitator reads the injects at their
times, participants say what they would see and do, and the scoring sheet
compares that with the runbook's targets and, when past results exist, with
what the automated run measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gameday.coverage.matrix import Coverage, build_coverage
from gameday.coverage.results import ExpectationOutcome, RunResult
from gameday.experiment import Experiment, Plan
from gameday.runbook.model import (
    Dashboard,
    EscalationLevel,
    Procedure,
    Rule,
    Runbook,
    normalise_name,
)
from gameday.runbook.terminal import format_duration
from gameday.tabletop.timing import Inject, planned_injects, replayed_injects

__all__ = [
    "AlertBriefing",
    "Inject",
    "Measured",
    "Scenario",
    "ScoreRow",
    "TabletopScript",
    "build_tabletop",
]

_GAP_QUESTIONS = {
    "no-rule": (
        "The runbook describes {alert}, but no alerting rule defines it. "
        "How would you learn about this failure today?"
    ),
    "no-runbook": (
        "{alert} can fire, but the runbook does not explain it. "
        "What would the on-call engineer do when it pages?"
    ),
    "no-experiment": (
        "Nothing has verified that {alert} fires. What evidence do we have that it would?"
    ),
    "failing": (
        "The last automated run of this scenario found a problem with {alert}: {message}. "
        "What must change before the next game day?"
    ),
}


@dataclass(frozen=True)
class AlertBriefing:
    """An alert participants should (or must not) see, with what the runbook says about it."""

    name: str
    expects: str  # "fires", "must not fire", "delivered to …"
    in_runbook: bool
    meaning: str = ""
    severity: str | None = None
    condition: str | None = None
    for_: str | None = None
    response_time: str | None = None
    procedure: str | None = None
    budget_s: float | None = None


@dataclass(frozen=True)
class ScoreRow:
    checkpoint: str
    target: str


@dataclass(frozen=True)
class Measured:
    """What the last automated run of the scenario measured."""

    status: str
    ended_at: str
    result: str
    mttd_s: dict[str, float]
    time_to_notify_s: dict[str, float]
    mttr_s: float | None
    expectations: tuple[ExpectationOutcome, ...]


@dataclass
class Scenario:
    title: str
    path: str
    narrative: str
    tags: tuple[str, ...] = ()
    steady_state: list[str] = field(default_factory=list)
    injects: list[Inject] = field(default_factory=list)
    # "planned" (from the experiment's timing) or the result.json the times come from
    timing: str = "planned"
    alerts: list[AlertBriefing] = field(default_factory=list)
    dashboards: list[Dashboard] = field(default_factory=list)
    procedures: list[Procedure] = field(default_factory=list)
    targets: list[tuple[str, str]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    scoring: list[ScoreRow] = field(default_factory=list)
    measured: Measured | None = None


@dataclass
class TabletopScript:
    title: str
    description: str
    source: str
    runbook: str
    scenarios: list[Scenario]
    escalation: list[EscalationLevel] = field(default_factory=list)
    unexercised: list[str] = field(default_factory=list)


def _alerts(
    experiment: Experiment, runbook: Runbook, rules: dict[str, Rule]
) -> list[AlertBriefing]:
    """One briefing per alert; steady-state checks count only for alerts the method leaves out."""
    budgets = {
        normalise_name(activity.alert): budget
        for activity in experiment.method
        if activity.alert and (budget := activity.deadline_s) is not None
    }
    expectations = experiment.expectations()
    in_method = {normalise_name(e.alert) for e in expectations if e.phase == "method"}
    expects: dict[str, list[str]] = {}
    for expectation in expectations:
        name = normalise_name(expectation.alert)
        if expectation.phase != "method" and name in in_method:
            continue
        described = expectation.describe()
        if described not in expects.setdefault(name, []):
            expects[name].append(described)
    briefings: list[AlertBriefing] = []
    for name, descriptions in expects.items():
        alert = runbook.alert(name)
        rule = rules.get(name)
        condition = (alert.threshold or alert.expr) if alert else None
        briefings.append(
            AlertBriefing(
                name=name,
                expects=", ".join(descriptions),
                in_runbook=alert is not None,
                meaning=alert.meaning
                if alert
                else (rule.annotations.get("summary", "") if rule else ""),
                severity=(alert.severity if alert else None) or (rule.severity if rule else None),
                condition=condition or (rule.expr if rule else None),
                for_=(alert.for_ if alert else None) or (rule.for_ if rule else None),
                response_time=alert.response_time if alert else None,
                procedure=alert.procedure if alert else None,
                budget_s=budgets.get(name),
            )
        )
    return briefings


def _targets(runbook: Runbook, alerts: list[AlertBriefing]) -> list[tuple[str, str]]:
    targets: list[tuple[str, str]] = []
    for kind, label in (("mttd", "Time to detect (MTTD)"), ("mttr", "Time to resolve (MTTR)")):
        for slo in runbook.slo(kind):
            targets.append((label, slo.target))
    for alert in alerts:
        if alert.expects == "must not fire":
            continue
        if alert.response_time:
            targets.append((f"Respond to {alert.name}", alert.response_time))
        if alert.budget_s is not None:
            targets.append((f"{alert.name} fires", f"within {format_duration(alert.budget_s)}"))
    for slo in runbook.slos:
        if slo.kind in ("availability", "latency", "error_rate"):
            targets.append((f"SLO: {slo.name}", slo.target))
    return list(dict.fromkeys(targets))


def _questions(
    experiment: Experiment, alerts: list[AlertBriefing], coverage: Coverage, runbook: Runbook
) -> list[str]:
    questions: list[str] = []
    for briefing in alerts:
        for gap in coverage.gaps_for(briefing.name):
            if gap.kind == "no-experiment" and briefing.expects != "must not fire":
                continue
            message = gap.message.split("failed: ", 1)[-1]
            question = _GAP_QUESTIONS[gap.kind].format(alert=briefing.name, message=message)
            if question not in questions:
                questions.append(question)
        if briefing.in_runbook and not briefing.procedure and briefing.expects != "must not fire":
            questions.append(
                f"The runbook names no procedure for {briefing.name}. What would you do first?"
            )
    if not any(briefing.expects != "must not fire" for briefing in alerts) and experiment.faults():
        questions.append(
            "No alert is expected for this fault. How would anyone notice it, and how soon?"
        )
    questions.append("Who takes the incident commander role, and when is the incident declared?")
    if runbook.escalation:
        questions.append(
            "At which point would you escalate, and to whom (see the escalation levels)?"
        )
    if runbook.rollback_triggers:
        questions.append(
            "Does anything here meet a rollback trigger from the runbook? Who decides?"
        )
    questions.append("How do you know the service has recovered, and which SLO tells you?")
    return questions


def _scoring(alerts: list[AlertBriefing], runbook: Runbook) -> list[ScoreRow]:
    mttd = next((slo.target for slo in runbook.slo("mttd")), None)
    mttr = next((slo.target for slo in runbook.slo("mttr")), None)
    rows: list[ScoreRow] = []
    for alert in alerts:
        if alert.expects == "must not fire":
            rows.append(ScoreRow(f"No one acts on {alert.name} (it must not fire)", "no page"))
            continue
        target = (
            alert.response_time
            or mttd
            or (format_duration(alert.budget_s) if alert.budget_s else "-")
        )
        rows.append(ScoreRow(f"{alert.name} noticed and acknowledged", target))
        if alert.procedure:
            rows.append(
                ScoreRow(f"Procedure '{alert.procedure}' chosen and followed", "all steps named")
            )
    rows.append(ScoreRow("Impact and severity assessed", "stated within 5 min"))
    if runbook.escalation:
        rows.append(
            ScoreRow("Escalation decided correctly", f"level {runbook.escalation[0].level} first")
        )
    rows.append(ScoreRow("Service restored", mttr or "-"))
    rows.append(ScoreRow("Communication (status update sent)", "within 15 min"))
    return rows


def _procedures(alerts: list[AlertBriefing], runbook: Runbook) -> list[Procedure]:
    found: list[Procedure] = []
    for alert in alerts:
        procedure = runbook.procedure(alert.procedure)
        if procedure is not None and procedure not in found and alert.expects != "must not fire":
            found.append(procedure)
    return found


def _dashboards(alerts: list[AlertBriefing], runbook: Runbook) -> list[Dashboard]:
    named = {d for a in alerts if (alert := runbook.alert(a.name)) for d in alert.dashboards}
    extra = [
        Dashboard(name)
        for name in sorted(named)
        if not any(d.name == name for d in runbook.dashboards)
    ]
    return [*runbook.dashboards, *extra]


def _last_run(experiment: Experiment, results: Sequence[RunResult]) -> RunResult | None:
    path = experiment.path.resolve()
    matching = [
        result
        for result in results
        if result.experiment_title == experiment.title
        or (
            result.experiment_path and path.as_posix().endswith(result.experiment_path.lstrip("./"))
        )
    ]
    return max(matching, key=lambda result: result.ended) if matching else None


def _measured(last: RunResult | None) -> Measured | None:
    if last is None:
        return None
    return Measured(
        status=last.status,
        ended_at=last.ended_at,
        result=str(last.path),
        mttd_s=dict(last.mttd_s),
        time_to_notify_s=dict(last.time_to_notify_s),
        mttr_s=last.mttr_s,
        expectations=last.expectations,
    )


def build_tabletop(
    plan: Plan,
    runbook: Runbook,
    results: Sequence[RunResult] = (),
    rules: Sequence[Rule] = (),
) -> TabletopScript:
    """A facilitator script for every experiment of `plan`, explained by `runbook`."""
    coverage = build_coverage(runbook, rules, plan.experiments, results)
    known_rules = {normalise_name(rule.name): rule for rule in [*runbook.rules, *rules]}
    scenarios: list[Scenario] = []
    for experiment in plan.experiments:
        alerts = _alerts(experiment, runbook, known_rules)
        last = _last_run(experiment, results)
        replayed = replayed_injects(experiment, last.timeline) if last is not None else None
        scenarios.append(
            Scenario(
                title=experiment.title,
                path=str(experiment.path),
                narrative=experiment.description,
                tags=experiment.tags,
                steady_state=[activity.name for activity in experiment.steady_state],
                injects=replayed
                if replayed is not None
                else planned_injects(experiment, known_rules),
                timing=str(last.path) if replayed is not None and last is not None else "planned",
                alerts=alerts,
                dashboards=_dashboards(alerts, runbook),
                procedures=_procedures(alerts, runbook),
                targets=_targets(runbook, alerts),
                questions=_questions(experiment, alerts, coverage, runbook),
                scoring=_scoring(alerts, runbook),
                measured=_measured(last),
            )
        )
    unexercised = [row.alert for row in coverage.alerts if row.in_runbook and not row.exercised]
    return TabletopScript(
        title=plan.name,
        description=plan.description,
        source=str(plan.path),
        runbook=runbook.source,
        scenarios=scenarios,
        escalation=list(runbook.escalation),
        unexercised=unexercised,
    )
