"""The queue part without a lab: its processes, scrape jobs and broker configuration,
the exporter's reading of nats-server's monitoring JSON (and of a broker that does not
answer), the producer's bounded rate, and, with a real nats-server when the machine
has one, the producer and consumer living through a broker restart."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import APIError
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gameday.errors import LabError
from gameday.lab import queue_stream
from gameday.lab.config import LabConfig, LabPorts
from gameday.lab.extras import queue
from gameday.lab.extras.registry import EXTRAS
from gameday.lab.extras.runtime import extra_parts
from gameday.lab.queue_consumer import ConsumerMetrics, consume
from gameday.lab.queue_exporter import NatsCollector
from gameday.lab.queue_producer import ProducerMetrics, Ticker, error_reason, produce

VARZ = {
    "server_id": "NABC",
    "server_name": "lab-nats",
    "connections": 2,
    "subscriptions": 55,
    "slow_consumers": 0,
    "in_msgs": 1940,
    "out_msgs": 1939,
    "mem": 16412672,
    "cpu": 3.0,
}
JSZ = {
    "streams": 1,
    "consumers": 1,
    "messages": 251,
    "bytes": 10291,
    "account_details": [
        {
            "name": "$G",
            "id": "$G",
            "stream_detail": [
                {
                    "name": "EVENTS",
                    "state": {
                        "messages": 251,
                        "bytes": 10291,
                        "first_seq": 649,
                        "last_seq": 899,
                        "consumer_count": 1,
                    },
                    "consumer_detail": [
                        {
                            "stream_name": "EVENTS",
                            "name": "lab-workers",
                            "delivered": {"consumer_seq": 649, "stream_seq": 649},
                            "ack_floor": {"consumer_seq": 648, "stream_seq": 648},
                            "num_ack_pending": 1,
                            "num_redelivered": 0,
                            "num_waiting": 0,
                            "num_pending": 250,
                        }
                    ],
                }
            ],
        }
    ],
}


def lab_at(directory: Path, base: int = 34100, **ports: int) -> LabConfig:
    config = LabConfig(directory=directory, ports=LabPorts.from_base(base, ports))
    config.save()
    return config


def samples(registry: CollectorRegistry) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = generate_latest(registry).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


class FakeMonitor:
    """A requests session answering /varz and /jsz from fixed documents."""

    def __init__(self, documents: dict[str, Any] | None) -> None:
        self.documents = documents
        self.asked: list[str] = []

    def get(self, url: str, timeout: float) -> requests.Response:
        self.asked.append(url)
        if self.documents is None:
            raise requests.ConnectionError("refused")
        reply = requests.Response()
        reply.status_code = 200
        reply._content = json.dumps(self.documents[urlsplit(url).path]).encode()
        return reply


def collected(session: FakeMonitor) -> CollectorRegistry:
    registry = CollectorRegistry()
    collector = NatsCollector("http://127.0.0.1:8222", session=session)  # type: ignore[arg-type]
    registry.register(collector)
    return registry


# --- the part -------------------------------------------------------------------------


def test_the_queue_part_is_registered_with_its_groups_in_start_order(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    extra = EXTRAS["queue"]
    assert extra is queue.EXTRA
    groups = [part.name for part in extra.parts(config)]
    assert groups == ["nats", "queue-exporter", "queue-producer", "queue-consumer"]
    # Configured at every `lab up`, started on demand only.
    mine = [part for part in extra_parts(config) if part.name in groups]
    assert all(not program.autostart for part in mine for program in part.programs)


def test_every_process_binds_to_the_lab_ports_on_localhost(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    programs = {p.name: p for part in queue.parts(config) for p in part.programs}
    assert programs["nats"].command == ["nats-server", "-c", str(queue.conf_file(config))]
    for name in ("queue-exporter", "queue-producer", "queue-consumer"):
        command = programs[name].command
        assert command[1:3] == ["-m", f"gameday.lab.{name.replace('-', '_')}"]
        assert command[3:5] == ["--lab-config", str(config.config_file)]
    assert programs["queue-producer"].command[-2:] == ["--rate", "25"]
    conf = queue.nats_conf(config)
    assert f"listen: 127.0.0.1:{config.ports.nats}" in conf
    assert f"http: 127.0.0.1:{config.ports.nats_monitor}" in conf
    assert f'store_dir: "{tmp_path / "data" / "nats"}"' in conf


def test_scrape_jobs_name_the_exporter_producer_and_consumer(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    jobs = {job.name: job for job in queue.scrape_jobs(config)}
    assert sorted(jobs) == ["nats", "queue-consumer", "queue-producer"]
    assert jobs["nats"].targets[0].address == f"127.0.0.1:{config.ports.queue_exporter}"
    assert jobs["queue-producer"].targets[0].port == config.ports.queue_producer
    assert jobs["queue-consumer"].targets[0].labels == {"deployment": "queue-consumer"}


def test_prepare_writes_the_broker_config_and_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = lab_at(tmp_path)
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/sbin/{name}")
    queue.prepare(config)
    queue.prepare(config)  # idempotent
    assert queue.conf_file(config).read_text() == queue.nats_conf(config)
    assert queue.store_dir(config).is_dir()


def test_prepare_without_nats_server_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(LabError) as caught:
        queue.prepare(lab_at(tmp_path))
    assert "nats-server" in caught.value.message
    assert caught.value.hint is not None and "apt-get install" in caught.value.hint


# --- the exporter ---------------------------------------------------------------------


def test_the_exporter_reads_varz_and_jsz_under_the_community_names() -> None:
    session = FakeMonitor({"/varz": VARZ, "/jsz": JSZ})
    found = samples(collected(session))
    consumer = frozenset(
        {
            "server_name": "lab-nats",
            "account": "$G",
            "stream_name": "EVENTS",
            "consumer_name": "lab-workers",
        }.items()
    )
    stream = frozenset(
        {"server_name": "lab-nats", "account": "$G", "stream_name": "EVENTS"}.items()
    )
    server = frozenset({"server_name": "lab-nats"}.items())
    assert found[("nats_up", frozenset())] == 1
    assert found[("jetstream_consumer_num_pending", consumer)] == 250
    assert found[("jetstream_consumer_num_ack_pending", consumer)] == 1
    assert found[("jetstream_consumer_delivered_stream_seq", consumer)] == 649
    assert found[("jetstream_consumer_ack_floor_stream_seq", consumer)] == 648
    assert found[("jetstream_stream_total_messages", stream)] == 251
    assert found[("jetstream_stream_last_seq", stream)] == 899
    assert found[("jetstream_server_total_streams", server)] == 1
    assert found[("gnatsd_varz_in_msgs", server)] == 1940
    assert found[("gnatsd_varz_connections", server)] == 2
    assert any(url.endswith("/jsz?consumers=true") for url in session.asked)


def test_a_broker_that_does_not_answer_is_nats_up_0_and_nothing_else() -> None:
    found = samples(collected(FakeMonitor(None)))
    assert found == {("nats_up", frozenset()): 0.0}


def test_a_broker_without_streams_exports_no_stream_series() -> None:
    found = samples(collected(FakeMonitor({"/varz": VARZ, "/jsz": {"streams": 0}})))
    assert found[("nats_up", frozenset())] == 1
    assert not [name for name, _ in found if name.startswith("jetstream_consumer")]


# --- the producer ---------------------------------------------------------------------


def test_the_ticker_never_bursts_after_a_stall() -> None:
    ticker = Ticker(rate=25, now=100.0)
    assert ticker.delay(100.0) == pytest.approx(0.04)
    # A 2 s stall (a slow ack): the next tick is now, not 50 ticks at once.
    assert ticker.delay(102.0) == 0
    assert ticker.delay(102.0) == pytest.approx(0.04)


def test_publish_errors_have_a_bounded_reason() -> None:
    assert error_reason(NoRespondersError()) == "no_responders"
    assert error_reason(NatsTimeoutError()) == "timeout"
    assert error_reason(TimeoutError()) == "timeout"
    assert error_reason(APIError(code=503)) == "api"
    assert error_reason(OSError("refused")) == "disconnected"


def test_the_stream_is_a_bounded_work_queue_on_disk() -> None:
    config = queue_stream.stream_config()
    assert config.name == "EVENTS" and config.subjects == ["events.>"]
    assert config.retention == "workqueue" and config.storage == "file"
    assert config.max_msgs == queue_stream.MAX_MESSAGES and config.max_age == 600


# --- with a real broker ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:g}s")
        await asyncio.sleep(0.05)


@pytest.mark.skipif(shutil.which("nats-server") is None, reason="needs nats-server")
def test_producer_and_consumer_live_through_a_broker_restart(tmp_path: Path) -> None:
    config = lab_at(tmp_path, nats=free_port(), nats_monitor=free_port())
    queue.prepare(config)
    produced, consumed = ProducerMetrics(), ConsumerMetrics()

    def value(metrics: ProducerMetrics | ConsumerMetrics, name: str, **labels: str) -> float:
        return metrics.registry.get_sample_value(name, labels) or 0.0

    def stop_broker() -> subprocess.Popen[bytes]:
        process = running.pop()
        process.terminate()
        process.wait(timeout=10)
        return process

    def start_broker() -> None:
        process = subprocess.Popen(
            ["nats-server", "-c", str(queue.conf_file(config))],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        running.append(process)

    async def scenario() -> None:
        tasks = [
            asyncio.create_task(produce(config, 50, produced)),
            asyncio.create_task(consume(config, 50, 0.0, consumed)),
        ]
        try:
            # The clients start before the broker: they wait for it.
            await asyncio.sleep(0.5)
            start_broker()
            await until(
                lambda: value(consumed, "queue_consumer_processed_total") >= 20, 15, "first work"
            )
            stop_broker()
            await until(
                lambda: (
                    value(produced, "queue_producer_publish_errors_total", reason="disconnected")
                    >= 5
                ),
                10,
                "publish errors while the broker is down",
            )
            assert value(produced, "queue_producer_connected") == 0
            start_broker()
            before = value(produced, "queue_producer_published_total")
            await until(
                lambda: value(produced, "queue_producer_published_total") >= before + 20,
                15,
                "publishing again after the restart",
            )
            published = value(produced, "queue_producer_published_total")
            await until(
                lambda: value(consumed, "queue_consumer_processed_total") >= published,
                15,
                "the consumer catching up after the restart",
            )
            assert value(consumed, "queue_consumer_connected") == 1
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    running: list[subprocess.Popen[bytes]] = []
    try:
        asyncio.run(scenario())
    finally:
        for process in running:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize(
    ("module", "arguments", "said"),
    [
        ("gameday.lab.queue_producer", ["--rate", "0"], "--rate 0 is out of range"),
        ("gameday.lab.queue_consumer", ["--batch", "0"], "--batch 0 is out of range"),
    ],
)
def test_a_client_refuses_a_setting_out_of_range_with_exit_2(
    tmp_path: Path, module: str, arguments: list[str], said: str
) -> None:
    config = lab_at(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", module, "--lab-config", str(config.config_file), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert said in done.stderr and "choose" in done.stderr
