from gameday.model import Expectation, TimelineEvent
from gameday.verify.verdicts import measurements, run_status, shortfall


def expectation(**overrides: object) -> Expectation:
    base: Expectation = {
        "name": "x",
        "kind": "alert_fires",
        "alert": "RedisDown",
        "receiver": None,
        "passed": True,
        "measured_s": 6.0,
        "budget_s": 15.0,
        "message": "",
    }
    base.update(overrides)  # type: ignore[typeddict-item]
    return base


def event(kind: str, **data: object) -> TimelineEvent:
    return {
        "at": "2026-01-01T00:00:00+00:00",
        "elapsed_s": 0,
        "kind": kind,
        "detail": "",
        "data": data,
    }  # type: ignore[typeddict-item]


def test_measurements_come_from_expectations_and_the_timeline() -> None:
    found = measurements(
        [
            expectation(),
            expectation(kind="notification_delivered", measured_s=6.2),
            expectation(alert="HighErrorRate", passed=False, measured_s=None),
        ],
        [event("slo_restored", mttr_s=14.5), event("slo_held")],
    )
    assert found == {
        "mttd_s": {"RedisDown": 6.0},
        "time_to_notify_s": {"RedisDown": 6.2},
        "mttr_s": 14.5,
    }


def test_status_precedence() -> None:
    failing = [expectation(passed=False)]
    assert run_status([expectation()], interrupted=False, errors=[]) == "passed"
    assert run_status(failing, interrupted=False, errors=[]) == "failed"
    assert run_status(failing, interrupted=False, errors=["boom"]) == "error"
    assert run_status(failing, interrupted=True, errors=["boom"]) == "interrupted"


def test_shortfall_says_by_how_much() -> None:
    assert shortfall(expectation(measured_s=6.1, budget_s=2)) == "6.1s, 4.1s over the 2s budget"
    assert shortfall(expectation(measured_s=5.7, budget_s=15)) == "5.7s of 15s"
    assert shortfall(expectation(measured_s=None)) == ""
