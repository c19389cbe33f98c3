"""Watching stop conditions against a scripted Prometheus: held violations trip once,
brief ones and missing data do not."""

from __future__ import annotations

import threading
import time

from tests.monitoring_fakes import serving

from gameday.engine.stop_conditions import StopConditionWatch, Trip
from gameday.experiment.guardrails import StopCondition
from gameday.observe.prometheus import Prometheus

BUDGET = StopCondition(name="error budget", query="errors", high=0.05, for_s=0.6)
OUTAGE = StopCondition(name="outage", alert="CustomerFacingOutage")


def test_a_violation_must_hold_for_its_duration() -> None:
    values = {"errors": 0.2}
    with serving() as monitoring:
        monitoring.values = lambda query: values["errors"]
        watch = StopConditionWatch(
            conditions=[BUDGET], prometheus=Prometheus(monitoring.url), on_trip=lambda t: None
        )
        assert watch.check() is None  # violated since now: not yet for 0.6 s
        values["errors"] = 0.01
        time.sleep(0.7)
        assert watch.check() is None  # it recovered: the clock starts again
        values["errors"] = 0.2
        assert watch.check() is None
        time.sleep(0.7)
        trip = watch.check()
    assert trip is not None and trip.condition is BUDGET and trip.value == 0.2
    assert trip.seen.startswith("value 0.2 for 0.")


def test_no_data_never_trips_and_a_firing_alert_trips_at_once() -> None:
    with serving() as monitoring:
        watch = StopConditionWatch(
            conditions=[BUDGET, OUTAGE],
            prometheus=Prometheus(monitoring.url),
            on_trip=lambda t: None,
        )
        assert watch.check() is None
        monitoring.alert("CustomerFacingOutage", "pending")
        assert watch.check() is None
        monitoring.alert("CustomerFacingOutage", "firing")
        trip = watch.check()
    assert trip is not None and trip.condition is OUTAGE
    assert trip.seen == "CustomerFacingOutage is firing"


def test_the_watch_hands_the_first_trip_over_once_and_stops() -> None:
    trips: list[Trip] = []
    tripped = threading.Event()
    with serving() as monitoring:
        monitoring.alert("CustomerFacingOutage", "firing")
        watch = StopConditionWatch(
            conditions=[OUTAGE],
            prometheus=Prometheus(monitoring.url),
            on_trip=lambda trip: (trips.append(trip), tripped.set()),
            interval_s=0.1,
        )
        watch.start()
        assert tripped.wait(5)
        time.sleep(0.3)
        watch.stop()
    assert len(trips) == 1 and watch.tripped is trips[0]


def test_a_watch_without_conditions_starts_no_thread() -> None:
    watch = StopConditionWatch(
        conditions=[], prometheus=Prometheus("http://127.0.0.1:9"), on_trip=lambda t: None
    )
    watch.start()
    watch.stop()
    assert watch.tripped is None
