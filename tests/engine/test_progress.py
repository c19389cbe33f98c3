import io

from gameday.engine.progress import LineProgress, LiveProgress, progress_for
from gameday.model import TimelineEvent


def event(kind: str, detail: str, elapsed: float = 1.5) -> TimelineEvent:
    return {"at": "x", "elapsed_s": elapsed, "kind": kind, "detail": detail, "data": {}}  # type: ignore[typeddict-item]


def test_plain_lines_carry_the_label_and_skip_noise() -> None:
    stream = io.StringIO()
    progress = LineProgress(stream, label="[1/3 redis-down]", wait_every_s=0)
    progress.event(event("activity_started", "stop redis"))
    progress.event(event("fault_applied", "stopped redis"))
    progress.waiting("RedisDown to fire", 12)  # the first note only starts the clock
    progress.waiting("RedisDown to fire", 11)
    assert stream.getvalue().splitlines() == [
        "[1/3 redis-down]   +    1.5s  FAULT: stopped redis",
        "[1/3 redis-down]              waiting for RedisDown to fire (11s left)",
    ]


def test_the_live_display_keeps_one_status_line() -> None:
    stream = io.StringIO()
    progress = LiveProgress(stream, label="[2/3 pod-kill]")
    progress.event(event("fault_applied", "stopped gateway-2"))
    progress.waiting("PodDown to fire", 7.2)
    progress.close()
    text = stream.getvalue()
    assert "FAULT: stopped gateway-2\n" in text
    assert text.count("\n") == 1  # events scroll; the status line is redrawn in place
    assert "[2/3 pod-kill] · fault window · waiting for PodDown to fire (7s left)" in text
    assert text.endswith("\r\x1b[K")


def test_pipes_get_plain_lines() -> None:
    assert isinstance(progress_for(io.StringIO()), LineProgress)


def test_long_waits_say_minutes_left() -> None:
    """Production rules (`for: 5m`) give deadlines of tens of minutes."""
    from gameday.engine.progress import left

    assert left(42.4) == "42s"
    assert left(1445) == "24m 05s"
    assert left(1800) == "30m 00s"
