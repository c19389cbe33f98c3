"""A hand-written Prometheus and notification sink on a real local HTTP port, for probe
tests that need exact, scripted answers: /api/v1/alerts, /api/v1/query, /-/ready and
the sink's /notifications, in the shapes the real ones answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Monitoring:
    """What the fake answers; tests change it while probes poll."""

    alerts: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    # PromQL → value (None: an empty vector); the default answers nothing.
    values: Callable[[str], float | None] = lambda query: None
    queries: list[str] = field(default_factory=list)
    url: str = ""

    def alert(
        self, name: str, state: str, *, active_for_s: float | None = None, **labels: str
    ) -> None:
        """Set the alert instance `name`{labels} to `state`. Like Prometheus, its activeAt
        is when it first became active and stays while it is pending or firing; a new
        instance is active from now, or `active_for_s` seconds before."""
        every = {"alertname": name, "severity": "critical", **labels}
        same = [a for a in self.alerts if a["labels"] == every]
        if active_for_s is not None or not same:
            since = datetime.now(UTC) - timedelta(seconds=active_for_s or 0.0)
            active_at = since.isoformat().replace("+00:00", "Z")
        else:
            active_at = same[0]["activeAt"]
        self.alerts = [a for a in self.alerts if a["labels"] != every]
        self.alerts.append({"labels": every, "state": state, "activeAt": active_at, "value": "1"})

    def resolve(self, name: str) -> None:
        self.alerts = [a for a in self.alerts if a["labels"]["alertname"] != name]

    def deliver(
        self,
        alert: str,
        receiver: str,
        status: str = "firing",
        *,
        starts_at: datetime | None = None,
        **labels: str,
    ) -> None:
        """A webhook delivery as gameday's sink records it; `starts_at` is when the alert
        began (Alertmanager's startsAt; default now)."""
        self.notifications.append(
            {
                "received_at": datetime.now(UTC).isoformat(),
                "receiver": receiver,
                "alertname": alert,
                "status": status,
                "severity": "critical",
                "labels": {"alertname": alert, "severity": "critical", **labels},
                "starts_at": (starts_at or datetime.now(UTC)).isoformat(),
                "fingerprint": f"{alert}-{len(self.notifications)}",
            }
        )

    @property
    def configuration(self) -> dict[str, str]:
        """An experiment configuration that points the extension here."""
        return {"prometheus_url": self.url, "notification_sink_url": self.url}


def _handler(state: Monitoring) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            params = {key: values[0] for key, values in parse_qs(url.query).items()}
            body: Any
            if url.path == "/-/ready":
                body = "ready"
            elif url.path == "/api/v1/alerts":
                body = {"status": "success", "data": {"alerts": state.alerts}}
            elif url.path == "/api/v1/query":
                state.queries.append(params.get("query", ""))
                value = state.values(params.get("query", ""))
                result = [] if value is None else [{"metric": {}, "value": [0, str(value)]}]
                body = {"status": "success", "data": {"resultType": "vector", "result": result}}
            elif url.path == "/notifications":
                body = [
                    record
                    for record in state.notifications
                    if all(record.get(key) == params[key] for key in params)
                ]
            else:
                self.send_error(404)
                return
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serving(state: Monitoring | None = None) -> Iterator[Monitoring]:
    """Serve `state` on 127.0.0.1 (a free port) for the block."""
    state = state or Monitoring()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
