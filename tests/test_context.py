"""The run context: the one way activities reach their run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from chaoslib.exceptions import ActivityFailed

from gameday.context import RunContext, run_context
from gameday.record.timeline import Timeline
from gameday.targets import resolve_target

ELSEWHERE = {"prometheus_url": "http://127.0.0.1:9", "notification_sink_url": "http://127.0.0.1:9"}


def _context() -> RunContext:
    return RunContext(timeline=Timeline(), target=resolve_target(ELSEWHERE))


def test_activities_get_the_active_context_and_a_detached_one_outside_a_run() -> None:
    context = _context()
    outside = run_context(ELSEWHERE)
    assert outside is not context and outside.detached
    with context.activated():
        assert run_context(ELSEWHERE) is context
        run_context(ELSEWHERE).record("fault_applied", "stop redis")
    assert run_context(ELSEWHERE) is not context
    assert [e["detail"] for e in context.timeline.events] == ["stop redis"]


def test_activation_nests_and_restores_the_previous_context() -> None:
    outer, inner = _context(), _context()
    with outer.activated():
        with inner.activated():
            assert run_context(ELSEWHERE) is inner
        assert run_context(ELSEWHERE) is outer
        inner.deactivate()  # not the active one: no effect
        assert run_context(ELSEWHERE) is outer


def test_deadlines_count_from_the_last_fault_else_from_now() -> None:
    context = _context()
    before = datetime.now(UTC)
    moment, reference = context.reference_time()
    assert reference == "the probe's start" and moment >= before
    fault = datetime.now(UTC) - timedelta(seconds=12)
    context.record("fault_applied", "stop redis", fault)
    assert context.reference_time() == (fault, "the fault")


def test_without_a_lab_or_urls_no_context_can_be_made(tmp_path: Path) -> None:
    with pytest.raises(ActivityFailed, match="lab"):
        run_context({"gameday_lab_dir": str(tmp_path / "no-lab")})


def test_stopping_load_that_never_started_is_a_no_op() -> None:
    context = _context()
    assert context.stop_load() is None
    assert context.load_summary is None and context.timeline.events == []


def test_a_fault_counts_from_the_start_of_the_action_that_applied_it() -> None:
    import time

    context = _context()
    context.timeline.start_activity("stop redis")
    started = context.timeline.activity_started_at()
    time.sleep(0.05)
    context.record("fault_applied", "stopped redis")
    assert started is not None and context.fault_started() == started
    fault = context.fault_time()
    assert fault is not None and fault > started
