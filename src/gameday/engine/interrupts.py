"""Ctrl-C, SIGTERM and a tripped stop condition all stop a run the same way: a
KeyboardInterrupt in the main thread, which chaoslib answers with the rollbacks."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from gameday.record.timeline import Timeline

logger = logging.getLogger("gameday.engine.interrupts")


class InterruptGuard:
    """Ctrl-C and SIGTERM both interrupt the run the same way (KeyboardInterrupt, which
    chaoslib answers with the rollbacks); once rollbacks start, signals wait for them.

    chaoslib installs its own SIGTERM handler while it runs (one that its activity
    wrapper swallows as a failed activity), so `install()` is called again from
    inside the run.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, timeline: Timeline) -> None:
        self.interrupted = False
        self.aborted = False  # by a stop condition, not by a person
        self.rolling_back = False
        self._timeline = timeline

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.rolling_back:
            logger.warning("rolling back: ignoring signal %s until faults are undone", signum)
            return
        if not self.aborted:
            self.interrupted = True
        self._timeline.interrupt_requested = True
        raise KeyboardInterrupt

    def start_rollbacks(self) -> None:
        self.rolling_back = True
        self._timeline.interrupt_requested = False

    def install(self) -> None:
        for sig in self.SIGNALS:
            signal.signal(sig, self._handle)

    @contextlib.contextmanager
    def active(self) -> Iterator[InterruptGuard]:
        previous = {sig: signal.getsignal(sig) for sig in self.SIGNALS}
        self.install()
        try:
            yield self
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    def abort(self) -> None:
        """Stop the method from another thread (a stop condition tripped): the main thread
        gets SIGINT, which wakes it from any wait, and this guard turns it into the
        interrupt chaoslib rolls back on. No effect once rollbacks started."""
        if self.rolling_back:
            return
        self.aborted = True
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
