"""A run context over the hand-written monitoring fake, made active as the engine does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from tests.monitoring_fakes import Monitoring, serving

from gameday.context import RunContext
from gameday.record.timeline import Timeline
from gameday.targets import resolve_target


@dataclass
class FakeRun:
    monitoring: Monitoring
    context: RunContext

    def fault(self, seconds_ago: float = 0.0) -> None:
        at = datetime.now(UTC) - timedelta(seconds=seconds_ago)
        self.context.record("fault_applied", "a fault", at, fault="test")


@pytest.fixture
def fake_run() -> Iterator[FakeRun]:
    with serving() as monitoring:
        context = RunContext(timeline=Timeline(), target=resolve_target(monitoring.configuration))
        with context.activated():
            yield FakeRun(monitoring, context)
