"""The gateway's quota check, read through the lab's latency proxy (opt-in part `latency`).

Creto's metering service checks a tenant's quota on Redis before each metered
call and exports the time as ``metering_quota_check_duration_seconds``
(histogram, label ``action``); its alert QuotaCheckSlow watches the p99. The
gateway plays it here:

- ``GET /api/quota/{tenant}/check?units=N``: reads the tenant's usage from Redis
  *through the latency proxy* (``ports.latency_redis``) and says whether N more
  units fit; the Redis call is timed into ``metering_quota_check_duration_seconds
  {action="check"}``;
- ``GET /api/quota/{tenant}/limit``: reads the tenant's limit from etcd through
  the latency proxy's etcd ports (``ports.latency_etcd``; the lab-wide
  ``/config/quota-limit``, else the gateway's default), so a latency on etcd
  shows in this route's request durations.

When the proxy does not run (the part is not started) or the dependency behind
it is down, both answer 503 and count a dependency error, as the gateway's
other routes do. The timeouts are longer than the gateway's own 0.5 s: an
injected latency of up to about 2 s must show as a slow check, not as an error.
"""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from aiohttp import ClientError, ClientSession, ClientTimeout, web
from prometheus_client import Histogram
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gameday.lab.config import HOST, LabConfig
from gameday.lab.gateway_errors import DependencyUnavailable

if TYPE_CHECKING:
    from gameday.lab.gateway import GatewayMetrics

QUOTA_LIMIT = 1_000_000
CHECK_TIMEOUT_S = 2.0
CONNECT_TIMEOUT_S = 0.5
LIMIT_KEY = "/config/quota-limit"
CHECK_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SESSION_KEY: web.AppKey[ClientSession] = web.AppKey("quota_check_etcd_session", ClientSession)


async def _etcd_value(session: ClientSession, endpoints: list[str], key: str) -> str | None:
    """A key's value from the first etcd member that answers (through the proxy)."""
    body = {"key": base64.b64encode(key.encode()).decode()}
    last_error = "no endpoint"
    for endpoint in endpoints:
        try:
            async with session.post(endpoint + "/v3/kv/range", json=body) as response:
                if response.status != 200:
                    last_error = f"HTTP {response.status}"
                    continue
                document = await response.json()
        except (ClientError, TimeoutError) as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            continue
        kvs = document.get("kvs") if isinstance(document, dict) else None
        if isinstance(kvs, list) and kvs:
            return base64.b64decode(kvs[0].get("value", "")).decode()
        return None
    raise ConnectionError(last_error)


def add_quota_check_routes(
    app: web.Application, config: LabConfig, metrics: GatewayMetrics
) -> None:
    """Add the quota check and limit routes, and their histogram, to a gateway replica."""
    duration = Histogram(
        "metering_quota_check_duration_seconds",
        "Time a quota check spent on its Redis read (through the lab's latency proxy).",
        ["action"],
        buckets=CHECK_BUCKETS,
        registry=metrics.registry,
    )
    checks = duration.labels(action="check")
    redis_client = aioredis.Redis(
        host=HOST,
        port=config.ports.latency_redis,
        socket_timeout=CHECK_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        # One immediate retry: a pooled connection the proxy dropped (restarted) is replaced.
        retry=Retry(NoBackoff(), 1),
    )
    etcd_endpoints = [config.url(port) for port in config.ports.latency_etcd]

    async def on_startup(_: web.Application) -> None:
        app[SESSION_KEY] = ClientSession(timeout=ClientTimeout(total=CHECK_TIMEOUT_S))

    async def on_cleanup(_: web.Application) -> None:
        await app[SESSION_KEY].close()
        await redis_client.aclose()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)

    async def quota_check(request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        try:
            units = int(request.query.get("units", "1"))
        except ValueError:
            return web.json_response({"error": "units must be a whole number"}, status=400)
        started = time.perf_counter()
        try:
            used = await redis_client.get(f"quota:{tenant}")
        except RedisError as exc:
            raise DependencyUnavailable("redis", str(exc)) from exc
        finally:
            checks.observe(time.perf_counter() - started)
        used_count = int(used or 0)
        return web.json_response(
            {
                "tenant": tenant,
                "used": used_count,
                "remaining": QUOTA_LIMIT - used_count,
                "allowed": used_count + units <= QUOTA_LIMIT,
            }
        )

    async def quota_limit(request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        try:
            value = await _etcd_value(request.app[SESSION_KEY], etcd_endpoints, LIMIT_KEY)
        except ConnectionError as exc:
            raise DependencyUnavailable("etcd", str(exc)) from exc
        try:
            limit = int(value) if value is not None else QUOTA_LIMIT
        except ValueError:
            limit = QUOTA_LIMIT
        return web.json_response({"tenant": tenant, "limit": limit})

    app.router.add_get("/api/quota/{tenant}/check", quota_check)
    app.router.add_get("/api/quota/{tenant}/limit", quota_limit)
