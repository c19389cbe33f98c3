"""Verdicts from observations: the one place budgets are judged and worded."""

from __future__ import annotations

from gameday.verify import expectations as verdicts


def test_over_budget_is_worded_once() -> None:
    assert verdicts.over_budget(6.1, 2) == "4.1s over the 2s budget"


def test_alert_fires_in_time_late_and_never() -> None:
    on_time = verdicts.alert_fires(
        "RedisDown", within_s=15, reference="the fault", firing_after_s=6.04
    )
    assert on_time["passed"] and on_time["measured_s"] == 6.04
    assert on_time["message"] == "RedisDown fired 6.0s after the fault (budget 15s)"
    late = verdicts.alert_fires("RedisDown", within_s=2, reference="the fault", firing_after_s=6.1)
    assert not late["passed"]
    assert late["message"] == "RedisDown fired 6.1s after the fault: 4.1s over the 2s budget"
    never = verdicts.alert_fires(
        "RedisDown",
        within_s=2,
        reference="the fault",
        firing_after_s=None,
        pending_after_s=1.2,
        overtime_s=30,
    )
    assert not never["passed"] and never["measured_s"] is None
    assert never["message"] == (
        "RedisDown did not fire within 2s of the fault, nor 30s later (pending from +1.2s)"
    )


def test_exactly_on_the_budget_passes() -> None:
    assert verdicts.alert_fires("X", within_s=5, reference="the fault", firing_after_s=5.0)[
        "passed"
    ]


def test_delivery_names_where_the_alert_went_instead() -> None:
    missed = verdicts.notification_delivered(
        "RedisDown",
        "oncall-pager",
        status="firing",
        within_s=15,
        reference="the fault",
        delivered_after_s=None,
        delivered_elsewhere=["team-chat"],
    )
    assert not missed["passed"] and missed["receiver"] == "oncall-pager"
    assert missed["message"].endswith("it went to team-chat instead")


def test_restoration_with_and_without_an_mttr_budget() -> None:
    [only] = verdicts.restored(
        "SLO",
        name="SLO restored within 50s",
        within_s=50,
        reference="the fault",
        mttr_s=14.0,
        shown="error ratio 0.00%",
        still=[],
    )
    assert only["passed"] and only["measure"] == "mttr"
    assert only["message"] == "SLO restored 14.0s after the fault (budget 50s): error ratio 0.00%"
    restored, budget = verdicts.restored(
        "SLO",
        name="SLO restored within 50s",
        within_s=50,
        reference="the fault",
        mttr_s=14.0,
        shown="",
        still=[],
        mttr_budget_s=10,
    )
    assert restored["passed"] and not budget["passed"]
    assert budget["message"] == "MTTR 14.0s is over the budget of 10s"
    [missing] = verdicts.restored(
        "SLO",
        name="n",
        within_s=5,
        reference="the fault",
        mttr_s=None,
        shown="",
        still=["error ratio 50.00%"],
        mttr_budget_s=10,
    )
    assert not missing["passed"] and "error ratio 50.00%" in missing["message"]


def test_objectives_hold_names_each_violation() -> None:
    failed = verdicts.objectives_hold(
        "SLO holds", window_s=10, violations=["error ratio 5%"], shown="", what="SLO"
    )
    assert failed["message"] == "SLO not held over the last 10s: error ratio 5%"
    assert verdicts.objectives_hold("q", window_s=3, violations=[], shown="v 1")["passed"]
