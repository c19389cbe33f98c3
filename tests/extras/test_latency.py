"""The latency part without a lab: the proxy on a real local TCP echo server (the delay it
adds per round trip, its jitter bounds, clearing it on open connections, byte order), its
control endpoint and state file, the part's definition, and the gateway's quota check
through the proxy (a real redis-server where the machine has one)."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer

from gameday.lab.config import HOST, LabConfig, LabPorts
from gameday.lab.extras.latency import EXTRA
from gameday.lab.gateway import build_app
from gameday.lab.latency_proxy import (
    Delay,
    LatencyProxy,
    clear_state,
    parse_setting,
    read_state,
    state_file,
    write_state,
)

Check = Callable[["Proxied"], Awaitable[None]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class Proxied:
    """A running proxy in front of an echo server, with a client connection through it."""

    def __init__(self, proxy: LatencyProxy, reader: asyncio.StreamReader, writer: Any) -> None:
        self.proxy = proxy
        self.reader = reader
        self.writer = writer

    async def round_trip(self, payload: bytes = b"ping\n") -> float:
        started = time.perf_counter()
        self.writer.write(payload)
        await self.writer.drain()
        await self.reader.readexactly(len(payload))
        return time.perf_counter() - started

    async def control(self, method: str, body: dict[str, Any] | None = None) -> Any:
        url = f"http://{HOST}:{self.proxy.control_port}/state"
        async with (
            ClientSession() as session,
            session.request(method, url, json=body) as response,
        ):
            return response.status, await response.json()

    async def metrics(self) -> str:
        url = f"http://{HOST}:{self.proxy.control_port}/metrics"
        async with ClientSession() as session, session.get(url) as response:
            return await response.text()


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@asynccontextmanager
async def proxied(state: Path, *, seed: int = 7) -> AsyncIterator[Proxied]:
    echo = await asyncio.start_server(_echo, HOST, 0)
    echo_port = echo.sockets[0].getsockname()[1]
    proxy = LatencyProxy(
        state, {"redis": [(0, echo_port)]}, control_port=0, rng=random.Random(seed)
    )
    runner = await proxy.start()
    reader, writer = await asyncio.open_connection(HOST, proxy.listening["redis"][0])
    try:
        yield Proxied(proxy, reader, writer)
    finally:
        writer.close()
        await proxy.stop(runner)
        echo.close()


def run(state: Path, check: Check) -> None:
    async def main() -> None:
        async with proxied(state) as link:
            await link.round_trip()  # the connection is up
            await check(link)

    asyncio.run(asyncio.wait_for(main(), timeout=60))


def test_without_a_delay_bytes_pass_at_once(tmp_path: Path) -> None:
    async def check(link: Proxied) -> None:
        took = min([await link.round_trip() for _ in range(5)])
        assert took < 0.05

    run(state_file(tmp_path), check)


def test_a_delay_is_added_once_per_round_trip(tmp_path: Path) -> None:
    async def check(link: Proxied) -> None:
        status, state = await link.control("PUT", {"dependency": "redis", "delay_ms": 200})
        assert status == 200 and state["latency"]["redis"] == {"delay_ms": 200, "jitter_ms": 0}
        took = [await link.round_trip() for _ in range(3)]
        # One delay per round trip (not one each way): 200 ms, plus a little scheduling.
        assert all(0.195 <= t < 0.32 for t in took), took

    run(state_file(tmp_path), check)


def test_jittered_round_trips_stay_within_the_bounds_and_spread(tmp_path: Path) -> None:
    async def check(link: Proxied) -> None:
        await link.control("PUT", {"dependency": "redis", "delay_ms": 100, "jitter_ms": 60})
        took = [await link.round_trip() for _ in range(25)]
        assert min(took) >= 0.039, took
        assert max(took) < 0.16 + 0.08, took
        assert max(took) - min(took) > 0.04, "no jitter seen"

    run(state_file(tmp_path), check)


def test_jitter_samples_are_uniform_within_delay_plus_minus_jitter() -> None:
    delay = Delay(300, 100)
    rng = random.Random(1)
    samples = [delay.sample(rng) for _ in range(5000)]
    assert 0.2 <= min(samples) < 0.205 and 0.395 < max(samples) <= 0.4
    assert abs(sum(samples) / len(samples) - 0.3) < 0.005
    assert Delay().sample(rng) == 0.0


def test_clearing_the_delay_speeds_up_an_open_connection(tmp_path: Path) -> None:
    async def check(link: Proxied) -> None:
        await link.control("PUT", {"dependency": "redis", "delay_ms": 300})
        assert await link.round_trip() >= 0.29
        status, state = await link.control("DELETE")
        assert status == 200 and state["latency"]["redis"]["delay_ms"] == 0
        assert await link.round_trip() < 0.05
        assert read_state(link.proxy.state_path)["redis"] == Delay()

    run(state_file(tmp_path), check)


def test_bytes_keep_their_order_under_jitter(tmp_path: Path) -> None:
    async def check(link: Proxied) -> None:
        await link.control("PUT", {"dependency": "redis", "delay_ms": 30, "jitter_ms": 30})
        parts = [f"{n:05d}|".encode() for n in range(300)]
        for part in parts:  # many small writes: many chunks, each with its own delay
            link.writer.write(part)
            await link.writer.drain()
            await asyncio.sleep(0.001)
        echoed = await asyncio.wait_for(link.reader.readexactly(len(b"".join(parts))), 30)
        assert echoed == b"".join(parts)

    run(state_file(tmp_path), check)


def test_chunks_are_timed_from_their_arrival_not_queued_behind_each_other(
    tmp_path: Path,
) -> None:
    async def check(link: Proxied) -> None:
        await link.control("PUT", {"dependency": "redis", "delay_ms": 200})
        started = time.perf_counter()
        for _ in range(5):  # pipelined: 5 requests sent 10 ms apart, before any answer
            link.writer.write(b"x")
            await link.writer.drain()
            await asyncio.sleep(0.01)
        await link.reader.readexactly(5)
        assert time.perf_counter() - started < 0.45  # not 5 x 200 ms

    run(state_file(tmp_path), check)


def test_bad_control_requests_are_refused_and_change_nothing(tmp_path: Path) -> None:
    async def check(link: Proxied) -> None:
        for body in (
            {"dependency": "postgres", "delay_ms": 10},
            {"dependency": "redis", "delay_ms": 10, "jitter_ms": 20},
            {"dependency": "redis", "delay_ms": -1},
            {"dependency": "redis", "delay_ms": "slow"},
        ):
            status, answer = await link.control("PUT", body)
            assert status == 400, body
            assert "bad latency request" in answer["error"]
        status, state = await link.control("GET")
        assert state["latency"]["redis"] == {"delay_ms": 0, "jitter_ms": 0}
        assert state["connections"]["redis"] == 1

    run(state_file(tmp_path), check)


def test_the_metrics_show_the_delay_bytes_and_connections(tmp_path: Path) -> None:
    async def check(link: Proxied) -> None:
        await link.control("POST", {"dependency": "redis", "delay_ms": 50, "jitter_ms": 10})
        await link.round_trip(b"hello\n")
        text = await link.metrics()
        assert 'lab_latency_injected_seconds{dependency="redis"} 0.05' in text
        assert 'lab_latency_jitter_seconds{dependency="redis"} 0.01' in text
        assert 'lab_latency_injected_seconds{dependency="etcd"} 0.0' in text
        assert 'lab_latency_connections_total{dependency="redis"} 1.0' in text
        assert 'lab_latency_open_connections{dependency="redis"} 1.0' in text
        assert 'lab_latency_bytes_total{dependency="redis",direction="upstream"} 11.0' in text
        assert 'lab_latency_applied_delay_seconds_count{dependency="redis"} 2.0' in text

    run(state_file(tmp_path), check)


def test_a_dependency_down_closes_the_client_and_counts_an_error(tmp_path: Path) -> None:
    async def main() -> None:
        closed = free_port()
        proxy = LatencyProxy(state_file(tmp_path), {"redis": [(0, closed)]}, control_port=0)
        runner = await proxy.start()
        try:
            reader, writer = await asyncio.open_connection(HOST, proxy.listening["redis"][0])
            writer.write(b"PING\r\n")
            with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
                await reader.readexactly(1)
            writer.close()
            metrics = proxy.registry.get_sample_value(
                "lab_latency_upstream_errors_total", {"dependency": "redis"}
            )
            assert metrics == 1.0
        finally:
            await proxy.stop(runner)

    asyncio.run(asyncio.wait_for(main(), timeout=30))


def test_a_restarted_proxy_keeps_the_delay_and_follows_the_file(tmp_path: Path) -> None:
    path = state_file(tmp_path)
    write_state(path, {"redis": Delay(250, 50), "etcd": Delay()})
    assert json.loads(path.read_text()) == {"redis": {"delay_ms": 250, "jitter_ms": 50}}
    proxy = LatencyProxy(path, {}, control_port=0)
    assert proxy.delays["redis"] == Delay(250, 50)
    assert proxy.registry.get_sample_value(
        "lab_latency_injected_seconds", {"dependency": "redis"}
    ) == pytest.approx(0.25)
    assert not proxy.reload_if_changed()
    clear_state(path, "redis")  # a revert that found the proxy not answering
    assert proxy.reload_if_changed()
    assert proxy.delays["redis"] == Delay()
    clear_state(path)
    assert not path.exists()


def test_a_broken_state_file_means_no_delay(tmp_path: Path) -> None:
    path = state_file(tmp_path)
    path.write_text('{"redis": {"delay_ms": 10, "jitter_ms": 99}, "etcd": "x"')
    assert read_state(path) == {"redis": Delay(), "etcd": Delay()}
    path.write_text('{"redis": {"delay_ms": 10, "jitter_ms": 99}, "etcd": 3}')
    assert read_state(path) == {"redis": Delay(), "etcd": Delay()}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "JSON object"),
        ({"dependency": "kafka"}, "choose one of redis, etcd"),
        ({"dependency": "etcd", "delay_ms": 5, "jitter_ms": 6}, "jitter_ms is 6"),
        ({"dependency": "etcd", "delay_ms": 70000}, "delay_ms is 70000"),
        ({"dependency": "etcd", "delay_ms": None}, "numbers of milliseconds"),
    ],
)
def test_settings_are_checked(body: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_setting(body)


def test_the_part_proxies_redis_and_every_etcd_member(tmp_path: Path) -> None:
    lab = LabConfig(directory=tmp_path, ports=LabPorts.from_base(31000))
    [part] = EXTRA.parts(lab)
    [program] = part.programs
    assert program.command[-3:] == [
        "gameday.lab.latency_proxy",
        "--lab-config",
        str(lab.config_file),
    ]
    assert "127.0.0.1:31081 (redis)" in program.address
    assert "127.0.0.1:31085 (etcd-2)" in program.address
    [job] = EXTRA.scrape_jobs(lab)
    assert [t.port for t in job.targets] == [lab.ports.latency_control]
    proxy = LatencyProxy.for_lab(lab)
    assert proxy.routes == {
        "redis": [(31081, 31020)],
        "etcd": [(31083, 31030), (31084, 31031), (31085, 31032)],
    }
    write_state(state_file(lab.run), {"redis": Delay(10)})
    EXTRA.release(lab)
    assert not state_file(lab.run).exists()


def _gateway_lab(tmp_path: Path, redis: int, latency_redis: int) -> LabConfig:
    ports = LabPorts.from_base(
        31000, {"redis": redis, "latency_redis": latency_redis, "latency_control": free_port()}
    )
    return LabConfig(directory=tmp_path, ports=ports)


async def _get(client: TestClient[Any, Any], path: str) -> tuple[int, Any]:
    response = await client.get(path)
    return response.status, await response.json()


def test_the_quota_check_answers_503_when_the_proxy_does_not_run(tmp_path: Path) -> None:
    lab = _gateway_lab(tmp_path, free_port(), free_port())

    async def main() -> None:
        app = build_app(lab, 0)
        async with TestClient(TestServer(app)) as client:
            status, body = await _get(client, "/api/quota/tenant-1/check")
            assert status == 503 and body["error"] == "redis unavailable"
            metrics = await (await client.get("/metrics")).text()
            assert 'gateway_dependency_errors_total{dependency="redis"} 1.0' in metrics
            assert 'gateway_requests_total{code="503"' in metrics
            assert 'metering_quota_check_duration_seconds_count{action="check"} 1.0' in metrics
            status, body = await _get(client, "/api/quota/tenant-1/limit")
            assert status == 503 and body["error"] == "etcd unavailable"

    asyncio.run(asyncio.wait_for(main(), timeout=30))


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_the_quota_check_reads_redis_through_the_proxy_and_times_it(tmp_path: Path) -> None:
    redis_port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", HOST, "--save", ""],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    try:
        _quota_check_through_proxy(tmp_path, redis_port)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _quota_check_through_proxy(tmp_path: Path, redis_port: int) -> None:
    lab = _gateway_lab(tmp_path, redis_port, free_port())

    async def main() -> None:
        deadline = time.monotonic() + 10
        while True:  # redis-server is up
            try:
                _, writer = await asyncio.open_connection(HOST, redis_port)
                writer.close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                await asyncio.sleep(0.05)
        proxy = LatencyProxy.for_lab(lab)
        proxy.routes = {"redis": proxy.routes["redis"]}
        runner = await proxy.start()
        try:
            async with TestClient(TestServer(build_app(lab, 0))) as client:
                status, body = await _get(client, "/api/quota/t/check?units=5")
                assert status == 200
                assert body == {"tenant": "t", "used": 0, "remaining": 1_000_000, "allowed": True}
                proxy.set_delay("redis", Delay(300, 0))
                started = time.perf_counter()
                status, _ = await _get(client, "/api/quota/t/check")
                assert status == 200 and time.perf_counter() - started >= 0.3
                metrics = await (await client.get("/metrics")).text()
                slow = 'metering_quota_check_duration_seconds_bucket{action="check",le="0.25"} 1.0'
                assert slow in metrics, "the delayed check is not in the bucket above 0.25 s"
                assert 'check",le="0.5"} 2.0' in metrics
                status, _ = await _get(client, "/api/quota/t/check?units=many")
                assert status == 400
        finally:
            await proxy.stop(runner)

    asyncio.run(asyncio.wait_for(main(), timeout=30))
