import itertools

from gameday.observe.polling import poll_until


def test_returns_as_soon_as_the_condition_holds() -> None:
    counter = itertools.count()
    result = poll_until(lambda: "done" if next(counter) == 2 else None, timeout_s=5, interval_s=0)
    assert result.met and result.value == "done"
    assert result.attempts == 3


def test_gives_up_at_the_deadline_and_reports_waits() -> None:
    waits: list[float] = []
    result = poll_until(lambda: None, timeout_s=0.05, interval_s=0.01, on_wait=waits.append)
    assert not result.met
    assert result.elapsed_s >= 0.05
    assert waits and all(left <= 0.05 for left in waits)
