"""Watching the stop conditions while faults may be in place: from the start of the
method until the rollbacks end, every `interval_s` (≤ 1 s). The first condition that
trips is handed to `on_trip` once; the engine then reverts every fault and stops the
method."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import requests

from gameday.errors import GamedayError
from gameday.experiment.guardrails import StopCondition
from gameday.observe.prometheus import Prometheus

logger = logging.getLogger("gameday.engine.stop_conditions")
INTERVAL_S = 0.5


@dataclass(frozen=True)
class Trip:
    """Which condition tripped and what was seen."""

    condition: StopCondition
    value: float | None
    seen: str


class StopConditionWatch:
    """A background thread that evaluates the stop conditions against Prometheus."""

    def __init__(
        self,
        *,
        conditions: Sequence[StopCondition],
        prometheus: Prometheus,
        on_trip: Callable[[Trip], None],
        interval_s: float = INTERVAL_S,
    ) -> None:
        self.conditions = tuple(conditions)
        self.tripped: Trip | None = None
        self._prometheus = prometheus
        self._on_trip = on_trip
        self._interval_s = interval_s
        self._violated_since: dict[StopCondition, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stop-conditions", daemon=True)

    def start(self) -> None:
        if self.conditions and not self._thread.is_alive() and not self._stop.is_set():
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set() and self.tripped is None:
            started = time.monotonic()
            trip = self.check()
            if trip is not None:
                self.tripped = trip
                self._on_trip(trip)
                return
            self._stop.wait(max(0.0, self._interval_s - (time.monotonic() - started)))

    def check(self) -> Trip | None:
        """Evaluate every condition once; the first that has tripped, if any."""
        try:
            firing = {a["alertname"] for a in self._prometheus.alerts() if a["state"] == "firing"}
        except (GamedayError, requests.RequestException) as exc:
            logger.warning("stop conditions not evaluated: %s", exc)
            return None
        now = time.monotonic()
        for condition in self.conditions:
            value: float | None = None
            if condition.alert is not None:
                violated = condition.alert in firing
                seen = f"{condition.alert} is firing"
            else:
                try:
                    value = self._prometheus.query_value(condition.worst_of())
                except GamedayError as exc:
                    logger.warning("stop condition %s not evaluated: %s", condition.name, exc)
                    continue
                violated = value is not None and condition.violated_by(value)
                seen = f"value {value:g}" if value is not None else "no data"
            if not violated:
                self._violated_since.pop(condition, None)
                continue
            since = self._violated_since.setdefault(condition, now)
            if now - since >= condition.for_s:
                held = f" for {now - since:.1f}s" if condition.for_s else ""
                return Trip(condition=condition, value=value, seen=f"{seen}{held}")
        return None
