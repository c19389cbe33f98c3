"""A locustfile that exports Locust's client-side figures to Prometheus.

gameday passes it to Locust next to the user's own locustfile
(`locust -f theirs.py,locust_exporter.py`), so any standard locustfile works
unmodified. It runs inside the Locust processes only; the orchestrator never
imports it. Listens on 127.0.0.1:$GAMEDAY_LOAD_METRICS_PORT.

- A single process (LocalRunner) counts each request as it is made.
- A master (MasterRunner, `workers: N`) makes no requests: it exports the figures
  its workers report, as Locust aggregates them in `runner.stats`, under the same
  names, plus `locust_workers_connected` and `locust_running` (1 once it started the
  test: after every expected worker connected).
- A worker (WorkerRunner) serves nothing: it reports to its master every second
  (Locust's default is 3 s, coarser than the 1 s scrape the SLO windows assume).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

import locust.runners
from locust import events
from locust.env import Environment
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner
from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

PORT_ENV = "GAMEDAY_LOAD_METRICS_PORT"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUESTS_HELP = "Requests Locust made, by method, name and result (success or failure)."
DURATION_HELP = "Client-side response time of Locust's requests."
WORKER_REPORT_INTERVAL_S = 1.0

# Read by each worker's report loop on every turn: workers report every second.
locust.runners.WORKER_REPORT_INTERVAL = WORKER_REPORT_INTERVAL_S

# Registered only in a single process (a master exports its aggregated stats instead).
REQUESTS = Counter("locust_requests", REQUESTS_HELP, ["method", "name", "result"], registry=None)
DURATION = Histogram(
    "locust_request_duration_seconds", DURATION_HELP, ["method"], buckets=BUCKETS, registry=None
)


class UsersCollector(Collector):
    def __init__(self, environment: Environment) -> None:
        self._environment = environment

    def collect(self) -> Iterator[Metric]:
        runner = self._environment.runner
        users = GaugeMetricFamily("locust_users", "Simulated users running now.")
        users.add_metric([], float(runner.user_count if runner is not None else 0))
        yield users


class MasterCollector(Collector):
    """The workers' figures as the master aggregated them, and how many are connected."""

    def __init__(self, runner: MasterRunner) -> None:
        self._runner = runner

    def collect(self) -> Iterator[Metric]:
        yield from stats_families(list(self._runner.stats.entries.values()))
        workers = GaugeMetricFamily(
            "locust_workers_connected", "Locust workers connected to this master."
        )
        workers.add_metric([], float(self._runner.worker_count))
        yield workers
        running = GaugeMetricFamily(
            "locust_running", "1 once the master started the test (spawning or running users)."
        )
        running.add_metric([], float(self._runner.state in (STATE_SPAWNING, STATE_RUNNING)))
        yield running


def stats_families(entries: Iterable[Any]) -> Iterator[Metric]:
    """Locust stats entries (cumulative, response times in ms rounded by Locust) as the
    counter and histogram a single process exports from its request events."""
    requests = CounterMetricFamily(
        "locust_requests", REQUESTS_HELP, labels=["method", "name", "result"]
    )
    times: dict[str, dict[float, int]] = {}
    sums: dict[str, float] = {}
    for entry in entries:
        failures = int(entry.num_failures)
        requests.add_metric([entry.method, entry.name, "success"], entry.num_requests - failures)
        requests.add_metric([entry.method, entry.name, "failure"], failures)
        merged = times.setdefault(entry.method, {})
        for milliseconds, count in entry.response_times.items():
            merged[float(milliseconds)] = merged.get(float(milliseconds), 0) + int(count)
        sums[entry.method] = sums.get(entry.method, 0.0) + entry.total_response_time / 1000.0
    yield requests
    duration = HistogramMetricFamily(
        "locust_request_duration_seconds", DURATION_HELP, labels=["method"]
    )
    for method, counts in times.items():
        buckets = [
            (_le(bound), sum(n for ms, n in counts.items() if ms / 1000.0 <= bound))
            for bound in BUCKETS
        ]
        buckets.append(("+Inf", sum(counts.values())))
        duration.add_metric([method], buckets, sum_value=sums[method])
    yield duration


def _le(bound: float) -> str:
    """A bucket's `le` label, written as prometheus_client's Histogram writes it."""
    label: str = floatToGoString(bound)  # type: ignore[no-untyped-call]
    return label


@events.init.add_listener  # type: ignore[untyped-decorator]
def _start_exporter(environment: Environment, **_: Any) -> None:
    port = os.environ.get(PORT_ENV)
    runner = environment.runner
    if not port or isinstance(runner, WorkerRunner):
        return  # a worker's figures reach Prometheus through its master
    if isinstance(runner, MasterRunner):
        REGISTRY.register(MasterCollector(runner))
    else:
        REGISTRY.register(REQUESTS)
        REGISTRY.register(DURATION)
        environment.events.request.add_listener(_count_request)  # type: ignore[no-untyped-call]
    REGISTRY.register(UsersCollector(environment))
    start_http_server(int(port), addr="127.0.0.1")


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
