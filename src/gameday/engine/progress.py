"""Progress on the terminal: each timeline event as it happens, and what the run waits for."""

from __future__ import annotations

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
    "run_finished": "run finished",
    "error": "ERROR",
}


class LineProgress:
    """Plain lines, one per event; waiting notes at most every `wait_every_s` per subject."""

    def __init__(self, stream: TextIO | None = None, *, wait_every_s: float = 5.0) -> None:
        self._stream = stream or sys.stderr
        self._wait_every_s = wait_every_s
        self._last_wait: dict[str, float] = {}

    def event(self, event: TimelineEvent) -> None:
        if event["kind"] in QUIET_KINDS:
            return
        label = LABELS.get(event["kind"], event["kind"])
        self._write(f"  +{event['elapsed_s']:7.1f}s  {label}: {event['detail']}")

    def waiting(self, what: str, seconds_left: float) -> None:
        now = time.monotonic()
        last = self._last_wait.get(what)
        if last is None:
            self._last_wait[what] = now  # first call: the wait just began; report later
            return
        if now - last >= self._wait_every_s:
            self._last_wait[what] = now
            self._write(f"  {'':9}  waiting for {what} ({seconds_left:.0f}s left)")

    def _write(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()
