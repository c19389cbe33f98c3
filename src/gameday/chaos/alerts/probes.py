"""Alert and notification expectations, polled with deadlines measured from the fault.

Each probe returns as soon as its condition is decided, records its outcome as
an expectation in the run's timeline (MTTD, time to notify), and raises
`ActivityFailed` with a clear message when the expectation is not met.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import requests
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.clock import reference_time
from gameday.chaos.expectations import expect
from gameday.chaos.target import resolve_target
from gameday.engine import timeline
from gameday.observe.notifications import Notification
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import ActiveAlert, Prometheus

__all__ = [
    "alert_does_not_fire",
    "alert_fires",
    "notification_delivered",
    "notification_not_delivered",
]
logger = logging.getLogger("gameday.chaos.alerts.probes")
POLL_S = 0.2
HTTP_TIMEOUT_S = 5


def _matches(alert: ActiveAlert, name: str, labels: dict[str, str] | None) -> bool:
    if alert["alertname"] != name:
        return False
    return all(alert["labels"].get(key) == value for key, value in (labels or {}).items())


def _firing_offset(prometheus: Prometheus, alert: str, since: datetime) -> float | None:
    """Seconds from `since` to the first evaluation that had `alert` firing, per ALERTS."""
    window = max(1, int((datetime.now(UTC) - since).total_seconds()) + 1)
    selector = f'ALERTS{{alertname="{alert}",alertstate="firing"}}'
    first = prometheus.query_value(f"min(min_over_time(timestamp({selector})[{window}s:1s]))")
    if first is None:
        return None
    return max(0.0, first - since.timestamp())


def alert_fires(
    alert: str,
    within_s: float = 60,
    labels: dict[str, str] | None = None,
    overtime_s: float = 30,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Expect the alert `alert` (optionally with these labels) to go pending and then
    firing in Prometheus within `within_s` seconds of the fault.

    The time from the fault to firing is the MTTD. When the deadline passes,
    the probe fails but keeps watching up to `overtime_s` more seconds to say
    by how much the budget was missed. Returns the times seen (seconds after
    the fault) and Prometheus' `activeAt` for the alert.
    """
    prometheus = Prometheus(resolve_target(configuration).prometheus_url)
    since, reference = reference_time()
    deadline_s = within_s - (datetime.now(UTC) - since).total_seconds()
    seen: dict[str, float] = {}
    active_at: list[str] = []

    def fired() -> ActiveAlert | None:
        for candidate in prometheus.alerts():
            if not _matches(candidate, alert, labels):
                continue
            offset = (datetime.now(UTC) - since).total_seconds()
            if candidate["state"] not in seen:
                seen[candidate["state"]] = offset
                active_at[:] = [candidate["active_at"]]
            if candidate["state"] == "firing":
                return candidate
        return None

    polled = poll_until(
        fired,
        timeout_s=max(0.0, deadline_s),
        interval_s=POLL_S,
        on_wait=lambda left: timeline.waiting(f"{alert} to fire", left),
    )
    name = f"{alert} fires within {within_s:g}s"
    if polled.value is None:
        late = poll_until(
            fired,
            timeout_s=overtime_s,
            interval_s=POLL_S,
            on_wait=lambda left: timeline.waiting(f"{alert} to fire late (overtime)", left),
        )
        if late.value is not None:
            took = seen["firing"]
            message = (
                f"{alert} fired {took:.1f}s after {reference}: "
                f"{took - within_s:.1f}s over the {within_s:g}s budget"
            )
        else:
            took = None
            state = "never pending"
            if "pending" in seen:
                state = f"pending from +{seen['pending']:.1f}s"
            message = (
                f"{alert} did not fire within {within_s:g}s of {reference}, "
                f"nor {overtime_s:g}s later ({state})"
            )
        expect("alert_fires", name, False, message, alert=alert, measured_s=took, budget_s=within_s)
        raise ActivityFailed(message)
    mttd = seen["firing"]
    if "pending" not in seen:
        # Already firing when this probe first looked (it started late): take the
        # time from Prometheus' own ALERTS series instead of this probe's first look.
        mttd = _firing_offset(prometheus, alert, since) or mttd
    if mttd > within_s:
        message = (
            f"{alert} fired {mttd:.1f}s after {reference}: "
            f"{mttd - within_s:.1f}s over the {within_s:g}s budget"
        )
        expect("alert_fires", name, False, message, alert=alert, measured_s=mttd, budget_s=within_s)
        raise ActivityFailed(message)
    message = f"{alert} fired {mttd:.1f}s after {reference} (budget {within_s:g}s)"
    expect("alert_fires", name, True, message, alert=alert, measured_s=mttd, budget_s=within_s)
    return {
        "alert": alert,
        "pending_after_s": seen.get("pending"),
        "firing_after_s": mttd,
        "active_at": active_at[0] if active_at else None,
        "labels": polled.value["labels"],
    }


