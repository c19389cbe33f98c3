"""When each inject happens: planned from the experiment's own timing, or replayed from
what a real run recorded.

Planned: T+0 is the start of the method. Actions happen in order (with their
pauses); an alert is expected when its rule's `for:` has run after the fault (its
deadline when the rule is unknown), a page with its alert, a "must not fire"
check when its window closes, a restoration when a full window of good data
follows the remediation. Every deadline an experiment gives counts from the
fault, so that is where these times count from too.

Replayed: the run's own timeline places every activity where it started (actions)
or was decided (probes), and adds each alert that fired and each page that was
delivered, at the second it happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gameday.experiment import Activity, Experiment, is_negative_func
from gameday.experiment.extension import RESTORATION_PROBES
from gameday.runbook.model import Rule
from gameday.runbook.quantities import parse_duration
from gameday.runbook.terminal import format_duration

__all__ = ["Inject", "planned_injects", "replayed_injects"]


@dataclass(frozen=True)
class Inject:
    """A moment of the scenario: a fault to announce, an expectation, a check, what a real
    run saw (`alert`, `page`)."""

    at_s: float
    kind: str  # "fault", "remediation", "expect", "check", "rollback", "alert", "page"
    title: str
    detail: str = ""


def _expect_title(activity: Activity, alert: str) -> str:
    if activity.func == "notification_delivered":
        receiver = activity.arguments.get("receiver")
        return f"{alert} reaches {receiver}" if receiver else f"{alert} is delivered"
    if is_negative_func(activity.func):
        return f"{alert} must NOT fire"
    return f"{alert} fires"


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def _rule_for_s(rules: Mapping[str, Rule], alert: str) -> float | None:
    rule = rules.get(alert)
    return parse_duration(rule.for_) if rule is not None and rule.for_ else None


def planned_injects(experiment: Experiment, rules: Mapping[str, Rule]) -> list[Inject]:
    """The injects at the times the experiment's timing implies (`rules`: by alert name)."""
    remediation = set(experiment.remediation_names())
    injects: list[Inject] = []
    clock = 0.0
    fault_at = 0.0
    fired_at: dict[str, float] = {}
    for activity in experiment.method:
        clock += activity.pause_before
        alert = activity.alert
        deadline = activity.deadline_s
        if activity.type == "action":
            kind = "remediation" if activity.name in remediation else "fault"
            if kind == "fault":
                fault_at = clock
            injects.append(Inject(clock, kind, activity.name, activity.describe()))
        elif alert is not None:
            during = _seconds(activity.arguments.get("during_s"))
            if is_negative_func(activity.func):
                at = fault_at + (during or 0.0)
                detail = f"for {format_duration(during)}" if during else ""
            else:
                expected = fired_at.get(alert, _rule_for_s(rules, alert))
                at = fault_at + (expected if expected is not None else (deadline or 0.0))
                if deadline is not None:
                    at = min(at, fault_at + deadline)
                fired_at.setdefault(alert, at - fault_at)
                detail = f"within {format_duration(deadline)} of the fault" if deadline else ""
            at = max(at, clock)
            injects.append(Inject(at, "expect", _expect_title(activity, alert), detail))
            clock = at
        elif (activity.module, activity.func) in RESTORATION_PROBES:
            window = _seconds(activity.arguments.get("window_s")) or 0.0
            at = clock + window
            if deadline is not None:
                at = min(at, max(clock, fault_at + deadline))
            detail = f"within {format_duration(deadline)} of the fault" if deadline else ""
            injects.append(Inject(at, "check", activity.name, detail or activity.describe()))
            clock = at
        else:
            waits = _seconds(activity.arguments.get("timeout_s"))
            detail = f"within {format_duration(waits)}" if waits else activity.describe()
            injects.append(Inject(clock, "check", activity.name, detail))
        clock += activity.pause_after
    for activity in experiment.rollbacks:
        injects.append(Inject(clock, "rollback", activity.name, activity.describe()))
    return injects


def _events(timeline: Sequence[Mapping[str, Any]]) -> list[tuple[float, str, str, dict[str, Any]]]:
    found = []
    for event in timeline:
        elapsed = _seconds(event.get("elapsed_s"))
        data = event.get("data")
        if elapsed is None:
            continue
        found.append(
            (
                elapsed,
                str(event.get("kind", "")),
                str(event.get("detail", "")),
                data if isinstance(data, dict) else {},
            )
        )
    return sorted(found, key=lambda item: item[0])


def replayed_injects(
    experiment: Experiment, timeline: Sequence[Mapping[str, Any]]
) -> list[Inject] | None:
    """The injects at the times a real run of `experiment` recorded (None when the
    timeline never reached the method)."""
    events = _events(timeline)
    start = next((at for at, kind, _, _ in events if kind == "method_started"), None)
    if start is None:
        return None
    remediation = set(experiment.remediation_names())
    started: dict[str, list[float]] = {}
    completed: dict[str, list[float]] = {}
    for at, kind, detail, _ in events:
        if at < start:
            continue
        if kind == "activity_started":
            started.setdefault(detail, []).append(at - start)
        elif kind == "activity_completed":
            completed.setdefault(detail.rsplit(": ", 1)[0], []).append(at - start)
    injects: list[Inject] = []
    planned = planned_injects(experiment, {})
    for activity, plan in zip(experiment.method, planned, strict=False):
        times = (started if activity.type == "action" else completed).get(activity.name)
        if not times:
            continue  # not reached in that run
        at = times.pop(0)
        if activity.type == "action":
            kind = "remediation" if activity.name in remediation else "fault"
            injects.append(Inject(at, kind, activity.name, activity.describe()))
        else:
            injects.append(Inject(at, plan.kind, plan.title, plan.detail))
    for at, kind, detail, data in events:
        if at < start:
            continue
        if kind == "alert_firing":
            injects.append(Inject(at - start, "alert", f"{detail} fires", "seen in the run"))
        elif kind == "notified" and data.get("status", "firing") == "firing":
            injects.append(Inject(at - start, "page", detail, "delivered in the run"))
        elif kind == "rollbacks_started":
            injects.extend(
                Inject(at - start, "rollback", a.name, a.describe()) for a in experiment.rollbacks
            )
    return sorted(injects, key=lambda inject: inject.at_s)
