"""The alert watcher against a hand-written Prometheus and sink (the real HTTP API shapes)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from gameday.observe.watcher import AlertWatcher
from gameday.record.timeline import Timeline


class FakeMonitoring(BaseHTTPRequestHandler):
    """Serves /api/v1/alerts and /notifications from the class attributes."""

    alerts: ClassVar[list[dict[str, Any]]] = []
    notifications: ClassVar[list[dict[str, Any]]] = []

    def do_GET(self) -> None:
        if self.path.startswith("/api/v1/alerts"):
            body: Any = {"status": "success", "data": {"alerts": type(self).alerts}}
        else:
            body = type(self).notifications
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeMonitoring)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def alert(state: str, camera: str) -> dict[str, Any]:
    labels = {"alertname": "CameraOffline", "severity": "critical", "camera": camera}
    return {"labels": labels, "state": state, "activeAt": "2026-01-01T00:00:00Z", "value": "0"}


def test_each_alert_instance_is_followed_and_named_by_what_tells_it_apart(server: str) -> None:
    timeline = Timeline()
    watcher = AlertWatcher(timeline=timeline, prometheus_url=server, sink_url=server)
    FakeMonitoring.alerts = [alert("pending", "camera-0"), alert("pending", "camera-1")]
    watcher.poll()
    FakeMonitoring.alerts = [alert("firing", "camera-0"), alert("pending", "camera-1")]
    watcher.poll()
    FakeMonitoring.alerts = [alert("pending", "camera-1")]
    watcher.poll()
    assert [(e["kind"], e["detail"]) for e in timeline.events] == [
        ("alert_pending", "CameraOffline {camera=camera-0}"),
        ("alert_pending", "CameraOffline {camera=camera-1}"),
        ("alert_firing", "CameraOffline {camera=camera-0}"),
        ("alert_resolved", "CameraOffline {camera=camera-0}"),
    ]


def test_deliveries_since_the_start_are_recorded_once(server: str) -> None:
    timeline = Timeline()
    FakeMonitoring.alerts = []
    FakeMonitoring.notifications = [
        {
            "received_at": "2000-01-01T00:00:00+00:00",
            "receiver": "oncall-pager",
            "alertname": "Old",
            "status": "firing",
            "fingerprint": "a",
        }
    ]
    watcher = AlertWatcher(timeline=timeline, prometheus_url=server, sink_url=server)
    fresh = {**FakeMonitoring.notifications[0], "alertname": "RedisDown", "fingerprint": "b"}
    fresh["received_at"] = datetime.now(UTC).isoformat()
    FakeMonitoring.notifications = [*FakeMonitoring.notifications, fresh]
    watcher.poll()
    watcher.poll()
    assert [e["detail"] for e in timeline.events] == ["RedisDown (firing) -> oncall-pager"]
