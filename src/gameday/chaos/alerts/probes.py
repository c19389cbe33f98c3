"""Alert and notification probes: they watch Prometheus, Alertmanager and the
notification sink from the fault and hand what they saw to `gameday.verify`, which
judges it. `alert_routed` (routing as Alertmanager decides it) lives in `routing`.

Every deadline (`within_s`, `during_s`) counts from the fault. A probe returns
as soon as its condition is decided; when a deadline passes it keeps watching
`overtime_s` longer to say by how much the budget was missed. A failed verdict
raises `ActivityFailed` with its message; every verdict is recorded in the run.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import requests
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.alerts.routing import alert_routed, delivered_by_counters
from gameday.chaos.expectations import seconds_since, settle, watch_from
from gameday.context import RunContext, run_context
from gameday.errors import GamedayError
from gameday.observe.notifications import Notification
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import ActiveAlert, Prometheus, active_before, parse_timestamp
from gameday.verify import expectations as verdicts

__all__ = [
    "alert_does_not_fire",
    "alert_fires",
    "alert_routed",
    "alerts_quiet",
    "notification_delivered",
    "notification_not_delivered",
]
logger = logging.getLogger("gameday.chaos.alerts.probes")
HTTP_TIMEOUT_S = 5


def _matches(alert: ActiveAlert, name: str, labels: dict[str, str] | None) -> bool:
    if alert["alertname"] != name:
        return False
    return all(alert["labels"].get(key) == value for key, value in (labels or {}).items())


def _selector(labels: dict[str, str]) -> str:
    def quoted(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return ",".join(f'{key}="{quoted(value)}"' for key, value in sorted(labels.items()))


def _firing_offset(prometheus: Prometheus, labels: dict[str, str], since: datetime) -> float | None:
    """Seconds from `since` to the first evaluation that had this alert instance firing,
    per Prometheus' ALERTS series."""
    window = max(1, int((datetime.now(UTC) - since).total_seconds()) + 1)
    selector = f'ALERTS{{{_selector(labels)},alertstate="firing"}}'
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
    by how much the budget was missed. An instance that was already pending or
    firing when the fault began is never credited to it (the probe fails saying
    so), unless it resolves and fires again after the fault. Returns the times
    seen (seconds after the fault) and Prometheus' `activeAt` for the alert.
    """
    context = run_context(configuration)
    prometheus = context.target.prometheus()
    since, reference = context.reference_time()
    began = context.fault_started() or since
    seen: dict[str, float] = {}
    active_at: list[str] = []
    preexisting: dict[frozenset[tuple[str, str]], tuple[str, float]] = {}

    def fired() -> ActiveAlert | None:
        for candidate in prometheus.alerts():
            if not _matches(candidate, alert, labels):
                continue
            before = active_before(candidate, began)
            if before is not None:
                preexisting[frozenset(candidate["labels"].items())] = (candidate["state"], before)
                continue
            if candidate["state"] not in seen:
                seen[candidate["state"]] = seconds_since(since)
                active_at[:] = [candidate["active_at"]]
            if candidate["state"] == "firing":
                return candidate
        return None

    polled = watch_from(
        context,
        fired,
        since=since,
        within_s=within_s,
        overtime_s=overtime_s,
        what=f"{alert} to fire",
    )
    mttd = seen.get("firing") if polled.value is not None else None
    if polled.value is not None and mttd is not None and "pending" not in seen:
        # Already firing when this probe first looked (it started late): take the
        # time from Prometheus' own ALERTS series instead of this probe's first look.
        mttd = _firing_offset(prometheus, polled.value["labels"], since) or mttd
    settle(
        context,
        verdicts.alert_fires(
            alert,
            within_s=within_s,
            reference=reference,
            firing_after_s=mttd,
            pending_after_s=seen.get("pending"),
            overtime_s=overtime_s,
            preexisting=list(preexisting.values()),
        ),
    )
    assert polled.value is not None  # settled: it fired
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
    """Expect the alert `alert` not to fire for `during_s` seconds (pending is allowed),
    counted from the fault.

    Fails as soon as it fires, so a wrong negative costs no extra time.
    """
    context = run_context(configuration)
    prometheus = context.target.prometheus()
    since, reference = context.reference_time()

    def fired() -> ActiveAlert | None:
        return next(
            (
                a
                for a in prometheus.alerts()
                if _matches(a, alert, labels) and a["state"] == "firing"
            ),
            None,
        )

    polled = watch_from(
        context,
        fired,
        since=since,
        within_s=during_s,
        overtime_s=0,
        what=f"{alert} to stay silent",
    )
    verdict = verdicts.alert_does_not_fire(
        alert,
        during_s=during_s,
        reference=reference,
        fired_after_s=seconds_since(since) if polled.met else None,
    )
    settle(context, verdict)
    context.record("alert_silent", verdict["message"], alert=alert)
    return {"alert": alert, "silent_for_s": during_s}


def _active_before_fault(
    context: RunContext, prometheus: Prometheus, alert: str
) -> tuple[datetime | None, list[dict[str, str]]]:
    """When the fault began, and the instances of `alert` already active then: those the
    run listed at the fault, and those Prometheus still shows active since before it."""
    began = context.fault_started()
    if began is None:
        return None, []
    instances = [
        {str(k): str(v) for k, v in labels.items()}
        for event in context.timeline.events
        if event["kind"] == "alert_active_at_fault"
        and event["data"].get("alert") == alert
        and isinstance(labels := event["data"].get("labels"), dict)
    ]
    try:
        for candidate in prometheus.alerts():
            if candidate["alertname"] == alert and active_before(candidate, began) is not None:
                instances.append(candidate["labels"])
    except GamedayError as exc:
        logger.warning("could not ask Prometheus which alerts were active: %s", exc.message)
    return began, instances


def _repeat(record: Notification, earlier: tuple[datetime | None, list[dict[str, str]]]) -> bool:
    """A delivery about an instance that began before the fault: not caused by it."""
    began, instances = earlier
    if began is None:
        return False
    started = parse_timestamp(record.get("starts_at", ""))
    if started is not None and started < began:
        return True
    labels = record.get("labels") or {}
    return any(all(labels.get(k) == v for k, v in instance.items()) for instance in instances)


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
    seconds to say by how much the budget was missed. A delivery about an alert
    instance that was already active when the fault began (a repeat of an
    earlier firing, or its resolution) is not a new delivery and never counts.

    Deliveries are read from gameday's notification sink. On a target without one
    (its Alertmanager sends only to its own receivers), a firing delivery is judged
    from Alertmanager's API and notification counters, and the verdict says so.
    """
    context = run_context(configuration)
    if context.target.sink_url is None:
        return _delivered_without_sink(context, alert, receiver, within_s, status, overtime_s)
    sink: str = context.target.sink_url
    since, reference = context.reference_time()
    earlier = _active_before_fault(context, context.target.prometheus(), alert)

    def delivered() -> Notification | None:
        for record in _deliveries(sink, alert=alert, receiver=receiver, status=status):
            if datetime.fromisoformat(record["received_at"]) >= since and not _repeat(
                record, earlier
            ):
                return record
        return None

    polled = watch_from(
        context,
        delivered,
        since=since,
        within_s=within_s,
        overtime_s=overtime_s,
        what=f"{alert} to reach {receiver}",
    )
    took = (
        (datetime.fromisoformat(polled.value["received_at"]) - since).total_seconds()
        if polled.value is not None
        else None
    )
    elsewhere = (
        sorted(
            {
                r["receiver"]
                for r in _deliveries(sink, alert=alert, receiver=None, status=status)
                if datetime.fromisoformat(r["received_at"]) >= since
            }
        )
        if took is None
        else []
    )
    settle(
        context,
        verdicts.notification_delivered(
            alert,
            receiver,
            status=status,
            within_s=within_s,
            reference=reference,
            delivered_after_s=took,
            overtime_s=overtime_s,
            delivered_elsewhere=elsewhere,
        ),
    )
    return {"alert": alert, "receiver": receiver, "after_s": took, "record": polled.value}


