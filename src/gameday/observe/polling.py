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
