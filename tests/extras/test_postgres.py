"""The postgres part without a lab: its processes, scrape job and data directory, and,
with the machine's real PostgreSQL (started as the supervisor would start it), the
gateway's orders through a restart and through connection exhaustion, the connection
holder, and a lab without the part answering 503 at once."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from chaoslib.exceptions import ActivityFailed
from prometheus_client.parser import text_string_to_metric_families

from gameday.chaos.postgres.actions import exhaust_connections
from gameday.errors import LabError
from gameday.lab.config import LabConfig, LabPorts
from gameday.lab.extras import postgres
from gameday.lab.extras.registry import EXTRAS
from gameday.lab.extras.runtime import extra_parts
from gameday.lab.gateway import build_app
from gameday.lab.postgres_holder import Holder

GROUPS = ["postgres", "postgres-exporter", "postgres-holder"]
HAS_SERVER = postgres.bindir() is not None
needs_server = pytest.mark.skipif(not HAS_SERVER, reason="PostgreSQL's server is not installed")


def free_base() -> int:
    """A base port whose postgres port (base + 70) is free now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    if port - 70 < 1024:
        return free_base()
    return port - 70


def lab_in(directory: Path, base: int = 32000) -> LabConfig:
    config = LabConfig(directory=directory / "lab", ports=LabPorts.from_base(base))
    config.save()
    return config


def test_the_postgres_part_is_registered_with_its_groups_in_start_order(tmp_path: Path) -> None:
    lab = lab_in(tmp_path)
    extra = EXTRAS["postgres"]
    assert [part.name for part in extra.parts(lab)] == GROUPS
    configured = [p for part in extra_parts(lab) if part.name in GROUPS for p in part.programs]
    assert configured and not any(program.autostart for program in configured)
    assert extra.prepare is postgres.prepare and extra.release is postgres.release


def test_the_server_listens_on_localhost_with_few_connections_and_not_as_root(
    tmp_path: Path,
) -> None:
    lab = lab_in(tmp_path)
    server = postgres.parts(lab)[0].programs[0]
    pairs = zip(server.command, server.command[1:], strict=False)
    settings = dict(arg.split("=", 1) for prev, arg in pairs if prev == "-c")
    assert settings["listen_addresses"] == "127.0.0.1"
    assert settings["port"] == str(lab.ports.postgres)
    assert settings["max_connections"] == "20"
    assert settings["superuser_reserved_connections"] == "3"
    assert server.command[:2] == ["sh", "-c"] and "kill -INT" in server.command[2]
    assert server.user == ("postgres" if os.geteuid() == 0 else None)
    exporter = postgres.parts(lab)[1].programs[0]
    assert f"--web.listen-address=127.0.0.1:{lab.ports.postgres_exporter}" in exporter.command
    assert exporter.environment["DATA_SOURCE_NAME"] == (
        f"postgresql://postgres@127.0.0.1:{lab.ports.postgres}/postgres?sslmode=disable"
    )


def test_the_exporter_is_scraped_slowly_enough_to_report_a_server_down(tmp_path: Path) -> None:
    lab = lab_in(tmp_path)
    [job] = postgres.scrape_jobs(lab)
    assert job.name == "postgres"
    assert [target.port for target in job.targets] == [lab.ports.postgres_exporter]
    # The exporter needs about 1 s to say pg_up 0: a 1 s timeout would lose the sample.
    assert job.settings == {"scrape_interval": "2s", "scrape_timeout": "2s"}


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another user")
def test_a_lab_directory_the_postgres_user_cannot_reach_keeps_the_database_outside(
    tmp_path: Path,
) -> None:
    # pytest's temporary directories are 0700: out of the postgres user's reach.
    outside = postgres.layout(lab_in(tmp_path))
    assert outside.outside_lab and outside.base.name.startswith("gameday-postgres-")
    opened = Path(tempfile.mkdtemp(prefix="gameday-test-"))
    try:
        opened.chmod(0o755)
        inside = postgres.layout(lab_in(opened))
        assert not inside.outside_lab and inside.base == opened / "lab" / "data" / "postgres"
    finally:
        shutil.rmtree(opened)


def test_exhaust_connections_refuses_a_count_no_server_has() -> None:
    with pytest.raises(ActivityFailed, match="choose 1 to 20"):
        exhaust_connections(connections=0)


