"""Progress on the terminal: each timeline event as it happens, and what the run waits for."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

from gameday.model import TimelineEvent

QUIET_KINDS = {"activity_started", "method_started", "steady_state_started"}
LABELS = {
    "run_started": "run started",
    "load_started": "load started",
    "load_stopped": "load stopped",
    "steady_state_met": "steady state met",
    "steady_state_failed": "STEADY STATE NOT MET",
    "activity_completed": "activity",
    "fault_applied": "FAULT",
    "fault_reverted": "fault reverted",
    "alert_pending": "alert pending",
    "alert_firing": "ALERT FIRING",
    "alert_resolved": "alert resolved",
    "alert_silent": "alert silent",
    "notified": "notified",
    "remediation_started": "remediation",
    "remediation_completed": "remediation done",
    "slo_held": "SLO held",
    "slo_violated": "SLO VIOLATED",
    "slo_restored": "SLO restored",
    "rollbacks_started": "rolling back",
    "rollbacks_completed": "rollbacks done",
    "interrupted": "INTERRUPTED",
    "alert_active_at_fault": "already active at the fault",
    "stop_condition_tripped": "STOP CONDITION TRIPPED",
    "lab_parts_started": "lab parts started",
    "run_finished": "run finished",
    "error": "ERROR",
}


PHASES = {
    "steady_state_started": "steady state",
    "method_started": "method",
    "fault_applied": "fault window",
    "remediation_started": "remediation",
    "rollbacks_started": "rolling back",
    "rollbacks_completed": "finishing",
}


def event_line(event: TimelineEvent, label: str = "") -> str:
    name = LABELS.get(event["kind"], event["kind"])
    prefix = f"{label} " if label else ""
    return f"{prefix}  +{event['elapsed_s']:7.1f}s  {name}: {event['detail']}"


class LineProgress:
    """Plain lines, one per event; waiting notes at most every `wait_every_s` per subject.
    For logs and CI."""

    def __init__(
        self, stream: TextIO | None = None, *, label: str = "", wait_every_s: float = 5.0
    ) -> None:
        self._stream = stream or sys.stderr
        self._label = label
        self._wait_every_s = wait_every_s
        self._last_wait: dict[str, float] = {}

    def event(self, event: TimelineEvent) -> None:
        if event["kind"] in QUIET_KINDS:
            return
        self._write(event_line(event, self._label))

    def waiting(self, what: str, seconds_left: float) -> None:
        now = time.monotonic()
        last = self._last_wait.get(what)
        if last is None:
            self._last_wait[what] = now  # first call: the wait just began; report later
            return
        if now - last >= self._wait_every_s:
            self._last_wait[what] = now
            prefix = f"{self._label} " if self._label else ""
            self._write(f"{prefix}  {'':9}  waiting for {what} ({left(seconds_left)} left)")

    def _write(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        pass


def left(seconds: float) -> str:
    """'42s', or '24m 05s' for the long waits of production rules (`for: 5m` and more)."""
    if seconds < 120:
        return f"{seconds:.0f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m {rest:02d}s"


class LiveProgress:
    """For a terminal: event lines scroll by; one status line at the bottom shows the
    experiment, its phase, what it waits for and how long is left of that deadline."""

    def __init__(self, stream: TextIO | None = None, *, label: str = "") -> None:
        self._stream = stream or sys.stderr
        self._label = label
        self._phase = "starting"
        self._status = ""

    def event(self, event: TimelineEvent) -> None:
        self._phase = PHASES.get(event["kind"], self._phase)
        if event["kind"] not in QUIET_KINDS:
            self._stream.write("\r\033[K" + event_line(event, self._label) + "\n")
        self._draw(self._status_line(""))

    def waiting(self, what: str, seconds_left: float) -> None:
        self._draw(self._status_line(f"waiting for {what} ({left(seconds_left)} left)"))

    def _status_line(self, waiting: str) -> str:
        parts = [part for part in (self._label, self._phase, waiting) if part]
        return " · ".join(parts)

    def _draw(self, status: str) -> None:
        self._status = status
        self._stream.write("\r\033[K" + status)
        self._stream.flush()

    def close(self) -> None:
        self._stream.write("\r\033[K")
        self._stream.flush()


def progress_for(stream: TextIO | None = None, *, label: str = "") -> LineProgress | LiveProgress:
    """A live display on a terminal, plain lines otherwise (pipes, files, CI)."""
    stream = stream or sys.stderr
    if stream.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb":
        return LiveProgress(stream, label=label)
    return LineProgress(stream, label=label)
