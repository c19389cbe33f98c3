"""Waiting for events, not for clocks: poll a condition until it holds or a deadline passes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
DEFAULT_INTERVAL_S = 0.2


@dataclass(frozen=True)
class Polled(Generic[T]):
    """What a poll found (None when the deadline passed first) and when."""

    value: T | None
    elapsed_s: float
    attempts: int

    @property
    def met(self) -> bool:
        return self.value is not None


def poll_until(
    condition: Callable[[], T | None],
    *,
    timeout_s: float,
    interval_s: float = DEFAULT_INTERVAL_S,
    on_wait: Callable[[float], None] | None = None,
) -> Polled[T]:
    """Call `condition` until it returns something other than None, or `timeout_s` passes.

    `on_wait(seconds_left)` is called between attempts, for progress displays.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    attempts = 0
    while True:
        attempts += 1
        value = condition()
        now = time.monotonic()
        if value is not None:
            return Polled(value, now - started, attempts)
        if now >= deadline:
            return Polled(None, now - started, attempts)
        if on_wait is not None:
            on_wait(deadline - now)
        time.sleep(min(interval_s, max(0.0, deadline - now)))


def poll_with_overtime(
    condition: Callable[[], T | None],
    *,
    timeout_s: float,
    overtime_s: float,
    interval_s: float = DEFAULT_INTERVAL_S,
    on_wait: Callable[[float, bool], None] | None = None,
) -> Polled[T]:
    """Poll until the deadline (`timeout_s`, may be 0 when the deadline already passed);
    when nothing was found by then, keep watching `overtime_s` longer, so a late event is
    measured (and its lateness told) instead of being reported as missing.

    `on_wait(seconds_left, in_overtime)` is called between attempts.
    """

    def waiting(overtime: bool) -> Callable[[float], None] | None:
        return None if on_wait is None else (lambda left: on_wait(left, overtime))

    polled = poll_until(
        condition, timeout_s=max(0.0, timeout_s), interval_s=interval_s, on_wait=waiting(False)
    )
    if polled.met or overtime_s <= 0:
        return polled
    late = poll_until(condition, timeout_s=overtime_s, interval_s=interval_s, on_wait=waiting(True))
    return Polled(late.value, polled.elapsed_s + late.elapsed_s, polled.attempts + late.attempts)
