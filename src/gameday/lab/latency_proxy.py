"""A TCP proxy in front of the lab's Redis and etcd that can add network latency.

The lab's opt-in part `latency` runs it. It listens on ``ports.latency_redis``
(forwarding to Redis at ``ports.redis``) and on ``ports.latency_etcd[i]``
(forwarding to etcd member i's client port ``ports.etcd_client[i]``); a client
that should feel the latency (the gateway's quota check) connects to these
ports instead of the real ones. Without a fault it forwards bytes unchanged.

With a delay set for a dependency, every chunk a client sends is held for
``delay_ms`` plus a uniform jitter in ``[-jitter_ms, +jitter_ms]`` before it
goes upstream; answers come back at once. Redis and etcd are request/response
protocols, so each round trip gains exactly one sample: the delay *is* the
added round-trip time, as a slow network link would add it. Each chunk is
timed from when it arrived (a pipelined request is not held behind the whole
delay of the one before it), and chunks leave in the order they came, so the
bytes of a connection are never reordered (a chunk due earlier waits for the
one before it, as TCP's in-order delivery would). The delay applies to open
connections too: the gateway's pooled Redis connections slow down at once.

The settings live in ``run/latency.json`` in the lab directory, written by
this proxy and re-read when the file changes: a proxy restarted by the
supervisor keeps the fault in force (the fault ledger still says it is), and
a revert that finds the proxy down clears the file, so it starts clean.

A control endpoint on ``127.0.0.1:ports.latency_control``:

- ``GET /state``: the delay and jitter of each dependency, the open connections;
- ``PUT /state`` (or ``POST``) with ``{"dependency": "redis", "delay_ms": 300,
  "jitter_ms": 100}``: set one dependency's latency (``jitter_ms`` <= ``delay_ms``);
- ``DELETE /state`` (``?dependency=redis`` for one): no added latency;
- ``GET /metrics``: ``lab_latency_injected_seconds{dependency}`` (the set delay),
  ``lab_latency_jitter_seconds{dependency}``, ``lab_latency_applied_delay_seconds``
  (a histogram of the delays added), ``lab_latency_bytes_total{dependency,direction}``,
  ``lab_latency_connections_total{dependency}``, ``lab_latency_open_connections``,
  ``lab_latency_upstream_errors_total{dependency}``.

Run as ``python -m gameday.lab.latency_proxy --lab-config LAB.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from gameday.lab.config import HOST, LabConfig

logger = logging.getLogger("gameday.lab.latency_proxy")
DEPENDENCIES = ("redis", "etcd")
STATE_FILE = "latency.json"
CHUNK = 64 * 1024
# Chunks held per connection before the proxy stops reading the client: bounds memory
# when a client sends faster than the delay lets through.
QUEUE_CHUNKS = 256
MAX_DELAY_MS = 60_000.0
RELOAD_S = 1.0
DELAY_BUCKETS = (0.0, 0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0)


@dataclass(frozen=True)
class Delay:
    """The latency added to one dependency's round trips, in milliseconds."""

    delay_ms: float = 0.0
    jitter_ms: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.delay_ms <= MAX_DELAY_MS:
            raise ValueError(f"delay_ms is {self.delay_ms:g}: choose 0 to {MAX_DELAY_MS:g}")
        if not 0 <= self.jitter_ms <= self.delay_ms:
            raise ValueError(
                f"jitter_ms is {self.jitter_ms:g}: choose 0 to delay_ms ({self.delay_ms:g}), "
                "so no delay is negative"
            )

    @property
    def active(self) -> bool:
        return self.delay_ms > 0

    def sample(self, rng: random.Random) -> float:
        """One delay in seconds: uniform in [delay - jitter, delay + jitter]."""
        if not self.active:
            return 0.0
        return (self.delay_ms + rng.uniform(-self.jitter_ms, self.jitter_ms)) / 1000.0

    def as_dict(self) -> dict[str, float]:
        return {"delay_ms": self.delay_ms, "jitter_ms": self.jitter_ms}


def state_file(run_dir: Path) -> Path:
    return run_dir / STATE_FILE


def parse_setting(body: object) -> tuple[str, Delay]:
    """A control request's ``{dependency, delay_ms, jitter_ms}``; ValueError if bad."""
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object: {dependency, delay_ms, jitter_ms}")
    dependency = body.get("dependency")
    if dependency not in DEPENDENCIES:
        raise ValueError(f"dependency is {dependency!r}: choose one of {', '.join(DEPENDENCIES)}")
    try:
        delay_ms = float(body.get("delay_ms", 0))
        jitter_ms = float(body.get("jitter_ms", 0))
    except (TypeError, ValueError):
        raise ValueError("delay_ms and jitter_ms must be numbers of milliseconds") from None
    return str(dependency), Delay(delay_ms, jitter_ms)


