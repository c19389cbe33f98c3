"""The run's timeline: every event with its time. The spine of verdicts and reports.

One timeline is active per run. gameday's actions, probes and controls record
into it through `record()`; outside a gameday run (plain `chaos run`) there is
no active timeline and recording is a no-op, so the extension works either way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from gameday.model import EventKind, Expectation, TimelineEvent

EventListener = Callable[[TimelineEvent], None]
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

    def expect(self, expectation: Expectation) -> None:
        expectation.setdefault("activity", getattr(self._current, "activity", None))
        with self._lock:
            self._expectations.append(expectation)

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


_active: Timeline | None = None
_active_lock = threading.Lock()


def activate(timeline: Timeline | None) -> None:
    """Make `timeline` the one gameday's extension records into (None: stop recording)."""
    global _active
    with _active_lock:
        _active = timeline


def active() -> Timeline | None:
    return _active


def record(
    kind: EventKind, detail: str = "", at: datetime | None = None, /, **data: object
) -> None:
    timeline = _active
    if timeline is not None:
        timeline.record(kind, detail, at, **data)


def expect(expectation: Expectation) -> None:
    timeline = _active
    if timeline is not None:
        timeline.expect(expectation)


def waiting(what: str, seconds_left: float) -> None:
    timeline = _active
    if timeline is not None:
        timeline.waiting(what, seconds_left)


def phase() -> str:
    """'steady state before the fault', 'steady state after the method', or '' in the method."""
    timeline = _active
    if timeline is None:
        return ""
    for event in reversed(timeline.events):
        if event["kind"] == "steady_state_started":
            return event["detail"]
        if event["kind"] == "method_started":
            return ""
    return ""


def time_of(kind: EventKind) -> datetime | None:
    """When the last event of this kind happened in the active run, if any."""
    timeline = _active
    event = timeline.last(kind) if timeline is not None else None
    return datetime.fromisoformat(event["at"]) if event else None


def fault_time() -> datetime | None:
    """When the most recent fault was applied in the active run, if any."""
    return time_of("fault_applied")