def test_prepare_without_the_server_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres, "bindir", lambda: None)
    with pytest.raises(LabError, match="server binaries") as caught:
        postgres.prepare(lab_in(tmp_path))
    assert caught.value.hint is not None and "install -y --no-install-recommends postgresql" in (
        caught.value.hint
    )


class Server:
    """PostgreSQL started the way the supervisor starts it (the command, the user, a
    SIGTERM to the process group), on a prepared data directory."""

    def __init__(self, lab: LabConfig) -> None:
        self.lab = lab
        self.process: subprocess.Popen[bytes] | None = None
        self.log = lab.logs / "postgres.log"

    def start(self) -> None:
        program = postgres.parts(self.lab)[0].programs[0]
        extra: dict[str, Any] = {}
        if program.user is not None:
            uid, gid, gids = postgres._service_ids(program.user)
            extra = {"user": uid, "group": gid, "extra_groups": gids}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                program.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd="/",
                **extra,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                postgres.admin_sql(self.lab, "SELECT 1")
                return
            except Exception:
                assert self.process.poll() is None, self.log.read_text()
                time.sleep(0.1)
        raise AssertionError("PostgreSQL did not start: " + self.log.read_text())

    def stop(self) -> float:
        """SIGTERM to its process group, as supervisord's stopasgroup; seconds it took."""
        assert self.process is not None
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=20)
        return time.monotonic() - started


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One prepared and running server for the module's tests (each leaves it running
    and without held sessions)."""
    if not HAS_SERVER:
        pytest.skip("PostgreSQL's server is not installed")
    lab = lab_in(tmp_path_factory.mktemp("postgres"), free_base())
    postgres.prepare(lab)
    running = Server(lab)
    running.start()
    try:
        yield running
    finally:
        if running.process is not None and running.process.poll() is None:
            running.stop()
        postgres.release(lab)


def _metric(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    raise AssertionError(f"no {name} {labels}")


async def _call(client: TestClient[Any, Any], method: str, path: str, **kwargs: Any) -> Any:
    started = time.monotonic()
    async with client.request(method, path, **kwargs) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body, time.monotonic() - started


@needs_server
def test_prepare_makes_the_database_once_per_lab_and_drops_a_leftover_order(
    server: Server,
) -> None:
    lab = server.lab
    state = postgres.read_state(lab)
    assert state is not None
    pgdata = Path(state["base"]) / "pgdata"
    assert (pgdata / "PG_VERSION").is_file()
    assert "127.0.0.1/32  trust" in (pgdata / "pg_hba.conf").read_text()
    made = (pgdata / "PG_VERSION").stat().st_mtime_ns
    postgres.write_order(lab, "left-by-a-crash", None)
    postgres.prepare(lab)  # idempotent: the same database, the order dropped
    assert (pgdata / "PG_VERSION").stat().st_mtime_ns == made
    assert postgres.read_order(lab) is None
    tables = postgres.admin_sql(lab, "SELECT datname FROM pg_database WHERE datname = 'orders'")
    assert tables == [[{"datname": "orders"}]]


def test_release_removes_a_database_kept_outside_the_lab_only(tmp_path: Path) -> None:
    lab = lab_in(tmp_path)
    outside = Path(tempfile.mkdtemp(prefix="gameday-postgres-"))
    postgres._write_json(postgres.state_file(lab), {"base": str(outside), "outside_lab": True})
    postgres.release(lab)
    assert not outside.exists() and postgres.read_state(lab) is None
    inside = lab.data / "postgres"
    inside.mkdir(parents=True)
    postgres._write_json(postgres.state_file(lab), {"base": str(inside), "outside_lab": False})
    postgres.release(lab)
    assert inside.is_dir()  # data/ is the lab's: `lab up` wipes it, not `lab down`


def test_without_the_part_the_orders_answer_503_at_once_and_log_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lab = lab_in(tmp_path, free_base())  # nothing listens on its postgres port

    async def main() -> None:
        async with TestClient(TestServer(build_app(lab, 0))) as client:
            for _ in range(5):
                status, body, took = await _call(client, "POST", "/api/orders", json={})
                assert status == 503 and body["error"] == "postgres unavailable", body
                assert took < 1.0
            metrics = await (await client.get("/metrics")).text()
            assert _metric(metrics, "postgres_connection_errors_total") == 5
            assert _metric(metrics, "gateway_dependency_errors_total", dependency="postgres") == 5

    with caplog.at_level(logging.INFO, logger="gameday.lab.gateway.orders"):
        asyncio.run(asyncio.wait_for(main(), timeout=30))
    assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == 1


def test_orders_refuse_bad_input_with_400(tmp_path: Path) -> None:
    lab = lab_in(tmp_path, free_base())

    async def main() -> None:
        async with TestClient(TestServer(build_app(lab, 0))) as client:
            for body in ({"quantity": 0}, {"quantity": "2"}, {"item": ""}, [1]):
                status, answer, _ = await _call(client, "POST", "/api/orders", json=body)
                assert status == 400, (body, answer)
            status, _, _ = await _call(client, "POST", "/api/orders", data=b"not json")
            assert status == 400
            async with client.get("/api/orders/abc") as response:
                assert response.status == 404

    asyncio.run(asyncio.wait_for(main(), timeout=30))


@needs_server
def test_orders_are_stored_and_survive_a_restart_without_failing_once_it_is_back(
    server: Server,
) -> None:
    lab = server.lab

    async def main() -> None:
        async with TestClient(TestServer(build_app(lab, 0))) as client:
            status, order, _ = await _call(
                client, "POST", "/api/orders", json={"item": "gadget", "quantity": 3}
            )
            assert status == 201 and order["item"] == "gadget" and order["quantity"] == 3
            status, read, _ = await _call(client, "GET", f"/api/orders/{order['id']}")
            assert status == 200 and read == order
            status, _, _ = await _call(client, "GET", "/api/orders/999999")
            assert status == 404

            took = await asyncio.to_thread(server.stop)
            assert took < 5, f"a SIGTERM must be a fast shutdown, took {took:.1f}s"
            status, body, took = await _call(client, "POST", "/api/orders", json={})
            assert status == 503 and "cannot connect" in body["detail"] and took < 1.0

            await asyncio.to_thread(server.start)
            # The pooled connections died with the server: replaced, not failed.
            for _ in range(5):
                status, body, _ = await _call(client, "GET", f"/api/orders/{order['id']}")
                assert status == 200, body
            metrics = await (await client.get("/metrics")).text()
            assert _metric(metrics, "postgres_connection_errors_total") == 1

    asyncio.run(asyncio.wait_for(main(), timeout=90))


@needs_server
def test_the_holder_takes_every_client_slot_and_lets_go(server: Server) -> None:
    lab = server.lab

    async def main() -> None:
        holder = Holder(lab)
        await holder.fill("order-1", None)
        holder.report()
        status = postgres.read_status(lab)
        assert status is not None and status["state"] == "holding"
        in_use = await asyncio.to_thread(
            postgres.admin_sql,
            lab,
            "SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend'",
        )
        # Every slot but the superusers' 3 is taken (the admin session uses a reserved one).
        assert status["held"] == postgres.MAX_CONNECTIONS - postgres.RESERVED_CONNECTIONS
        assert in_use[0][0]["n"] == status["held"] + 1
        async with TestClient(TestServer(build_app(lab, 0))) as client:
            status_code, body, _ = await _call(client, "POST", "/api/orders", json={})
            assert status_code == 503 and "TooManyConnectionsError" in body["detail"], body
            await holder.release()
            holder.report()
            status_code, body, _ = await _call(client, "POST", "/api/orders", json={})
            assert status_code == 201, body
        assert postgres.read_status(lab)["state"] == "idle"  # type: ignore[index]

    asyncio.run(asyncio.wait_for(main(), timeout=60))


@needs_server
def test_the_holder_does_not_reopen_sessions_an_operator_terminates(server: Server) -> None:
    lab = server.lab

    async def main() -> None:
        holder = Holder(lab)
        await holder.fill("order-2", 4)
        assert len(holder.held) == 4
        await asyncio.to_thread(
            postgres.admin_sql,
            lab,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'batch_job'",
        )
        for _ in range(50):
            holder.report()
            if not holder.held:
                break
            await asyncio.sleep(0.1)
        assert postgres.read_status(lab)["held"] == 0  # type: ignore[index]
        await holder.release()

    asyncio.run(asyncio.wait_for(main(), timeout=30))
