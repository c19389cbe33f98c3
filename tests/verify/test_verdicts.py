from gameday.model import Expectation
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


def restoration(budget_s: float) -> Expectation:
    return expectation(
        kind="slo_restored", alert=None, measured_s=14.5, budget_s=budget_s, measure="mttr"
    )


def test_measurements_come_from_the_expectations_that_measure_them() -> None:
    found = measurements(
        [
            expectation(measure="mttd"),
            expectation(kind="notification_delivered", measured_s=6.2, measure="notify"),
            expectation(alert="HighErrorRate", passed=False, measured_s=None, measure="mttd"),
            expectation(kind="slo_holds", alert=None, measured_s=None, budget_s=None),
            expectation(
                kind="slo_restored", alert=None, measured_s=14.5, budget_s=50, measure="mttr"
            ),
            expectation(
                kind="slo_restored", alert=None, measured_s=14.5, budget_s=60, measure="mttr"
            ),
        ]
    )
    assert found == {
        "mttd_s": {"RedisDown": 6.0},
        "time_to_notify_s": {"RedisDown": 6.2},
        "mttr_s": 14.5,
        "budgets_s": {
            "mttd_s": {"RedisDown": 15.0},
            "time_to_notify_s": {"RedisDown": 15.0},
            "mttr_s": 60,
        },
    }


def test_an_expectation_that_measures_nothing_adds_no_figure() -> None:
    found = measurements([expectation()])  # no `measure`: e.g. a journal-derived verdict
    assert found["mttd_s"] == {} and found["mttr_s"] is None


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
