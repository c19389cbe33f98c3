"""The lab's gateway: an HTTP API whose replicas share one stable address.

Every replica binds the shared API port with SO_REUSEPORT, so the kernel spreads
connections over the live replicas and a killed replica only takes its own
in-flight requests with it, and a per-replica metrics port that Prometheus
scrapes (one target per replica, like one pod each).

Run as ``python -m gameday.lab.gateway --lab-config LAB.json --replica N``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import redis.asyncio as aioredis
from aiohttp import ClientError, ClientSession, ClientTimeout, web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gameday.lab.config import HOST, LabConfig
from gameday.lab.gateway_errors import DependencyUnavailable
from gameday.lab.gateway_orders import add_order_routes
from gameday.lab.gateway_quota_check import add_quota_check_routes
from gameday.lab.release import ReleaseCollector, ReleaseSwitch, release_file

logger = logging.getLogger("gameday.lab.gateway")

QUOTA_LIMIT = 1_000_000
DEPENDENCY_TIMEOUT_S = 0.5
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
REPLICA_KEY: web.AppKey[str] = web.AppKey("replica", str)
ETCD_SESSION_KEY: web.AppKey[ClientSession] = web.AppKey("etcd_session", ClientSession)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class GatewayMetrics:
    """Request count by route and code, latency histogram, dependency errors."""

    def __init__(self, replica: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gateway_requests_total",
            "HTTP requests handled, by route, method and status code.",
            ["route", "method", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_request_duration_seconds",
            "HTTP request latency, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.dependency_errors = Counter(
            "gateway_dependency_errors_total",
            "Calls to a backend that failed or timed out.",
            ["dependency"],
            registry=self.registry,
        )
        for dependency in ("redis", "etcd", "postgres"):
            self.dependency_errors.labels(dependency=dependency)


class EtcdKV:
    """A minimal etcd v3 client over the JSON gateway, failing over across members."""

    def __init__(self, session: ClientSession, endpoints: list[str]) -> None:
        self._session = session
        self._endpoints = endpoints
        self._preferred = 0

    async def _call(self, path: str, body: dict[str, object]) -> dict[str, object]:
        last_error = "no endpoint"
        for attempt in range(len(self._endpoints)):
            index = (self._preferred + attempt) % len(self._endpoints)
            try:
                async with self._session.post(self._endpoints[index] + path, json=body) as resp:
                    if resp.status != 200:
                        last_error = f"HTTP {resp.status}: {(await resp.text())[:200]}"
                        continue
                    self._preferred = index
                    result: dict[str, object] = await resp.json()
                    return result
            except (ClientError, TimeoutError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
        raise DependencyUnavailable("etcd", last_error)

    async def get(self, key: str) -> tuple[str | None, int]:
        result = await self._call("/v3/kv/range", {"key": _b64(key)})
        kvs = result.get("kvs")
        header = result.get("header")
        revision = int(header.get("revision", 0)) if isinstance(header, dict) else 0
        if isinstance(kvs, list) and kvs:
            value = base64.b64decode(kvs[0].get("value", "")).decode()
            return value, int(kvs[0].get("mod_revision", revision))
        return None, revision

    async def put(self, key: str, value: str) -> int:
        result = await self._call("/v3/kv/put", {"key": _b64(key), "value": _b64(value)})
        header = result.get("header")
        return int(header.get("revision", 0)) if isinstance(header, dict) else 0


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def build_app(config: LabConfig, replica: int) -> web.Application:
    metrics = GatewayMetrics(f"gateway-{replica}")
    release = ReleaseSwitch(release_file(config.run))
    metrics.registry.register(ReleaseCollector(release))
    app = web.Application(middlewares=[_metrics_middleware(metrics, release)])
    app[REPLICA_KEY] = f"gateway-{replica}"
    redis_client = aioredis.Redis(
        host=HOST,
        port=config.ports.redis,
        socket_timeout=DEPENDENCY_TIMEOUT_S,
        socket_connect_timeout=DEPENDENCY_TIMEOUT_S,
        # One immediate retry, so a pooled connection left over from before a Redis
        # restart is replaced instead of failing a request; no back-off, so an outage
        # still fails fast and shows in the error-rate SLO the runbook measures.
        retry=Retry(NoBackoff(), 1),
    )
    holder: dict[str, EtcdKV] = {}

    async def on_startup(_: web.Application) -> None:
        session = ClientSession(timeout=ClientTimeout(total=DEPENDENCY_TIMEOUT_S * 2))
        holder["etcd"] = EtcdKV(session, config.etcd_endpoints)
        app[ETCD_SESSION_KEY] = session

    async def on_cleanup(_: web.Application) -> None:
        await app[ETCD_SESSION_KEY].close()
        await redis_client.aclose()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "replica": request.app[REPLICA_KEY]})

    async def quota_read(request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        try:
            used = await redis_client.get(f"quota:{tenant}")
        except RedisError as exc:
            raise DependencyUnavailable("redis", str(exc)) from exc
        used_count = int(used or 0)
        return web.json_response(
            {"tenant": tenant, "used": used_count, "remaining": QUOTA_LIMIT - used_count}
        )

    async def quota_consume(request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        units = int(request.query.get("units", "1"))
        try:
            used = int(await redis_client.incrby(f"quota:{tenant}", units))
        except RedisError as exc:
            raise DependencyUnavailable("redis", str(exc)) from exc
        if used > QUOTA_LIMIT:
            return web.json_response({"tenant": tenant, "error": "quota exceeded"}, status=429)
        return web.json_response({"tenant": tenant, "used": used, "remaining": QUOTA_LIMIT - used})

    async def config_read(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        value, revision = await holder["etcd"].get(f"/config/{key}")
        if value is None:
            return web.json_response({"key": key, "error": "not found"}, status=404)
        return web.json_response({"key": key, "value": value, "revision": revision})

    async def config_write(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        value = await request.text()
        revision = await holder["etcd"].put(f"/config/{key}", value)
        return web.json_response({"key": key, "value": value, "revision": revision})

    async def metrics_endpoint(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/quota/{tenant}", quota_read)
    app.router.add_post("/api/quota/{tenant}/consume", quota_consume)
    app.router.add_get("/api/config/{key}", config_read)
    app.router.add_put("/api/config/{key}", config_write)
    app.router.add_get("/metrics", metrics_endpoint)
    add_order_routes(app, config, metrics)
    add_quota_check_routes(app, config, metrics)
    return app


def _metrics_middleware(
    metrics: GatewayMetrics, release: ReleaseSwitch
) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/metrics":
            return await handler(request)
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        started = time.perf_counter()
        response: web.StreamResponse
        try:
            if request.path.startswith("/api/") and release.fails_next():
                # The bad release's bug: this request fails inside the gateway itself.
                name = release.current().name
                response = web.json_response({"error": f"release {name} failed"}, status=500)
            else:
                response = await handler(request)
        except DependencyUnavailable as exc:
            metrics.dependency_errors.labels(dependency=exc.dependency).inc()
            response = web.json_response(
                {"error": f"{exc.dependency} unavailable", "detail": str(exc)}, status=503
            )
        except web.HTTPException as exc:
            response = exc
        except Exception:
            logger.exception("unhandled error on %s", request.path)
            response = web.json_response({"error": "internal error"}, status=500)
        metrics.latency.labels(route=route).observe(time.perf_counter() - started)
        metrics.requests.labels(route=route, method=request.method, code=str(response.status)).inc()
        return response

    return middleware


async def serve(config: LabConfig, replica: int) -> None:
    app = build_app(config, replica)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, config.ports.gateway, reuse_port=True).start()
    await web.TCPSite(runner, HOST, config.ports.gateway_metrics[replica]).start()
    logger.info("gateway-%d serving on %s:%d", replica, HOST, config.ports.gateway)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description="gameday lab gateway replica")
    parser.add_argument("--lab-config", type=Path, required=True)
    parser.add_argument("--replica", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    asyncio.run(serve(LabConfig.load(args.lab_config), args.replica))


if __name__ == "__main__":
    main()
