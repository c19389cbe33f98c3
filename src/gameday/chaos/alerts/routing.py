"""Routing and delivery judged where Alertmanager decides them, through its API v2:
works with any Alertmanager, no webhook to gameday needed.

`alert_routed` (exported by `gameday.chaos.alerts.probes`) watches the alerts
Alertmanager holds: each carries the receivers its routing tree sends it to and
whether a silence or an inhibition keeps it quiet. `delivered_by_counters` is how
`notification_delivered` judges delivery on a system whose Alertmanager does not
send to gameday's sink: Alertmanager's own notification counters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.expectations import seconds_since, settle, watch_from
from gameday.context import RunContext, run_context
from gameday.errors import GamedayError
from gameday.observe.alertmanager import Alertmanager, DeliveryCounters, HeldAlert
from gameday.observe.prometheus import parse_timestamp
from gameday.targets.routing import load_config, parse_config
from gameday.verify import expectations as verdicts

__all__ = ["alert_routed"]


def _alertmanager(context: RunContext) -> Alertmanager:
    manager = context.target.alertmanager()
    if manager is None:
        raise ActivityFailed(
            f"target {context.target.name!r} names no Alertmanager: add "
            "alertmanager: {url: …} to its target file"
        )
    return manager


def _labelled(held: HeldAlert, labels: dict[str, str] | None) -> bool:
    return all(held.labels.get(key) == value for key, value in (labels or {}).items())


def _describe(labels: dict[str, str]) -> str:
    shown = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "alertname")
    return f"{labels.get('alertname', '?')}{{{shown}}}"


@dataclass
class _Seen:
    """What the probe saw of the alert's instances that began after the fault."""

    manager: Alertmanager
    elsewhere: set[str] = field(default_factory=set)
    suppressed: dict[str, str] = field(default_factory=dict)
    preexisting: bool = False
    _silences: dict[str, str] = field(default_factory=dict)

    def why_quiet(self, held: HeldAlert) -> None:
        for silence_id in held.silenced_by:
            if silence_id not in self._silences:
                try:
                    self._silences[silence_id] = self.manager.silence(silence_id).describe()
                except GamedayError:
                    self._silences[silence_id] = f"silence {silence_id}"
            self.suppressed[silence_id] = f"it is silenced by {self._silences[silence_id]}"
        if held.inhibited_by:
            by_print = {a.fingerprint: a for a in self.manager.alerts()}
            for fingerprint in held.inhibited_by:
                source = by_print.get(fingerprint)
                shown = _describe(source.labels) if source else f"alert {fingerprint}"
                self.suppressed[fingerprint] = f"it is inhibited by {shown}"


def _caused_by_fault(held: HeldAlert, began: datetime) -> bool:
    started = parse_timestamp(held.starts_at)
    return started is None or started >= began


def alert_routed(
    alert: str,
    receiver: str,
    within_s: float = 60,
    labels: dict[str, str] | None = None,
    overtime_s: float = 30,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Expect Alertmanager to hold the alert `alert` (optionally with these labels)
    active, neither silenced nor inhibited, and routed to `receiver`, within `within_s`
    seconds of the fault.

    Uses the target's Alertmanager API v2 (`/api/v2/alerts` gives the receivers each
    alert is routed to), so it needs no webhook to gameday. When it fails, the message
    says where the alert went instead, or the silence or inhibiting alert that kept it
    quiet. An instance that began before the fault is never credited to it.
    """
    context = run_context(configuration)
    manager = _alertmanager(context)
    since, reference = context.reference_time()
    began = context.fault_started() or since
    seen = _Seen(manager)

    def routed() -> HeldAlert | None:
        for held in manager.alerts(alert):
            if held.alertname != alert or not _labelled(held, labels):
                continue
            if not _caused_by_fault(held, began):
                seen.preexisting = True
                continue
            if held.state == "suppressed":
                seen.why_quiet(held)
            elif held.state == "active":
                if receiver in held.receivers:
                    return held
                seen.elsewhere.update(held.receivers)
        return None

    polled = watch_from(
        context,
        routed,
        since=since,
        within_s=within_s,
        overtime_s=overtime_s,
        what=f"{alert} to be routed to {receiver}",
    )
    took = seconds_since(since) if polled.value is not None else None
    settle(
        context,
        verdicts.alert_routed(
            alert,
            receiver,
            within_s=within_s,
            reference=reference,
            routed_after_s=took,
            overtime_s=overtime_s,
            routed_elsewhere=sorted(seen.elsewhere - {receiver}),
            suppressed=sorted(set(seen.suppressed.values())),
            preexisting=seen.preexisting,
        ),
    )
    assert polled.value is not None  # settled: it was routed
    return {
        "alert": alert,
        "receiver": receiver,
        "after_s": took,
        "labels": polled.value.labels,
        "receivers": list(polled.value.receivers),
    }


@dataclass(frozen=True)
class CounterDelivery:
    """A delivery judged from Alertmanager's counters: when, and how it was judged."""

    after_s: float | None
    failed: bool
    how: str


