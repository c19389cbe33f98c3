"""The alert and notification probes against a scripted Prometheus and sink: what they
observe, how verify judges it, and that every deadline counts from the fault."""

from __future__ import annotations

import threading

import pytest
from chaoslib.exceptions import ActivityFailed
from tests.chaos.conftest import FakeRun

from gameday.chaos.alerts.probes import (
    alert_does_not_fire,
    alert_fires,
    notification_delivered,
    notification_not_delivered,
)


def later(seconds: float, action: object) -> threading.Timer:
    timer = threading.Timer(seconds, action)  # type: ignore[arg-type]
    timer.start()
    return timer


def test_an_alert_that_fires_in_time_passes_with_its_mttd(fake_run: FakeRun) -> None:
    fake_run.fault(seconds_ago=2)
    fake_run.monitoring.alert("RedisDown", "pending")
    later(0.5, lambda: fake_run.monitoring.alert("RedisDown", "firing"))
    seen = alert_fires("RedisDown", within_s=10, configuration=fake_run.monitoring.configuration)
    assert 2.4 <= seen["firing_after_s"] < 4
    [expectation] = fake_run.context.timeline.expectations
    assert expectation["passed"] and expectation["measure"] == "mttd"
    assert expectation["budget_s"] == 10
    assert expectation["message"].startswith("RedisDown fired 2.")
    assert "after the fault (budget 10s)" in expectation["message"]


def test_the_deadline_counts_from_the_fault_not_from_the_probe(fake_run: FakeRun) -> None:
    # The fault was 3 s ago and the budget is 2 s: the deadline has passed before the
    # probe starts; the overtime measures by how much the alert is late.
    fake_run.fault(seconds_ago=3)
    later(0.4, lambda: fake_run.monitoring.alert("RedisDown", "pending"))
    later(0.8, lambda: fake_run.monitoring.alert("RedisDown", "firing"))
    with pytest.raises(ActivityFailed, match=r"RedisDown fired 3\.\d+s after the fault: "):
        alert_fires(
            "RedisDown", within_s=2, overtime_s=5, configuration=fake_run.monitoring.configuration
        )
    [expectation] = fake_run.context.timeline.expectations
    assert not expectation["passed"]
    assert "over the 2s budget" in expectation["message"]
    assert expectation["measured_s"] is not None and 3.6 <= expectation["measured_s"] < 5


def test_an_alert_that_never_fires_says_how_far_it_got(fake_run: FakeRun) -> None:
    fake_run.fault()
    fake_run.monitoring.alert("RedisDown", "pending")
    with pytest.raises(ActivityFailed, match=r"did not fire within 0\.5s of the fault, nor 0\.3s"):
        alert_fires(
            "RedisDown",
            within_s=0.5,
            overtime_s=0.3,
            configuration=fake_run.monitoring.configuration,
        )
    message = fake_run.context.timeline.expectations[0]["message"]
    assert "(pending from +0." in message


def test_labels_select_the_alert_instance(fake_run: FakeRun) -> None:
    fake_run.fault()
    fake_run.monitoring.alert("CameraOffline", "firing", camera="camera-1")
    with pytest.raises(ActivityFailed, match="never pending"):
        alert_fires(
            "CameraOffline",
            within_s=0.3,
            overtime_s=0,
            labels={"camera": "camera-0"},
            configuration=fake_run.monitoring.configuration,
        )


def test_a_negative_expectation_fails_as_soon_as_the_alert_fires(fake_run: FakeRun) -> None:
    fake_run.fault()
    later(0.3, lambda: fake_run.monitoring.alert("PodDown", "firing"))
    with pytest.raises(ActivityFailed, match=r"PodDown fired .* it must not fire"):
        alert_does_not_fire("PodDown", during_s=20, configuration=fake_run.monitoring.configuration)
    events = [e["kind"] for e in fake_run.context.timeline.events]
    assert "alert_silent" not in events


def test_a_silent_alert_passes_and_is_on_the_timeline(fake_run: FakeRun) -> None:
    fake_run.fault()
    fake_run.monitoring.alert("PodDown", "pending")
    alert_does_not_fire("PodDown", during_s=0.5, configuration=fake_run.monitoring.configuration)
    assert fake_run.context.timeline.expectations[0]["passed"]
    assert fake_run.context.timeline.last("alert_silent") is not None


def test_a_delivery_in_time_measures_the_time_to_notify(fake_run: FakeRun) -> None:
    fake_run.fault(seconds_ago=1)
    later(0.3, lambda: fake_run.monitoring.deliver("RedisDown", "oncall-pager"))
    found = notification_delivered(
        "RedisDown", "oncall-pager", within_s=5, configuration=fake_run.monitoring.configuration
    )
    assert 1.2 <= found["after_s"] < 3
    [expectation] = fake_run.context.timeline.expectations
    assert expectation["passed"] and expectation["measure"] == "notify"


def test_a_delivery_to_another_receiver_is_named(fake_run: FakeRun) -> None:
    fake_run.fault()
    fake_run.monitoring.deliver("RedisDown", "team-chat")
    with pytest.raises(ActivityFailed, match="it went to team-chat instead"):
        notification_delivered(
            "RedisDown",
            "oncall-pager",
            within_s=0.3,
            overtime_s=0,
            configuration=fake_run.monitoring.configuration,
        )


def test_a_delivery_before_the_fault_does_not_count(fake_run: FakeRun) -> None:
    fake_run.monitoring.deliver("RedisDown", "oncall-pager")
    fake_run.fault()
    with pytest.raises(ActivityFailed, match="was not delivered to oncall-pager"):
        notification_delivered(
            "RedisDown",
            "oncall-pager",
            within_s=0.3,
            overtime_s=0,
            configuration=fake_run.monitoring.configuration,
        )


