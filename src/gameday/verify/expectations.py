"""What probes observed, plus the budgets they were given, turned into expectations.

This is the one place a verdict is made and worded. Probes observe (times from
the fault, states, values) and hand their observations here; every deadline is
counted from the fault (`reference` names what it counted from when no fault
was seen: "the probe's start"). Reports render these verdicts, never re-judge.
"""

from __future__ import annotations

from collections.abc import Sequence

from gameday.model import Expectation, ExpectationKind, Measure

__all__ = [
    "alert_does_not_fire",
    "alert_fires",
    "alert_routed",
    "notification_delivered",
    "notification_not_delivered",
    "objectives_hold",
    "over_budget",
    "quiet_baseline",
    "restored",
]


def _already_active(alert: str, preexisting: Sequence[tuple[str, float]]) -> str:
    """'RedisDown was already firing 42.0s before the fault; it cannot be attributed to it'"""
    state, before = max(preexisting, key=lambda item: item[1])
    return (
        f"{alert} was already {state} {before:.1f}s before the fault; it cannot be attributed to it"
    )


def over_budget(measured_s: float, budget_s: float) -> str:
    """'4.1s over the 2s budget': how a missed budget is worded everywhere."""
    return f"{measured_s - budget_s:.1f}s over the {budget_s:g}s budget"


def _expectation(
    kind: ExpectationKind,
    name: str,
    passed: bool,
    message: str,
    *,
    alert: str | None = None,
    receiver: str | None = None,
    measured_s: float | None = None,
    budget_s: float | None = None,
    measure: Measure | None = None,
) -> Expectation:
    expectation = Expectation(
        name=name,
        kind=kind,
        alert=alert,
        receiver=receiver,
        passed=passed,
        measured_s=None if measured_s is None else round(measured_s, 3),
        budget_s=budget_s,
        message=message,
    )
    if measure is not None:
        expectation["measure"] = measure
    return expectation


def _timed_message(
    what: str, measured_s: float | None, budget_s: float, reference: str, missing: str
) -> tuple[bool, str]:
    """Whether `what` happened within the budget, and the sentence that says so."""
    if measured_s is None:
        return False, missing
    happened = f"{what} {measured_s:.1f}s after {reference}"
    if measured_s > budget_s:
        return False, f"{happened}: {over_budget(measured_s, budget_s)}"
    return True, f"{happened} (budget {budget_s:g}s)"


def alert_fires(
    alert: str,
    *,
    within_s: float,
    reference: str,
    firing_after_s: float | None,
    pending_after_s: float | None = None,
    overtime_s: float = 0,
    preexisting: Sequence[tuple[str, float]] = (),
) -> Expectation:
    """The alert was seen firing `firing_after_s` seconds after the reference (None: not
    within the deadline nor the overtime watched after it). Measures the MTTD.

    `preexisting` lists instances that were already active when the fault began, as
    (state, seconds before the fault): they are never credited to the fault. Only an
    instance that became active after the fault (also one that resolved and fired again)
    counts."""
    state = f"pending from +{pending_after_s:.1f}s" if pending_after_s is not None else ""
    missing = (
        f"{alert} did not fire within {within_s:g}s of {reference}, "
        f"nor {overtime_s:g}s later ({state or 'never pending'})"
    )
    if firing_after_s is None and preexisting:
        missing = _already_active(alert, preexisting)
    passed, message = _timed_message(f"{alert} fired", firing_after_s, within_s, reference, missing)
    return _expectation(
        "alert_fires",
        f"{alert} fires within {within_s:g}s",
        passed,
        message,
        alert=alert,
        measured_s=firing_after_s,
        budget_s=within_s,
        measure="mttd",
    )


def alert_does_not_fire(
    alert: str, *, during_s: float, reference: str, fired_after_s: float | None
) -> Expectation:
    """The alert fired `fired_after_s` seconds after the reference (None: it stayed silent
    for `during_s`)."""
    name = f"{alert} does not fire"
    if fired_after_s is not None:
        message = f"{alert} fired {fired_after_s:.1f}s after {reference}; it must not fire"
        return _expectation(
            "alert_does_not_fire", name, False, message, alert=alert, measured_s=fired_after_s
        )
    message = f"{alert} stayed silent for {during_s:g}s"
    return _expectation("alert_does_not_fire", name, True, message, alert=alert, budget_s=during_s)


def notification_delivered(
    alert: str,
    receiver: str,
    *,
    status: str,
    within_s: float,
    reference: str,
    delivered_after_s: float | None,
    overtime_s: float = 0,
    delivered_elsewhere: list[str] | None = None,
    judged_by: str | None = None,
    failed_attempts: bool = False,
) -> Expectation:
    """The notification reached the receiver `delivered_after_s` seconds after the reference
    (None: not within the deadline nor the overtime). Measures the time to notify.
    `judged_by`: how delivery was judged when not by gameday's sink (Alertmanager's
    counters); `failed_attempts`: those counters show a failed notification."""
    where = f"; it went to {', '.join(delivered_elsewhere)} instead" if delivered_elsewhere else ""
    missing = (
        f"{alert} ({status}) was not delivered to {receiver} within {within_s:g}s, "
        f"nor {overtime_s:g}s later{where}"
    )
    passed, message = _timed_message(
        f"{alert} ({status}) reached {receiver}", delivered_after_s, within_s, reference, missing
    )
    if failed_attempts:
        passed = False
        message = f"{alert} ({status}): Alertmanager's notifications to {receiver} failed"
    if judged_by:
        message = f"{message} ({judged_by})"
    return _expectation(
        "notification_delivered",
        f"{alert} ({status}) delivered to {receiver} within {within_s:g}s",
        passed,
        message,
        alert=alert,
        receiver=receiver,
        measured_s=delivered_after_s,
        budget_s=within_s,
        measure="notify",
    )