def _delivered_without_sink(
    context: RunContext,
    alert: str,
    receiver: str,
    within_s: float,
    status: str,
    overtime_s: float,
) -> dict[str, Any]:
    if status != "firing":
        raise ActivityFailed(
            f"target {context.target.name!r} has no notification sink: only firing deliveries "
            "can be judged from Alertmanager's counters (add sink: {url: …} for resolved ones)"
        )
    _, reference = context.reference_time()
    delivery = delivered_by_counters(
        context, alert, receiver, within_s=within_s, overtime_s=overtime_s
    )
    settle(
        context,
        verdicts.notification_delivered(
            alert,
            receiver,
            status=status,
            within_s=within_s,
            reference=reference,
            delivered_after_s=delivery.after_s,
            overtime_s=overtime_s,
            judged_by=delivery.how,
            failed_attempts=delivery.failed,
        ),
    )
    return {
        "alert": alert,
        "receiver": receiver,
        "after_s": delivery.after_s,
        "judged_by": delivery.how,
    }


def notification_not_delivered(
    receiver: str,
    during_s: float = 30,
    alert: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Expect no firing notification (of `alert`, or of any alert) to reach `receiver`
    for `during_s` seconds after the fault: e.g. a single replica kill pages no one.
    A repeat of an alert that was already active before the fault does not count.
    """
    context = run_context(configuration)
    sink_url = context.target.sink_url
    if sink_url is None:
        raise ActivityFailed(
            f"target {context.target.name!r} has no notification sink: add sink: {{url: …}} "
            "to its target file (and the sink as a receiver with continue: true)"
        )
    since, reference = context.reference_time()
    began = context.fault_started()

    def paged() -> Notification | None:
        found = _deliveries(sink_url, alert=alert, receiver=receiver, status="firing")
        return next(
            (
                r
                for r in found
                if datetime.fromisoformat(r["received_at"]) >= since and not _repeat(r, (began, []))
            ),
            None,
        )

    polled = watch_from(
        context,
        paged,
        since=since,
        within_s=during_s,
        overtime_s=0,
        what=f"no page to {receiver}",
    )
    settle(
        context,
        verdicts.notification_not_delivered(
            receiver,
            alert=alert,
            during_s=during_s,
            reference=reference,
            delivered_alert=polled.value["alertname"] if polled.value is not None else None,
        ),
    )
    return {"receiver": receiver, "silent_for_s": during_s}


def alerts_quiet(
    alerts: list[str],
    wait_s: float = 120,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """Expect none of `alerts` to be pending or firing before the fault (the quiet
    baseline), waiting up to `wait_s` seconds for earlier ones (a previous experiment's)
    to resolve. gameday adds this probe to every experiment's steady state, for the
    alerts the experiment checks, unless its extension says `quiet_baseline: false`.

    After the method (the steady state is checked again then) it holds without
    judging: the alerts the fault caused may still be resolving.
    """
    context = run_context(configuration)
    if context.phase() == "steady state after the method":
        return True
    prometheus = context.target.prometheus()
    wanted = set(alerts)
    still: list[str] = []

    def quiet() -> bool | None:
        active = {
            f"{a['alertname']} ({a['state']})"
            for a in prometheus.alerts()
            if a["alertname"] in wanted
        }
        still[:] = sorted(active)
        return True if not active else None

    polled = poll_until(
        quiet,
        timeout_s=wait_s,
        interval_s=0.5,
        on_wait=lambda left: context.waiting(f"{', '.join(still)} to resolve first", left),
    )
    settle(
        context,
        verdicts.quiet_baseline(
            sorted(wanted), still_active=[] if polled.met else still, waited_s=polled.elapsed_s
        ),
    )
    return True
