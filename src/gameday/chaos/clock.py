"""Deadlines measured from the fault: the reference every expectation's time is taken from."""

from __future__ import annotations

from datetime import UTC, datetime

from gameday.engine import timeline


def reference_time() -> tuple[datetime, str]:
    """The time expectations are measured from: the last fault, else now."""
    fault = timeline.fault_time()
    if fault is not None:
        return fault, "the fault"
    return datetime.now(UTC), "the probe's start"


def seconds_since(moment: datetime) -> float:
    return (datetime.now(UTC) - moment).total_seconds()
