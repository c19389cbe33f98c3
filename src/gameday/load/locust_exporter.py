"""A locustfile that exports Locust's client-side figures to Prometheus.

gameday passes it to Locust next to the user's own locustfile
(`locust -f theirs.py,locust_exporter.py`), so any standard locustfile works
unmodified. It runs inside the Locust process only; the orchestrator never
imports it. Listens on 127.0.0.1:$GAMEDAY_LOAD_METRICS_PORT.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from locust import events
from locust.env import Environment
from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

PORT_ENV = "GAMEDAY_LOAD_METRICS_PORT"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "locust_requests",
    "Requests Locust made, by method, name and result (success or failure).",
    ["method", "name", "result"],
)
DURATION = Histogram(
    "locust_request_duration_seconds",
    "Client-side response time of Locust's requests.",
    ["method"],
    buckets=BUCKETS,
)


class UsersCollector(Collector):
    def __init__(self, environment: Environment) -> None:
        self._environment = environment

    def collect(self) -> Iterator[GaugeMetricFamily]:
        runner = self._environment.runner
        users = GaugeMetricFamily("locust_users", "Simulated users running now.")
        users.add_metric([], float(runner.user_count if runner is not None else 0))
        yield users


@events.init.add_listener  # type: ignore[untyped-decorator]
def _start_exporter(environment: Environment, **_: Any) -> None:
    port = os.environ.get(PORT_ENV)
    if not port:
        return
    REGISTRY.register(UsersCollector(environment))
    start_http_server(int(port), addr="127.0.0.1")


@events.request.add_listener  # type: ignore[untyped-decorator]
def _count_request(
    request_type: str,
    name: str,
    response_time: float,
    exception: BaseException | None = None,
    **_: Any,
) -> None:
    result = "failure" if exception is not None else "success"
    REQUESTS.labels(method=request_type, name=name, result=result).inc()
    DURATION.labels(method=request_type).observe(response_time / 1000.0)