def alert_routed(
    alert: str,
    receiver: str,
    *,
    within_s: float,
    reference: str,
    routed_after_s: float | None,
    overtime_s: float = 0,
    routed_elsewhere: Sequence[str] = (),
    suppressed: Sequence[str] = (),
    preexisting: bool = False,
) -> Expectation:
    """Alertmanager held the alert, active (not silenced nor inhibited), routed to
    `receiver`, `routed_after_s` seconds after the reference (None: it did not within the
    deadline nor the overtime). `routed_elsewhere`: the receivers it was routed to
    instead; `suppressed`: why it was quiet (the silence or the inhibiting alert)."""
    if suppressed:
        why = f"; Alertmanager held it but {'; '.join(suppressed)}"
    elif routed_elsewhere:
        why = f"; Alertmanager routed it to {', '.join(routed_elsewhere)} instead"
    elif preexisting:
        why = "; the only instance Alertmanager held began before the fault"
    else:
        why = "; Alertmanager never received it"
    missing = (
        f"{alert} was not routed to {receiver} within {within_s:g}s, nor {overtime_s:g}s later{why}"
    )
    passed, message = _timed_message(
        f"{alert} was routed to {receiver} (active in Alertmanager)",
        routed_after_s,
        within_s,
        reference,
        missing,
    )
    return _expectation(
        "alert_routed",
        f"{alert} routed to {receiver} within {within_s:g}s",
        passed,
        message,
        alert=alert,
        receiver=receiver,
        measured_s=routed_after_s,
        budget_s=within_s,
    )


def notification_not_delivered(
    receiver: str,
    *,
    alert: str | None,
    during_s: float,
    reference: str,
    delivered_alert: str | None,
) -> Expectation:
    """`delivered_alert` reached the receiver (None: nothing did for `during_s`)."""
    name = f"no {alert or 'alert'} delivered to {receiver}"
    if delivered_alert is not None:
        message = f"{delivered_alert} reached {receiver}; nothing should have"
        return _expectation(
            "alert_does_not_fire", name, False, message, alert=delivered_alert, receiver=receiver
        )
    message = f"nothing reached {receiver} for {during_s:g}s after {reference}"
    return _expectation(
        "alert_does_not_fire",
        name,
        True,
        message,
        alert=alert,
        receiver=receiver,
        budget_s=during_s,
    )


def quiet_baseline(
    alerts: Sequence[str], *, still_active: Sequence[str], waited_s: float
) -> Expectation:
    """Before the fault, none of the experiment's alerts may be pending or firing:
    `still_active` are those that were, after waiting `waited_s` for them to resolve."""
    name = "quiet baseline: " + ", ".join(alerts) + " not active before the fault"
    if still_active:
        message = (
            f"not quiet: {', '.join(still_active)} still active after waiting "
            f"{waited_s:.0f}s; a fault now could not be credited with them"
        )
        return _expectation("steady_state", name, False, message)
    waited = f" (waited {waited_s:.0f}s for earlier alerts to resolve)" if waited_s >= 1 else ""
    return _expectation("steady_state", name, True, f"none of them active{waited}")


def objectives_hold(
    name: str, *, window_s: float, violations: list[str], shown: str, what: str = ""
) -> Expectation:
    """Objectives judged over the last `window_s` seconds: `violations` are the ones that
    did not hold, `shown` the values seen. `what` prefixes the messages ("SLO")."""
    prefix = f"{what} " if what else ""
    if violations:
        message = f"{prefix}not held over the last {window_s:.0f}s: " + "; ".join(violations)
        return _expectation("slo_holds", name, False, message)
    return _expectation("slo_holds", name, True, f"{prefix}held over {window_s:.0f}s: {shown}")


def restored(
    what: str,
    *,
    name: str,
    within_s: float,
    reference: str,
    mttr_s: float | None,
    shown: str,
    still: list[str],
    overtime_s: float = 0,
    mttr_budget_s: float | None = None,
) -> list[Expectation]:
    """`what` held again `mttr_s` seconds after the reference (None: not within the
    deadline nor the overtime; `still` says what did not hold). With `mttr_budget_s`
    (the runbook's MTTR target) the MTTR is an expectation of its own; the last one
    returned carries the budget the run's MTTR is judged against."""
    missing = (
        f"{what} not restored within {within_s:g}s of {reference}, nor {overtime_s:g}s later: "
        + "; ".join(still)
    )
    passed, message = _timed_message(f"{what} restored", mttr_s, within_s, reference, missing)
    if mttr_s is not None:
        message += f": {shown}"
    found = [
        _expectation(
            "slo_restored",
            name,
            passed,
            message,
            measured_s=mttr_s,
            budget_s=within_s,
            measure="mttr",
        )
    ]
    if mttr_budget_s is not None and mttr_s is not None:
        within = mttr_s <= mttr_budget_s
        verdict = "within" if within else "over"
        found.append(
            _expectation(
                "slo_restored",
                f"MTTR within {mttr_budget_s:g}s",
                within,
                f"MTTR {mttr_s:.1f}s is {verdict} the budget of {mttr_budget_s:g}s",
                measured_s=mttr_s,
                budget_s=mttr_budget_s,
                measure="mttr",
            )
        )
    return found
