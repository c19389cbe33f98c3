"""How the extension's probes hand their verdicts to the run, shared by every probe.

A probe observes, asks `gameday.verify` for the verdict, and settles it here:
the expectations are recorded in the run's timeline, and a failed one is
raised as Chaos Toolkit's `ActivityFailed` with the verdict's message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from chaoslib.exceptions import ActivityFailed

from gameday.context import RunContext
from gameday.model import Expectation
from gameday.observe.polling import Polled, poll_with_overtime

__all__ = ["seconds_since", "settle", "watch_from"]
T = TypeVar("T")
POLL_S = 0.2
SLOW_POLL_S = 2.0  # production deadlines (`for: 5m` rules): no need to ask 5 times a second


def settle(context: RunContext, *expectations: Expectation) -> None:
    """Record the verdicts; raise ActivityFailed when one of them failed."""
    for expectation in expectations:
        context.expect(expectation)
    failed = [e["message"] for e in expectations if not e["passed"]]
    if failed:
        raise ActivityFailed("; ".join(failed))


def seconds_since(moment: datetime) -> float:
    return (datetime.now(UTC) - moment).total_seconds()


def watch_from(
    context: RunContext,
    condition: Callable[[], T | None],
    *,
    since: datetime,
    within_s: float,
    overtime_s: float,
    what: str,
    interval_s: float | None = None,
) -> Polled[T]:
    """Poll `condition` until `within_s` seconds after `since` (the fault), then up to
    `overtime_s` longer, telling the progress display what it waits for. The poll
    interval grows with the deadline (0.2 s up to 2 minutes, at most 2 s at 20 minutes),
    so a long wait does not hammer a production Prometheus."""
    if interval_s is None:
        interval_s = max(POLL_S, min(SLOW_POLL_S, within_s / 600))

    def on_wait(left: float, overtime: bool) -> None:
        context.waiting(f"{what} (overtime)" if overtime else what, left)

    return poll_with_overtime(
        condition,
        timeout_s=within_s - seconds_since(since),
        overtime_s=overtime_s,
        interval_s=interval_s,
        on_wait=on_wait,
    )
