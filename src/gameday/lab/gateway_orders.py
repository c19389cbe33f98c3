"""The gateway's orders, on PostgreSQL (the opt-in part `postgres`).

- ``POST /api/orders`` with ``{"item": "widget", "quantity": 2}`` (both optional):
  201 and the order, with its id;
- ``GET /api/orders/{id}``: 200 and the order, 404 when there is none.

Each replica has a small asyncpg pool (at most 3 connections, none opened before a
request needs one, closed after 30 s idle) with short timeouts (connect and command
0.5 s). A request that cannot get a connection (PostgreSQL down, or every client
slot taken: "sorry, too many clients already") counts
``postgres_connection_errors_total`` (Creto's name for it) and raises the gateway's
``DependencyUnavailable("postgres", …)``: a 503, counted in
``gateway_dependency_errors_total{dependency="postgres"}`` like Redis and etcd
failures. A pooled connection the server closed (a restart, a terminated session) is
replaced once at once, so a restarted server fails no request once it is back. When
the part is not started the routes answer 503 at once (connection refused); an
outage is logged when it starts and when it ends, not at every request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import asyncpg  # type: ignore[import-untyped]
from aiohttp import web
from prometheus_client import Counter

from gameday.lab.config import HOST, LabConfig
from gameday.lab.extras.postgres import DATABASE, GATEWAY_ROLE
from gameday.lab.gateway_errors import DependencyUnavailable

if TYPE_CHECKING:
    from gameday.lab.gateway import GatewayMetrics

logger = logging.getLogger("gameday.lab.gateway.orders")

CONNECT_TIMEOUT_S = 0.5
COMMAND_TIMEOUT_S = 0.5
ACQUIRE_TIMEOUT_S = 1.0
POOL_MAX = 3
IDLE_LIFETIME_S = 30.0
CLOSE_TIMEOUT_S = 2.0
MAX_ITEM = 100
MAX_QUANTITY = 1000
# A connection that died under a query: the server restarted or ended the session.
LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.InterfaceError,
    OSError,
)
# Any failure to open a connection.
CONNECT_FAILED = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
POOL_KEY: web.AppKey[dict[str, Any]] = web.AppKey("orders_pool", dict)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class OrdersStore:
    """The replica's pool, and the connection-error accounting around it."""

    def __init__(self, config: LabConfig, errors: Counter) -> None:
        self.config = config
        self.errors = errors
        self.pool: Any = None
        self.failing = False

    async def open(self) -> None:
        # min_size 0: no connection until a request needs one, so a lab without the part
        # never dials PostgreSQL in the background.
        self.pool = await asyncpg.create_pool(
            host=HOST,
            port=self.config.ports.postgres,
            user=GATEWAY_ROLE,
            database=DATABASE,
            min_size=0,
            max_size=POOL_MAX,
            max_inactive_connection_lifetime=IDLE_LIFETIME_S,
            timeout=CONNECT_TIMEOUT_S,
            command_timeout=COMMAND_TIMEOUT_S,
            server_settings={"application_name": "gateway"},
        )

    async def close(self) -> None:
        if self.pool is None:
            return
        try:
            await asyncio.wait_for(self.pool.close(), CLOSE_TIMEOUT_S)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            self.pool.terminate()

    def _cannot_connect(self, exc: BaseException) -> Exception:
        self.errors.inc()
        if not self.failing:
            self.failing = True
            logger.warning("postgres unavailable (%s); further failures are only counted", exc)
        return DependencyUnavailable("postgres", f"cannot connect: {_reason(exc)}")

    def _connected(self) -> None:
        if self.failing:
            self.failing = False
            logger.info("postgres reachable again")

    async def run(self, operation: Callable[[Any], Awaitable[Any]]) -> Any:
        """`operation` on a pooled connection; DependencyUnavailable when it cannot."""
        for attempt in range(2):
            try:
                connection = await self.pool.acquire(timeout=ACQUIRE_TIMEOUT_S)
            except CONNECT_FAILED as exc:
                raise self._cannot_connect(exc) from exc
            try:
                result = await operation(connection)
            except TimeoutError as exc:  # before LOST: TimeoutError is an OSError
                raise DependencyUnavailable("postgres", f"query timed out: {_reason(exc)}") from exc
            except LOST as exc:
                if attempt == 0:
                    # Its peers are as stale as it: replace them all, then try once more.
                    await self.pool.expire_connections()
                    continue
                raise self._cannot_connect(exc) from exc
            except asyncpg.PostgresError as exc:
                raise DependencyUnavailable("postgres", f"query failed: {_reason(exc)}") from exc
            finally:
                await self._release(connection)
            self._connected()
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    async def _release(self, connection: Any) -> None:
        try:
            await self.pool.release(connection, timeout=CLOSE_TIMEOUT_S)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            connection.terminate()  # a broken connection: the pool opens a new one


def _order(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "item": row["item"],
        "quantity": row["quantity"],
        "created_at": row["created_at"].isoformat(),
    }


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _new_order(request: web.Request) -> tuple[str, int] | web.Response:
    document: Any = {}
    if request.can_read_body:
        try:
            document = await request.json()
        except ValueError:
            return _bad_request('the body must be JSON: {"item": "widget", "quantity": 1}')
    if not isinstance(document, dict):
        return _bad_request('the body must be a JSON object: {"item": "widget", "quantity": 1}')
    item = document.get("item", "widget")
    quantity = document.get("quantity", 1)
    if not isinstance(item, str) or not 0 < len(item) <= MAX_ITEM:
        return _bad_request(f"item must be a string of 1 to {MAX_ITEM} characters")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        return _bad_request("quantity must be an integer")
    if not 0 < quantity <= MAX_QUANTITY:
        return _bad_request(f"quantity must be between 1 and {MAX_QUANTITY}")
    return item, quantity


def add_order_routes(app: web.Application, config: LabConfig, metrics: GatewayMetrics) -> None:
    """Register the orders routes, their pool and Creto's connection-error counter."""
    errors = Counter(
        "postgres_connection_errors",
        "Failures to get a PostgreSQL connection (refused, timed out, too many clients).",
        registry=metrics.registry,
    )
    store = OrdersStore(config, errors)

    async def on_startup(_: web.Application) -> None:
        await store.open()

    async def on_cleanup(_: web.Application) -> None:
        await store.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)

    async def create(request: web.Request) -> web.Response:
        parsed = await _new_order(request)
        if isinstance(parsed, web.Response):
            return parsed
        item, quantity = parsed

        async def insert(connection: Any) -> Any:
            return await connection.fetchrow(
                "INSERT INTO orders (item, quantity) VALUES ($1, $2)"
                " RETURNING id, item, quantity, created_at",
                item,
                quantity,
            )

        row = await store.run(insert)
        return web.json_response(_order(row), status=201)

    async def read(request: web.Request) -> web.Response:
        order_id = int(request.match_info["id"])
        if order_id > 2**63 - 1:
            return web.json_response({"id": order_id, "error": "not found"}, status=404)

        async def select(connection: Any) -> Any:
            return await connection.fetchrow(
                "SELECT id, item, quantity, created_at FROM orders WHERE id = $1", order_id
            )

        row = await store.run(select)
        if row is None:
            return web.json_response({"id": order_id, "error": "not found"}, status=404)
        return web.json_response(_order(row))

    app.router.add_post("/api/orders", create)
    app.router.add_get(r"/api/orders/{id:\d+}", read)