def read_state(path: Path) -> dict[str, Delay]:
    """The delays in force per dependency (none set: no delay); a broken file is no delay."""
    delays = {dependency: Delay() for dependency in DEPENDENCIES}
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return delays
    if not isinstance(document, dict):
        return delays
    for dependency in DEPENDENCIES:
        entry = document.get(dependency)
        if isinstance(entry, dict):
            with contextlib.suppress(ValueError, TypeError):
                delays[dependency] = Delay(
                    float(entry.get("delay_ms", 0)), float(entry.get("jitter_ms", 0))
                )
    return delays


def write_state(path: Path, delays: dict[str, Delay]) -> None:
    """Write the delays atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    document = {name: delay.as_dict() for name, delay in delays.items() if delay.active}
    temporary.write_text(json.dumps(document, sort_keys=True) + "\n")
    temporary.replace(path)


def clear_state(path: Path, dependency: str | None = None) -> None:
    """No added latency for `dependency` (None: any), whether or not a proxy runs."""
    if dependency is None:
        path.unlink(missing_ok=True)
        return
    delays = read_state(path)
    delays[dependency] = Delay()
    write_state(path, delays)


class LatencyProxy:
    """The listeners, the delays in force, and the metrics."""

    def __init__(
        self,
        state_path: Path,
        routes: dict[str, list[tuple[int, int]]],
        *,
        control_port: int,
        rng: random.Random | None = None,
    ) -> None:
        """`routes`: dependency → (listen port, upstream port) pairs; port 0 listens on any
        free port (tests), and `listening` / `control_port` say which once started."""
        self.state_path = state_path
        self.routes = routes
        self.control_port = control_port
        self.rng = rng or random.Random()
        self.delays = read_state(state_path)
        self._mtime = self._stat()
        self.open: dict[str, int] = {dependency: 0 for dependency in DEPENDENCIES}
        self.servers: list[asyncio.Server] = []
        self.listening: dict[str, list[int]] = {}
        self.registry = CollectorRegistry()
        self._injected = Gauge(
            "lab_latency_injected_seconds",
            "The latency added to each round trip to the dependency (mean, 0: none).",
            ["dependency"],
            registry=self.registry,
        )
        self._jitter = Gauge(
            "lab_latency_jitter_seconds",
            "The uniform jitter around the added latency (+/- this much).",
            ["dependency"],
            registry=self.registry,
        )
        self._applied = Histogram(
            "lab_latency_applied_delay_seconds",
            "Delays actually added to the chunks clients sent, by dependency.",
            ["dependency"],
            buckets=DELAY_BUCKETS,
            registry=self.registry,
        )
        self._bytes = Counter(
            "lab_latency_bytes",
            "Bytes forwarded, by dependency and direction (upstream: client to server).",
            ["dependency", "direction"],
            registry=self.registry,
        )
        self._connections = Counter(
            "lab_latency_connections",
            "Client connections accepted, by dependency.",
            ["dependency"],
            registry=self.registry,
        )
        self._open = Gauge(
            "lab_latency_open_connections",
            "Client connections open now, by dependency.",
            ["dependency"],
            registry=self.registry,
        )
        self._upstream_errors = Counter(
            "lab_latency_upstream_errors",
            "Client connections closed because the dependency could not be reached.",
            ["dependency"],
            registry=self.registry,
        )
        for dependency in DEPENDENCIES:
            self._open.labels(dependency=dependency).set_function(self._opened(dependency))
            self._connections.labels(dependency=dependency)
            self._upstream_errors.labels(dependency=dependency)
            self._applied.labels(dependency=dependency)
            for direction in ("upstream", "downstream"):
                self._bytes.labels(dependency=dependency, direction=direction)
        self._show()

    @classmethod
    def for_lab(cls, config: LabConfig) -> LatencyProxy:
        ports = config.ports
        return cls(
            state_file(config.run),
            {
                "redis": [(ports.latency_redis, ports.redis)],
                "etcd": list(zip(ports.latency_etcd, ports.etcd_client, strict=True)),
            },
            control_port=ports.latency_control,
        )

    def _opened(self, dependency: str) -> Callable[[], float]:
        return lambda: float(self.open[dependency])

    def _stat(self) -> tuple[int, int] | None:
        # The inode too: every write replaces the file, so a new one is a change even
        # within the file system's time resolution.
        try:
            stat = self.state_path.stat()
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns

    def _show(self) -> None:
        for dependency, delay in self.delays.items():
            self._injected.labels(dependency=dependency).set(delay.delay_ms / 1000.0)
            self._jitter.labels(dependency=dependency).set(delay.jitter_ms / 1000.0)

    def set_delay(self, dependency: str, delay: Delay) -> None:
        if dependency not in DEPENDENCIES:
            raise ValueError(f"unknown dependency {dependency!r}")
        self.delays[dependency] = delay
        write_state(self.state_path, self.delays)
        self._mtime = self._stat()
        self._show()
        logger.warning(
            "%s: %gms +/- %gms added per round trip", dependency, delay.delay_ms, delay.jitter_ms
        )

    def clear(self, dependency: str | None = None) -> None:
        if dependency is not None and dependency not in DEPENDENCIES:
            raise ValueError(f"unknown dependency {dependency!r}")
        for name in DEPENDENCIES if dependency is None else (dependency,):
            self.delays[name] = Delay()
        write_state(self.state_path, self.delays)
        self._mtime = self._stat()
        self._show()
        logger.warning("latency cleared for %s", dependency or "every dependency")

    def reload_if_changed(self) -> bool:
        """Take the state file's delays if someone else (a revert) changed it."""
        mtime = self._stat()
        if mtime == self._mtime:
            return False
        self._mtime = mtime
        self.delays = read_state(self.state_path)
        self._show()
        logger.warning("state file changed: %s", self.state()["latency"])
        return True

    def state(self) -> dict[str, Any]:
        return {
            "latency": {name: delay.as_dict() for name, delay in self.delays.items()},
            "connections": dict(self.open),
        }

    async def _send_delayed(
        self, dependency: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Client → upstream: each chunk held for its own delay, in arrival order."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(QUEUE_CHUNKS)
        sent = self._bytes.labels(dependency=dependency, direction="upstream")
        applied = self._applied.labels(dependency=dependency)

        async def receive() -> None:
            try:
                while data := await reader.read(CHUNK):
                    delay = self.delays[dependency].sample(self.rng)
                    applied.observe(delay)
                    await queue.put((loop.time() + delay, data))
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            # The end of the stream, after the chunks still held (not on cancel: deliver
            # is gone then, and a full queue would never take it).
            await queue.put(None)

        async def deliver() -> None:
            try:
                while (item := await queue.get()) is not None:
                    due, data = item
                    wait = due - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    writer.write(data)
                    await writer.drain()
                    sent.inc(len(data))
            except ConnectionError:
                pass
            finally:
                with contextlib.suppress(Exception):
                    writer.close()

        receiving = asyncio.create_task(receive())
        try:
            await deliver()
        finally:
            # An upstream gone mid-stream: stop reading the client too.
            receiving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiving

    async def _send_back(
        self, dependency: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        received = self._bytes.labels(dependency=dependency, direction="downstream")
        try:
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()
                received.inc(len(data))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def handle(
        self,
        dependency: str,
        upstream_port: int,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
    ) -> None:
        self._connections.labels(dependency=dependency).inc()
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(HOST, upstream_port)
        except OSError as exc:
            self._upstream_errors.labels(dependency=dependency).inc()
            logger.info("%s at port %d unreachable: %s", dependency, upstream_port, exc)
            client_writer.transport.abort()
            return
        self.open[dependency] += 1
        try:
            await asyncio.gather(
                self._send_delayed(dependency, client_reader, upstream_writer),
                self._send_back(dependency, upstream_reader, client_writer),
            )
        finally:
            self.open[dependency] -= 1

    def control_app(self) -> web.Application:
        async def get_state(_: web.Request) -> web.Response:
            return web.json_response(self.state())

        async def set_state(request: web.Request) -> web.Response:
            try:
                dependency, delay = parse_setting(await request.json())
            except ValueError as exc:  # json.JSONDecodeError is one
                return web.json_response({"error": f"bad latency request: {exc}"}, status=400)
            self.set_delay(dependency, delay)
            return web.json_response(self.state())

        async def delete_state(request: web.Request) -> web.Response:
            dependency = request.query.get("dependency") or None
            try:
                self.clear(dependency)
            except ValueError as exc:
                return web.json_response({"error": str(exc)}, status=400)
            return web.json_response(self.state())

        async def metrics(_: web.Request) -> web.Response:
            return web.Response(
                body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
            )

        app = web.Application()
        app.router.add_get("/state", get_state)
        app.router.add_put("/state", set_state)
        app.router.add_post("/state", set_state)
        app.router.add_delete("/state", delete_state)
        app.router.add_get("/metrics", metrics)
        return app

    async def start(self) -> web.AppRunner:
        """Open every listener and the control endpoint; return the control's runner."""
        for dependency, pairs in self.routes.items():
            for listen, upstream in pairs:

                async def handle(
                    reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter,
                    dependency: str = dependency,
                    upstream: int = upstream,
                ) -> None:
                    await self.handle(dependency, upstream, reader, writer)

                server = await asyncio.start_server(handle, HOST, listen)
                self.servers.append(server)
                bound = server.sockets[0].getsockname()[1]
                self.listening.setdefault(dependency, []).append(bound)
                logger.info("%s: %s:%d -> %d", dependency, HOST, bound, upstream)
        runner = web.AppRunner(self.control_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, HOST, self.control_port).start()
        self.control_port = runner.addresses[0][1]
        logger.info("control endpoint on %s:%d", HOST, self.control_port)
        return runner

    async def stop(self, runner: web.AppRunner) -> None:
        for server in self.servers:
            server.close()
        await runner.cleanup()

    async def serve(self) -> None:
        runner = await self.start()
        try:
            while True:
                await asyncio.sleep(RELOAD_S)
                self.reload_if_changed()
        finally:
            await self.stop(runner)


def main() -> None:
    parser = argparse.ArgumentParser(description="gameday lab latency proxy (Redis, etcd)")
    parser.add_argument("--lab-config", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    asyncio.run(LatencyProxy.for_lab(LabConfig.load(args.lab_config)).serve())


if __name__ == "__main__":
    main()
