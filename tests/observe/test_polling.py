import itertools
import time

from gameday.observe.polling import poll_until, poll_with_overtime


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


def test_overtime_keeps_watching_after_the_deadline_and_says_so() -> None:
    started = time.monotonic()
    waits: list[bool] = []
    polled = poll_with_overtime(
        lambda: "late" if time.monotonic() - started > 0.3 else None,
        timeout_s=0.1,
        overtime_s=2,
        interval_s=0.02,
        on_wait=lambda left, overtime: waits.append(overtime),
    )
    assert polled.value == "late" and 0.3 <= polled.elapsed_s < 1
    assert False in waits and True in waits


def test_a_passed_deadline_goes_straight_to_overtime_and_nothing_found_is_none() -> None:
    polled = poll_with_overtime(lambda: None, timeout_s=-5, overtime_s=0.1, interval_s=0.02)
    assert polled.value is None and polled.elapsed_s < 0.5
