"""Watches every alert and delivery during a run, so the timeline shows all of them:
the expected ones and the surprises (an unexpected page is worth seeing)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import requests

from gameday.errors import GamedayError
from gameday.observe.notifications import Notification
from gameday.observe.prometheus import Prometheus, active_before
from gameday.record.timeline import Timeline

logger = logging.getLogger("gameday.observe.watcher")
INTERVAL_S = 0.5


class AlertWatcher:
    """A background thread recording alert state changes and notifications."""

    def __init__(self, *, timeline: Timeline, prometheus: Prometheus, sink_url: str | None) -> None:
        self._timeline = timeline
        self._prometheus = prometheus
        self._sink_url = sink_url
        self._since = datetime.now(UTC)
        self._states: dict[frozenset[tuple[str, str]], str] = {}
        self._seen_deliveries: set[tuple[str, str, str, str]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="alert-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.poll()  # one last look, so what just happened is not lost

    def note_fault(self, began: datetime) -> None:
        """Record every alert instance that was already active when a fault began at
        `began` (per Prometheus' activeAt): the fault cannot be credited with them."""
        try:
            alerts = self._prometheus.alerts()
        except GamedayError as exc:
            logger.warning("could not list the alerts active at the fault: %s", exc.message)
            return
        for alert in alerts:
            active = active_before(alert, began)
            if active is None:
                continue
            before = round(active, 3)
            self._timeline.record(
                "alert_active_at_fault",
                f"{_describe(alert['labels'])} already {alert['state']} {before:.1f}s "
                "before the fault",
                alert=alert["alertname"],
                labels=alert["labels"],
                state=alert["state"],
                before_s=before,
            )

    def _loop(self) -> None:
        while not self._stop.wait(INTERVAL_S):
            self.poll()

    def poll(self) -> None:
        try:
            self._poll_alerts()
            self._poll_deliveries()
        except (GamedayError, requests.RequestException, ValueError) as exc:
            logger.debug("watcher poll failed: %s", exc)

    def _poll_alerts(self) -> None:
        current: dict[frozenset[tuple[str, str]], str] = {}
        for alert in self._prometheus.alerts():
            key = frozenset(alert["labels"].items())  # one alert instance: all its labels
            current[key] = alert["state"]
            if self._states.get(key) != alert["state"]:
                self._timeline.record(
                    "alert_firing" if alert["state"] == "firing" else "alert_pending",
                    _describe(alert["labels"]),
                    alert=alert["alertname"],
                    labels=alert["labels"],
                )
        for key, state in self._states.items():
            if key not in current and state == "firing":
                labels = dict(key)
                self._timeline.record(
                    "alert_resolved", _describe(labels), alert=labels.get("alertname", "")
                )
        self._states = current

    def _poll_deliveries(self) -> None:
        if self._sink_url is None:  # a system whose Alertmanager does not send to gameday
            return
        response = requests.get(f"{self._sink_url}/notifications", timeout=2)
        response.raise_for_status()
        records: list[Notification] = response.json()
        for record in records:
            received = datetime.fromisoformat(record["received_at"])
            key = (
                record["received_at"],
                record["receiver"],
                record["alertname"],
                record["fingerprint"],
            )
            if received < self._since or key in self._seen_deliveries:
                continue
            self._seen_deliveries.add(key)
            self._timeline.record(
                "notified",
                f"{record['alertname']} ({record['status']}) -> {record['receiver']}",
                received,
                alert=record["alertname"],
                receiver=record["receiver"],
                status=record["status"],
            )


# Labels every lab alert carries: they tell one firing instance from another not at all.
COMMON_LABELS = {"alertname", "severity", "team", "namespace", "job", "instance"}


def _describe(labels: dict[str, str]) -> str:
    """The alert's name with the labels that tell this instance from another (camera,
    member, …), for people reading the timeline."""
    name = labels.get("alertname", "")
    distinct = ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in COMMON_LABELS)
    return f"{name} {{{distinct}}}" if distinct else name
