"""The production estimate: lab times × K when the lab ran the rules in compressed time."""

from __future__ import annotations

import pytest

from gameday.model import Budgets, Expectation, Measurements
from gameday.verify.estimates import (
    estimate_of,
    estimate_parts,
    estimate_seconds,
    with_production_estimate,
)
from gameday.verify.verdicts import measurements


def _measured() -> Measurements:
    return Measurements(
        mttd_s={"RedisDown": 1.2},
        time_to_notify_s={"RedisDown": 1.5},
        mttr_s=4.1,
        budgets_s=Budgets(mttd_s={"RedisDown": 2.0}, time_to_notify_s={}, mttr_s=10.0),
    )


def test_every_time_and_budget_is_scaled_back_by_k() -> None:
    scaled = with_production_estimate(_measured(), 60)
    assert scaled["time_scale"] == 60.0
    assert scaled["production_estimate_s"] == {
        "mttd_s": {"RedisDown": 72.0},
        "time_to_notify_s": {"RedisDown": 90.0},
        "mttr_s": 246.0,
        "budgets_s": {"mttd_s": {"RedisDown": 120.0}, "time_to_notify_s": {}, "mttr_s": 600.0},
    }
    # The measured times stay lab seconds.
    assert scaled["mttd_s"] == {"RedisDown": 1.2} and scaled["mttr_s"] == 4.1


def test_real_time_adds_nothing() -> None:
    assert with_production_estimate(_measured(), 1) == _measured()
    assert estimate_of(_measured()) is None


def test_no_floating_point_noise_and_no_mttr_stays_none() -> None:
    measured = Measurements(mttd_s={"A": 0.1}, time_to_notify_s={}, mttr_s=None)
    scaled = with_production_estimate(measured, 3)
    assert scaled["production_estimate_s"] == {
        "mttd_s": {"A": 0.3},
        "time_to_notify_s": {},
        "mttr_s": None,
    }  # a /1-style figure without budgets gets no scaled budgets


def test_a_time_scale_at_or_below_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="above 0"):
        with_production_estimate(_measured(), 0)


def test_the_reader_accepts_results_with_and_without_an_estimate() -> None:
    scaled = with_production_estimate(_measured(), 10)
    found = estimate_of(scaled)
    assert found is not None and found[0] == 10.0 and found[1]["mttr_s"] == 41.0
    half_written = Measurements(**_measured())
    half_written["time_scale"] = 10.0  # no estimate: nothing to show
    assert estimate_of(half_written) is None


def test_measurements_take_the_time_scale() -> None:
    fired = Expectation(
        name="RedisDown fires within 2s",
        kind="alert_fires",
        alert="RedisDown",
        receiver=None,
        passed=True,
        measured_s=1.2,
        budget_s=2.0,
        message="",
        measure="mttd",
    )
    found = measurements([fired], time_scale=60)
    assert found["production_estimate_s"]["mttd_s"] == {"RedisDown": 72.0}
    assert found["production_estimate_s"]["budgets_s"]["mttd_s"] == {"RedisDown": 120.0}
    assert "time_scale" not in measurements([fired])


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(7.46, "7.5s"), (72.0, "72s"), (119.4, "119s"), (900.0, "15m 00s"), (7500.0, "2h 05m")],
)
def test_estimates_read_like_durations(seconds: float, shown: str) -> None:
    assert estimate_seconds(seconds) == shown


def test_estimate_parts_name_each_figure_with_its_scaled_budget() -> None:
    estimate = with_production_estimate(_measured(), 60)["production_estimate_s"]
    assert estimate_parts(estimate) == [
        "MTTD RedisDown 72s (budget 2m 00s)",
        "notify RedisDown 90s",
        "MTTR 4m 06s (budget 10m 00s)",
    ]


def test_a_known_for_is_scaled_back_and_the_labs_own_delay_is_not() -> None:
    # Measured on the benchmark (Creto RedisDown, for: 1m): 60.5 s at K = 1, 2.7 s at
    # K = 60 with for: 1 s on the lab. × K would say 162 s; the rule's for: scaled back
    # says 61.7 s.
    measured = Measurements(
        mttd_s={"RedisDown": 2.7, "Unknown": 2.0},
        time_to_notify_s={"RedisDown": 2.8},
        mttr_s=None,
    )
    scaled = with_production_estimate(measured, 60, {"RedisDown": 1.0})
    estimate = scaled["production_estimate_s"]
    assert estimate["mttd_s"] == {"RedisDown": 61.7, "Unknown": 120.0}
    assert estimate["time_to_notify_s"] == {"RedisDown": 61.8}
