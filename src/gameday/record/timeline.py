"""The run's timeline: every event with its time. The spine of verdicts and reports.

Each run has one, held by its run context (`gameday.context`); gameday's
actions, probes and controls record into it through that context.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from gameday.model import EventKind, Expectation, TimelineEvent

EventListener = Callable[[TimelineEvent], None]
ExpectationListener = Callable[[Expectation], None]
WaitListener = Callable[[str, float], None]


class Timeline:
    """Thread-safe: chaoslib may run activities in background threads."""

    def __init__(self, started: datetime | None = None) -> None:
        self.started = started or datetime.now(UTC)
        self._events: list[TimelineEvent] = []
        self._expectations: list[Expectation] = []
        self._lock = threading.Lock()
        self._current = threading.local()
        # Set by the run's signal handler. A KeyboardInterrupt raised while Python runs a
        # finalizer is swallowed ("Exception ignored in ..."), so waits raise it again.
        self.interrupt_requested = False
        self.event_listeners: list[EventListener] = []
        self.expectation_listeners: list[ExpectationListener] = []
        self.wait_listeners: list[WaitListener] = []

    def record(
        self,
        kind: EventKind,
        detail: str = "",
        at: datetime | None = None,
        /,
        **data: object,
    ) -> TimelineEvent:
        moment = at or datetime.now(UTC)
        event = TimelineEvent(
            at=moment.isoformat(),
            elapsed_s=round((moment - self.started).total_seconds(), 3),
            kind=kind,
            detail=detail,
            data=dict(data),
        )
        with self._lock:
            self._events.append(event)
        for listener in self.event_listeners:
            listener(event)
        return event

    def raise_if_interrupted(self) -> None:
        if self.interrupt_requested and threading.current_thread() is threading.main_thread():
            raise KeyboardInterrupt

    def waiting(self, what: str, seconds_left: float) -> None:
        """Tell progress displays what the run is waiting for and how long is left."""
        self.raise_if_interrupted()
        for listener in self.wait_listeners:
            listener(what, seconds_left)

    def start_activity(self, name: str) -> None:
        """The activity running in this thread (chaoslib runs background ones in threads)."""
        self._current.activity = name
        self._current.started = datetime.now(UTC)

    def activity_started_at(self) -> datetime | None:
        """When the activity running in this thread started (None outside an activity)."""
        started: datetime | None = getattr(self._current, "started", None)
        return started

    def expect(self, expectation: Expectation) -> None:
        expectation.setdefault("activity", getattr(self._current, "activity", None))
        with self._lock:
            self._expectations.append(expectation)
        for listener in self.expectation_listeners:
            listener(expectation)

    @property
    def events(self) -> list[TimelineEvent]:
        with self._lock:
            return sorted(self._events, key=lambda e: e["at"])

    @property
    def expectations(self) -> list[Expectation]:
        with self._lock:
            return list(self._expectations)

    def last(self, kind: EventKind) -> TimelineEvent | None:
        found = [event for event in self.events if event["kind"] == kind]
        return found[-1] if found else None

    def time_of(self, kind: EventKind) -> datetime | None:
        """When the last event of this kind happened, if any."""
        event = self.last(kind)
        return datetime.fromisoformat(event["at"]) if event else None

    def phase(self) -> str:
        """'steady state before the fault', 'steady state after the method', or '' in the
        method: what a probe's expectation is named after."""
        for event in reversed(self.events):
            if event["kind"] == "steady_state_started":
                return event["detail"]
            if event["kind"] == "method_started":
                return ""
        return ""
