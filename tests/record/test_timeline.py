from datetime import UTC, datetime, timedelta

from gameday.record.timeline import Timeline


def test_events_have_offsets_and_come_back_in_time_order() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    line = Timeline(start)
    line.record("alert_firing", "late", start + timedelta(seconds=7))
    line.record("fault_applied", "early", start + timedelta(seconds=2), fault="x")
    assert [(e["kind"], e["elapsed_s"]) for e in line.events] == [
        ("fault_applied", 2.0),
        ("alert_firing", 7.0),
    ]
    assert line.events[0]["data"] == {"fault": "x"}


def test_the_phase_and_the_time_of_the_last_event_of_a_kind() -> None:
    line = Timeline()
    assert line.phase() == "" and line.time_of("fault_applied") is None
    line.record("steady_state_started", "steady state before the fault")
    assert line.phase() == "steady state before the fault"
    line.record("method_started", "method")
    assert line.phase() == ""
    line.record("fault_applied", "stop redis")
    line.record("fault_applied", "stop etcd")
    assert line.time_of("fault_applied") == datetime.fromisoformat(line.events[-1]["at"])
    line.record("steady_state_started", "steady state after the method")
    assert line.phase() == "steady state after the method"


def test_listeners_hear_events_and_waits() -> None:
    line = Timeline()
    heard: list[str] = []
    line.event_listeners.append(lambda e: heard.append(e["kind"]))
    line.wait_listeners.append(lambda what, left: heard.append(f"{what}:{left:.0f}"))
    line.record("load_started")
    line.waiting("RedisDown to fire", 9.6)
    assert heard == ["load_started", "RedisDown to fire:10"]


def test_a_requested_interrupt_is_raised_again_at_the_next_wait_in_the_main_thread() -> None:
    import threading

    import pytest

    line = Timeline()
    line.waiting("anything", 5)  # nothing requested: no effect
    line.interrupt_requested = True
    errors: list[BaseException] = []

    def in_a_worker() -> None:
        try:
            line.waiting("background probe", 5)
        except BaseException as exc:  # a worker must not receive the interrupt
            errors.append(exc)

    worker = threading.Thread(target=in_a_worker)
    worker.start()
    worker.join()
    assert errors == []
    with pytest.raises(KeyboardInterrupt):
        line.waiting("RedisDown to fire", 5)
