"""The HTTP service inside the ``gameday-test/app`` image (built by tests/docker_engine.py).

- ``GET /items/{id}`` reads the key ``item:{id}`` from Redis at ``$REDIS_HOST:$REDIS_PORT``
  (port 6379 by default) and answers 200 with ``{"id": ..., "value": ...}`` (``null`` when
  the key is not set), or 503 when Redis does not answer within ``$REDIS_TIMEOUT_S`` (1 s).
- ``GET /metrics``: ``app_requests_total{code}`` and the ``app_request_duration_seconds``
  histogram of the ``/items`` requests; with prometheus_client when it is installed (Debian's
  python3-prometheus-client), else a hand-written text exposition of the same series.
- ``GET /healthz``: 200 ``ok`` while the process serves.

It runs on Debian's python3 with python3-aiohttp (3.8) and python3-redis (4.3), so it uses
nothing newer than those (no ``web.AppKey``, no ``aclose``). Listens on ``$PORT`` (8080).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import redis
import redis.asyncio
from aiohttp import web

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUESTS_HELP = "Requests to /items/{id}, by HTTP status code."
DURATION_HELP = "Time to answer a request to /items/{id}, in seconds."
TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics(Protocol):
    content_type: str

    def observe(self, code: int, seconds: float) -> None: ...

    def render(self) -> bytes: ...


class ClientMetrics:
    """The two series with prometheus_client (Debian's python3-prometheus-client)."""

    def __init__(self) -> None:
        import prometheus_client

        self._client = prometheus_client
        self._registry = prometheus_client.CollectorRegistry()
        self._requests = prometheus_client.Counter(
            "app_requests", REQUESTS_HELP, ["code"], registry=self._registry
        )
        self._duration = prometheus_client.Histogram(
            "app_request_duration_seconds", DURATION_HELP, buckets=BUCKETS, registry=self._registry
        )
        self.content_type = str(prometheus_client.CONTENT_TYPE_LATEST)

    def observe(self, code: int, seconds: float) -> None:
        self._requests.labels(code=str(code)).inc()
        self._duration.observe(seconds)

    def render(self) -> bytes:
        return bytes(self._client.generate_latest(self._registry))


class TextMetrics:
    """The same series written by hand, for an image without prometheus_client."""

    content_type = TEXT_CONTENT_TYPE

    def __init__(self) -> None:
        self._requests: dict[str, int] = {}
        self._buckets = [0] * len(BUCKETS)
        self._count = 0
        self._sum = 0.0

    def observe(self, code: int, seconds: float) -> None:
        self._requests[str(code)] = self._requests.get(str(code), 0) + 1
        for index, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self._buckets[index] += 1
        self._count += 1
        self._sum += seconds

    def render(self) -> bytes:
        lines = [
            f"# HELP app_requests_total {REQUESTS_HELP}",
            "# TYPE app_requests_total counter",
        ]
        lines += [
            f'app_requests_total{{code="{code}"}} {n}' for code, n in sorted(self._requests.items())
        ]
        lines += [
            f"# HELP app_request_duration_seconds {DURATION_HELP}",
            "# TYPE app_request_duration_seconds histogram",
        ]
        lines += [
            f'app_request_duration_seconds_bucket{{le="{bound}"}} {n}'
            for bound, n in zip(BUCKETS, self._buckets, strict=True)
        ]
        lines += [
            f'app_request_duration_seconds_bucket{{le="+Inf"}} {self._count}',
            f"app_request_duration_seconds_sum {self._sum!r}",
            f"app_request_duration_seconds_count {self._count}",
        ]
        return ("\n".join(lines) + "\n").encode()


def default_metrics() -> Metrics:
    try:
        return ClientMetrics()
    except ImportError:
        return TextMetrics()


def make_app(
    redis_host: str,
    redis_port: int = 6379,
    timeout_s: float = 1.0,
    metrics: Metrics | None = None,
) -> web.Application:
    counters = metrics if metrics is not None else default_metrics()
    client = redis.asyncio.Redis(
        host=redis_host,
        port=redis_port,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        decode_responses=True,
    )

    async def read(key: str) -> Any:
        return await client.get(key)

    async def items(request: web.Request) -> web.Response:
        started = time.perf_counter()
        item = request.match_info["id"]
        try:
            # wait_for also bounds the name lookup, which the socket timeouts do not.
            value = await asyncio.wait_for(read(f"item:{item}"), timeout_s)
        except (TimeoutError, redis.RedisError, OSError) as error:
            reason = f"redis at {redis_host}:{redis_port} unavailable: {type(error).__name__}"
            response = web.json_response({"error": reason}, status=503)
        else:
            response = web.json_response({"id": item, "value": value})
        counters.observe(response.status, time.perf_counter() - started)
        return response

    async def metrics_page(request: web.Request) -> web.Response:
        return web.Response(body=counters.render(), headers={"Content-Type": counters.content_type})

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def close(app: web.Application) -> None:
        await client.connection_pool.disconnect()

    handlers: list[tuple[str, Callable[[web.Request], Awaitable[web.Response]]]] = [
        ("/items/{id}", items),
        ("/metrics", metrics_page),
        ("/healthz", healthz),
    ]
    app = web.Application()
    app.router.add_routes([web.get(path, handler) for path, handler in handlers])
    app.on_cleanup.append(close)
    return app


def main() -> None:
    app = make_app(
        os.environ.get("REDIS_HOST", "redis"),
        int(os.environ.get("REDIS_PORT", "6379")),
        float(os.environ.get("REDIS_TIMEOUT_S", "1.0")),
    )
    web.run_app(app, host="0.0.0.0", port=int(os.environ.get("PORT", "8080")), access_log=None)


if __name__ == "__main__":
    main()
