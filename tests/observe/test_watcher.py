"""The alert watcher against the hand-written Prometheus and sink (real HTTP, the real
API shapes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.monitoring_fakes import Monitoring, serving

from gameday.observe.prometheus import Prometheus
from gameday.observe.watcher import AlertWatcher
from gameday.record.timeline import Timeline


@pytest.fixture
def server() -> Iterator[Monitoring]:
    with serving() as monitoring:
        yield monitoring


def alert(state: str, camera: str) -> dict[str, Any]:
    labels = {"alertname": "CameraOffline", "severity": "critical", "camera": camera}
    return {"labels": labels, "state": state, "activeAt": "2026-01-01T00:00:00Z", "value": "0"}


def test_each_alert_instance_is_followed_and_named_by_what_tells_it_apart(
    server: Monitoring,
) -> None:
    timeline = Timeline()
    watcher = AlertWatcher(
        timeline=timeline, prometheus=Prometheus(server.url), sink_url=server.url
    )
    server.alerts = [alert("pending", "camera-0"), alert("pending", "camera-1")]
    watcher.poll()
    server.alerts = [alert("firing", "camera-0"), alert("pending", "camera-1")]
    watcher.poll()
    server.alerts = [alert("pending", "camera-1")]
    watcher.poll()
    assert [(e["kind"], e["detail"]) for e in timeline.events] == [
        ("alert_pending", "CameraOffline {camera=camera-0}"),
        ("alert_pending", "CameraOffline {camera=camera-1}"),
        ("alert_firing", "CameraOffline {camera=camera-0}"),
        ("alert_resolved", "CameraOffline {camera=camera-0}"),
    ]


def test_deliveries_since_the_start_are_recorded_once(server: Monitoring) -> None:
    timeline = Timeline()
    server.notifications = [
        {
            "received_at": "2000-01-01T00:00:00+00:00",
            "receiver": "oncall-pager",
            "alertname": "Old",
            "status": "firing",
            "fingerprint": "a",
        }
    ]
    watcher = AlertWatcher(
        timeline=timeline, prometheus=Prometheus(server.url), sink_url=server.url
    )
    fresh = {**server.notifications[0], "alertname": "RedisDown", "fingerprint": "b"}
    fresh["received_at"] = datetime.now(UTC).isoformat()
    server.notifications = [*server.notifications, fresh]
    watcher.poll()
    watcher.poll()
    assert [e["detail"] for e in timeline.events] == ["RedisDown (firing) -> oncall-pager"]