def delivered_by_counters(
    context: RunContext,
    alert: str,
    receiver: str,
    *,
    within_s: float,
    overtime_s: float,
    on_found: Callable[[float], None] | None = None,
) -> CounterDelivery:
    """Delivery of `alert` to `receiver` judged from Alertmanager alone: the alert is held
    active and routed to the receiver, and the receiver's integrations (webhook, email,
    …) show a new notification attempt, and no new failure, since the fault.

    Alertmanager up to 0.26 counts per integration, not per receiver; the verdict says
    so. Counters are compared with those the run took at the fault (else at the probe's
    start)."""
    manager = _alertmanager(context)
    integrations = _integrations(context, manager, receiver)
    since, _ = context.reference_time()
    # Not from the probe's start: a notification sent before it began would be missed.
    began = context.fault_started() or since
    baseline: DeliveryCounters = context.delivery_baseline or manager.counters()
    failures: list[float] = []

    def attempted() -> float | None:
        routed = any(
            held.state == "active" and receiver in held.receivers and _caused_by_fault(held, began)
            for held in manager.alerts(alert)
        )
        now = manager.counters()
        grew = now.total("attempted", integrations, receiver) - baseline.total(
            "attempted", integrations, receiver
        )
        failed = now.total("failed", integrations, receiver) - baseline.total(
            "failed", integrations, receiver
        )
        failures[:] = [failed]
        return grew if routed and grew > 0 else None

    polled = watch_from(
        context,
        attempted,
        since=since,
        within_s=within_s,
        overtime_s=overtime_s,
        what=f"{alert} to reach {receiver} (Alertmanager's counters)",
    )
    scope = (
        f"receiver {receiver}"
        if baseline.per_receiver
        else f"every receiver's {'/'.join(integrations)} integration (this Alertmanager "
        "counts per integration, not per receiver)"
    )
    failed = bool(failures and failures[0] > 0)
    how = (
        f"judged from Alertmanager's notification counters for {scope}: "
        f"+{polled.value or 0:g} attempted, +{failures[0] if failures else 0:g} failed "
        "since the fault, while it held the alert routed to the receiver"
    )
    took = seconds_since(since) if polled.value is not None else None
    if took is not None and on_found is not None:
        on_found(took)
    return CounterDelivery(after_s=took, failed=failed, how=how)


def _integrations(context: RunContext, manager: Alertmanager, receiver: str) -> tuple[str, ...]:
    try:
        config = (
            load_config(context.target.alertmanager_config)
            if context.target.alertmanager_config is not None
            else parse_config(manager.config_text(), source=f"{manager.url}/api/v2/status")
        )
    except GamedayError as exc:
        raise ActivityFailed(f"could not read Alertmanager's configuration: {exc.message}") from exc
    if receiver not in config.receivers:
        raise ActivityFailed(
            f"Alertmanager has no receiver {receiver!r} (it has: {', '.join(config.receivers)})"
        )
    integrations: tuple[str, ...] = config.integrations(receiver)
    if not integrations:
        raise ActivityFailed(f"receiver {receiver!r} has no integration: it notifies no one")
    return integrations