def test_nobody_paged_passes_and_a_page_fails_naming_it(fake_run: FakeRun) -> None:
    fake_run.fault()
    notification_not_delivered(
        "oncall-pager", during_s=0.3, configuration=fake_run.monitoring.configuration
    )
    fake_run.monitoring.deliver("PodDown", "oncall-pager")
    with pytest.raises(ActivityFailed, match="PodDown reached oncall-pager; nothing should have"):
        notification_not_delivered(
            "oncall-pager", during_s=1, configuration=fake_run.monitoring.configuration
        )
    assert [e["passed"] for e in fake_run.context.timeline.expectations] == [True, False]


def test_an_alert_firing_before_the_fault_is_not_credited_to_it(fake_run: FakeRun) -> None:
    fake_run.monitoring.alert("RedisDown", "firing", active_for_s=42)
    fake_run.fault()
    with pytest.raises(
        ActivityFailed,
        match=r"RedisDown was already firing 4[12]\.\ds before the fault; it cannot be "
        r"attributed to it",
    ):
        alert_fires(
            "RedisDown",
            within_s=0.5,
            overtime_s=0,
            configuration=fake_run.monitoring.configuration,
        )
    [expectation] = fake_run.context.timeline.expectations
    assert not expectation["passed"] and expectation["measured_s"] is None


def test_an_alert_that_resolves_and_fires_again_after_the_fault_counts_from_it(
    fake_run: FakeRun,
) -> None:
    fake_run.monitoring.alert("RedisDown", "firing", active_for_s=30)
    fake_run.fault()
    later(0.3, lambda: fake_run.monitoring.resolve("RedisDown"))
    later(0.6, lambda: fake_run.monitoring.alert("RedisDown", "pending"))
    later(0.9, lambda: fake_run.monitoring.alert("RedisDown", "firing"))
    seen = alert_fires("RedisDown", within_s=10, configuration=fake_run.monitoring.configuration)
    assert 0.8 <= seen["firing_after_s"] < 3
    assert fake_run.context.timeline.expectations[0]["passed"]


def test_a_repeated_page_of_an_earlier_alert_is_not_a_new_delivery(fake_run: FakeRun) -> None:
    from datetime import UTC, datetime, timedelta

    fake_run.fault()
    earlier = datetime.now(UTC) - timedelta(seconds=60)
    fake_run.monitoring.deliver("RedisDown", "oncall-pager", starts_at=earlier)
    with pytest.raises(ActivityFailed, match="was not delivered to oncall-pager"):
        notification_delivered(
            "RedisDown",
            "oncall-pager",
            within_s=0.3,
            overtime_s=0,
            configuration=fake_run.monitoring.configuration,
        )
    # ... and nobody was paged by the fault either.
    notification_not_delivered(
        "oncall-pager", during_s=0.3, configuration=fake_run.monitoring.configuration
    )


def test_a_page_for_an_instance_active_before_the_fault_does_not_count(
    fake_run: FakeRun,
) -> None:
    # Pending before the fault, firing (and paged, startsAt after the fault) after it.
    fake_run.monitoring.alert("CameraOffline", "pending", active_for_s=3, camera="camera-1")
    fake_run.fault()
    fake_run.monitoring.alert("CameraOffline", "firing", camera="camera-1")
    fake_run.monitoring.deliver("CameraOffline", "oncall-pager", camera="camera-1")
    with pytest.raises(ActivityFailed, match="was not delivered"):
        notification_delivered(
            "CameraOffline",
            "oncall-pager",
            within_s=0.3,
            overtime_s=0,
            configuration=fake_run.monitoring.configuration,
        )
    fake_run.monitoring.alert("CameraOffline", "firing", camera="camera-2")
    fake_run.monitoring.deliver("CameraOffline", "oncall-pager", camera="camera-2")
    found = notification_delivered(
        "CameraOffline", "oncall-pager", within_s=5, configuration=fake_run.monitoring.configuration
    )
    assert found["record"]["labels"]["camera"] == "camera-2"


def test_the_quiet_baseline_waits_for_earlier_alerts_to_resolve(fake_run: FakeRun) -> None:
    from gameday.chaos.alerts.probes import alerts_quiet

    fake_run.context.record("steady_state_started", "steady state before the fault")
    fake_run.monitoring.alert("HighErrorRate", "firing", active_for_s=20)
    later(0.6, lambda: fake_run.monitoring.resolve("HighErrorRate"))
    assert alerts_quiet(
        ["RedisDown", "HighErrorRate"], wait_s=5, configuration=fake_run.monitoring.configuration
    )
    [expectation] = fake_run.context.timeline.expectations
    assert expectation["passed"] and expectation["kind"] == "steady_state"
    assert "waited" in expectation["message"]


def test_a_baseline_that_stays_noisy_fails_naming_what_is_active(fake_run: FakeRun) -> None:
    from gameday.chaos.alerts.probes import alerts_quiet

    fake_run.context.record("steady_state_started", "steady state before the fault")
    fake_run.monitoring.alert("HighErrorRate", "firing", active_for_s=20)
    with pytest.raises(ActivityFailed, match=r"not quiet: HighErrorRate \(firing\) still active"):
        alerts_quiet(["HighErrorRate"], wait_s=0.5, configuration=fake_run.monitoring.configuration)
    # After the method the alerts the fault caused may still be resolving: not judged.
    fake_run.context.record("steady_state_started", "steady state after the method")
    assert alerts_quiet(
        ["HighErrorRate"], wait_s=0.5, configuration=fake_run.monitoring.configuration
    )
    assert len(fake_run.context.timeline.expectations) == 1
