"""The run context: everything one run shares, created by the engine for each run.

It is the composition root of a run (keyword-only, like Locust's `Environment`)
and the one way gameday's Chaos Toolkit activities reach the run they are part
of::

    from gameday.context import run_context

    def my_probe(configuration: Configuration = None, secrets: Secrets = None) -> bool:
        context = run_context(configuration)
        context.record("fault_applied", "what happened", fault="my_probe")

Chaos Toolkit calls activities with nothing but their arguments, `configuration`
and `secrets`, so the engine makes its context the active one while chaoslib
runs the experiment (`with context.activated(): ...`). Outside a gameday run
(plain `chaos run`), `run_context` gives a detached context for the
configuration's target: it records into a timeline nobody reads, and deadlines
count from the probe's start since no fault was seen.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gameday.load.session import LoadSession
from gameday.model import EventKind, Expectation, LoadSummary
from gameday.observe.alertmanager import DeliveryCounters
from gameday.observe.prometheus import Prometheus
from gameday.record.ledger import FaultLedger
from gameday.record.timeline import Timeline
from gameday.targets import Target, resolve_target

__all__ = ["RunContext", "run_context"]


@dataclass(kw_only=True)
class RunContext:
    """What one run shares between the engine and the extension's activities.

    :param timeline: where every event and expectation of the run is recorded
    :param target: the system under test (its Prometheus, sink, lab)
    :param ledger: the fault ledger faults record their reverts in (None: no lab)
    :param experiment_dir: the experiment's directory (relative paths in it, e.g. a
        locustfile, are looked up there)
    :param load: the load running for this run, set by the load control
    :param detached: made by `run_context` outside a gameday run (plain `chaos run`)
    :param delivery_baseline: Alertmanager's notification counters at the last fault
        (taken by the engine when the target has no notification sink)
    """

    timeline: Timeline
    target: Target
    ledger: FaultLedger | None = None
    experiment_dir: Path | None = None
    load: LoadSession | None = None
    detached: bool = False
    delivery_baseline: DeliveryCounters | None = None
    load_summary: LoadSummary | None = field(default=None, init=False)

    def record(
        self, kind: EventKind, detail: str = "", at: datetime | None = None, /, **data: object
    ) -> None:
        if kind == "fault_applied" and "activity_started_at" not in data:
            # A fault takes effect while its action runs, before the action records it:
            # attribution counts from the action's start.
            started = self.timeline.activity_started_at()
            if started is not None:
                data["activity_started_at"] = started.isoformat()
        self.timeline.record(kind, detail, at, **data)

    def expect(self, expectation: Expectation) -> None:
        self.timeline.expect(expectation)

    def waiting(self, what: str, seconds_left: float) -> None:
        """Tell progress displays what the run waits for; raises a pending interrupt."""
        self.timeline.waiting(what, seconds_left)

    def phase(self) -> str:
        return self.timeline.phase()

    def fault_time(self) -> datetime | None:
        """When the most recent fault of this run was applied, if any."""
        return self.timeline.time_of("fault_applied")

    def fault_started(self) -> datetime | None:
        """When the action that applied the most recent fault started: anything active
        before this moment cannot have been caused by the fault."""
        event = self.timeline.last("fault_applied")
        if event is None:
            return None
        started = event["data"].get("activity_started_at")
        if isinstance(started, str):
            return datetime.fromisoformat(started)
        return datetime.fromisoformat(event["at"])

    def reference_time(self) -> tuple[datetime, str]:
        """The clock every deadline counts from: the last fault, else now (no fault seen,
        e.g. a probe in the steady state or outside a gameday run)."""
        fault = self.fault_time()
        if fault is not None:
            return fault, "the fault"
        return datetime.now(UTC), "the probe's start"

    def client_prometheus(self) -> Prometheus:
        """Where Locust's client-side figures are: gameday's own Prometheus for the load on
        a system that is not the lab, else the target's."""
        monitor = self.load.monitor if self.load is not None and self.load.running else None
        if monitor is not None:
            return Prometheus(monitor.url)
        return self.target.prometheus()

    def load_started_at(self) -> datetime | None:
        """When the load running now started (None when none runs)."""
        return self.load.started_at if self.load is not None and self.load.running else None

    def stop_load(self) -> LoadSummary | None:
        """Stop the load if it runs (idempotent); its final figures are kept."""
        load, self.load = self.load, None
        if load is None:
            return None
        summary = load.stop()
        self.load_summary = summary
        if summary is not None:
            self.record(
                "load_stopped",
                f"{summary['requests']} requests, {summary['failures']} failures, "
                f"{summary['requests_per_s']} req/s",
                **dict(summary),
            )
        else:
            self.record("load_stopped", "load stopped (no final figures)")
        return summary

    def activate(self) -> RunContext | None:
        """Make this the context `run_context` gives the activities; returns the one it
        replaces, to hand back to `deactivate`."""
        global _active
        with _lock:
            previous, _active = _active, self
        return previous

    def deactivate(self, previous: RunContext | None = None) -> None:
        """Stop being the active context (no effect when another one is active now)."""
        global _active
        with _lock:
            if _active is self:
                _active = previous

    @property
    def active(self) -> bool:
        return _active is self

    @contextmanager
    def activated(self) -> Iterator[RunContext]:
        """The active context for the block (the engine's run)."""
        previous = self.activate()
        try:
            yield self
        finally:
            self.deactivate(previous)


_lock = threading.Lock()
# The one registration point: Chaos Toolkit gives activities no handle of their own.
_active: RunContext | None = None


def run_context(configuration: Mapping[str, Any] | None = None) -> RunContext:
    """The context of the run in progress, or a detached one for `configuration`'s target
    (plain `chaos run`). Raises chaoslib's ActivityFailed when no target can be found."""
    active = _active
    if active is not None:
        return active
    target = resolve_target(configuration)
    return RunContext(
        timeline=Timeline(),
        target=target,
        ledger=target.own_ledger(),
        detached=True,
    )