def alert_does_not_fire(
    alert: str,
    during_s: float = 30,
    labels: dict[str, str] | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Expect the alert `alert` not to fire for `during_s` seconds (pending is allowed).

    Fails as soon as it fires, so a wrong negative costs no extra time.
    """
    prometheus = Prometheus(resolve_target(configuration).prometheus_url)
    since, reference = reference_time()

    def fired() -> ActiveAlert | None:
        return next(
            (
                a
                for a in prometheus.alerts()
                if _matches(a, alert, labels) and a["state"] == "firing"
            ),
            None,
        )

    polled = poll_until(
        fired,
        timeout_s=during_s,
        interval_s=POLL_S,
        on_wait=lambda left: timeline.waiting(f"{alert} to stay silent", left),
    )
    name = f"{alert} does not fire"
    if polled.value is not None:
        after = (datetime.now(UTC) - since).total_seconds()
        message = f"{alert} fired {after:.1f}s after {reference}; it must not fire"
        expect("alert_does_not_fire", name, False, message, alert=alert, measured_s=after)
        raise ActivityFailed(message)
    message = f"{alert} stayed silent for {during_s:g}s"
    expect("alert_does_not_fire", name, True, message, alert=alert, budget_s=during_s)
    timeline.record("alert_silent", message, alert=alert)
    return {"alert": alert, "silent_for_s": during_s}


def _deliveries(
    sink_url: str, *, alert: str | None, receiver: str | None, status: str
) -> list[Notification]:
    params = {"status": status}
    if alert:
        params["alertname"] = alert
    if receiver:
        params["receiver"] = receiver
    try:
        response = requests.get(f"{sink_url}/notifications", params=params, timeout=HTTP_TIMEOUT_S)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise ActivityFailed(f"the notification sink at {sink_url} did not answer: {exc}") from exc
    records: list[Notification] = response.json()
    return records


def notification_delivered(
    alert: str,
    receiver: str,
    within_s: float = 60,
    status: str = "firing",
    overtime_s: float = 30,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Expect Alertmanager to deliver `alert` (status `firing` or `resolved`) to the
    receiver `receiver` within `within_s` seconds of the fault.

    The time from the fault to the delivery is the time to notify. When the
    deadline passes, the probe fails but keeps watching up to `overtime_s` more
    seconds to say by how much the budget was missed.
    """
    sink_url = resolve_target(configuration).sink_url
    since, reference = reference_time()
    deadline_s = within_s - (datetime.now(UTC) - since).total_seconds()

    def delivered() -> Notification | None:
        for record in _deliveries(sink_url, alert=alert, receiver=receiver, status=status):
            if datetime.fromisoformat(record["received_at"]) >= since:
                return record
        return None

    polled = poll_until(
        delivered,
        timeout_s=max(0.0, deadline_s),
        interval_s=POLL_S,
        on_wait=lambda left: timeline.waiting(f"{alert} to reach {receiver}", left),
    )
    if polled.value is None:
        polled = poll_until(
            delivered,
            timeout_s=overtime_s,
            interval_s=POLL_S,
            on_wait=lambda left: timeline.waiting(f"{alert} to reach {receiver} (overtime)", left),
        )
    name = f"{alert} ({status}) delivered to {receiver} within {within_s:g}s"
    took = (
        (datetime.fromisoformat(polled.value["received_at"]) - since).total_seconds()
        if polled.value is not None
        else None
    )
    if took is None or took > within_s:
        if took is not None:
            message = (
                f"{alert} ({status}) reached {receiver} {took:.1f}s after {reference}: "
                f"{took - within_s:.1f}s over the {within_s:g}s budget"
            )
        else:
            elsewhere = sorted(
                {
                    r["receiver"]
                    for r in _deliveries(sink_url, alert=alert, receiver=None, status=status)
                    if datetime.fromisoformat(r["received_at"]) >= since
                }
            )
            where = f"; it went to {', '.join(elsewhere)} instead" if elsewhere else ""
            message = (
                f"{alert} ({status}) was not delivered to {receiver} within {within_s:g}s, "
                f"nor {overtime_s:g}s later{where}"
            )
        expect(
            "notification_delivered",
            name,
            False,
            message,
            alert=alert,
            receiver=receiver,
            measured_s=took,
            budget_s=within_s,
        )
        raise ActivityFailed(message)
    message = f"{alert} reached {receiver} {took:.1f}s after {reference} (budget {within_s:g}s)"
    expect(
        "notification_delivered",
        name,
        True,
        message,
        alert=alert,
        receiver=receiver,
        measured_s=took,
        budget_s=within_s,
    )
    return {"alert": alert, "receiver": receiver, "after_s": took, "record": polled.value}


def notification_not_delivered(
    receiver: str,
    during_s: float = 30,
    alert: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Expect no firing notification (of `alert`, or of any alert) to reach `receiver`
    for `during_s` seconds after the fault: e.g. a single replica kill pages no one.
    """
    sink_url = resolve_target(configuration).sink_url
    since, reference = reference_time()

    def paged() -> Notification | None:
        found = _deliveries(sink_url, alert=alert, receiver=receiver, status="firing")
        return next((r for r in found if datetime.fromisoformat(r["received_at"]) >= since), None)

    polled = poll_until(
        paged,
        timeout_s=during_s,
        interval_s=POLL_S,
        on_wait=lambda left: timeline.waiting(f"no page to {receiver}", left),
    )
    what = alert or "alert"
    name = f"no {what} delivered to {receiver}"
    if polled.value is not None:
        message = f"{polled.value['alertname']} reached {receiver}; nothing should have"
        expect(
            "alert_does_not_fire",
            name,
            False,
            message,
            alert=polled.value["alertname"],
            receiver=receiver,
        )
        raise ActivityFailed(message)
    message = f"nothing reached {receiver} for {during_s:g}s after {reference}"
    expect(
        "alert_does_not_fire",
        name,
        True,
        message,
        alert=alert,
        receiver=receiver,
        budget_s=during_s,
    )
    return {"receiver": receiver, "silent_for_s": during_s}
