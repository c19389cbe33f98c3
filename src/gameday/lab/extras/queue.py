"""The opt-in `queue` part: a NATS JetStream broker with a producer, a consumer and an
exporter, for the consumer-lag (backlog) and broker-down failure modes.

Processes (supervisor groups, started in this order):

- ``nats``: Debian's ``nats-server`` with JetStream, its store under the lab's data
  directory, clients on ``ports.nats``, monitoring on ``ports.nats_monitor``;
- ``queue-exporter``: `gameday.lab.queue_exporter` (``nats_up`` and the community
  exporter's ``jetstream_*`` names), scraped as job ``nats``;
- ``queue-producer``: `gameday.lab.queue_producer`, 25 messages a second to stream
  ``EVENTS``, which it creates; scraped as job ``queue-producer``;
- ``queue-consumer``: `gameday.lab.queue_consumer`, the durable pull consumer
  ``lab-workers``; scraped as job ``queue-consumer``.

Faults reuse `gameday.chaos.lab.actions`: ``pause_service(service=queue-consumer)``
(backlog grows) and ``stop_service(service=nats)`` (broker down).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from gameday.errors import LabError
from gameday.lab.config import HOST, LabConfig
from gameday.lab.extras.base import Extra, ScrapeJob, ScrapeTarget
from gameday.lab.parts import APT
from gameday.lab.supervisor import Part, Program

NATS_BINARY = "nats-server"
PRODUCER_RATE = 25.0
# JetStream's own ceilings: the defaults are 75 % of the machine's memory and disk.
MAX_MEMORY_STORE = "64MB"
MAX_FILE_STORE = "256MB"


def store_dir(config: LabConfig) -> Path:
    return config.data / "nats"


def conf_file(config: LabConfig) -> Path:
    return config.directory / "config" / "nats.conf"


def nats_conf(config: LabConfig) -> str:
    """nats-server's configuration: 127.0.0.1 only, JetStream on disk in the lab."""
    ports = config.ports
    return "\n".join(
        [
            "# Written by gameday at each start of the queue part.",
            "server_name: lab-nats",
            f"listen: {HOST}:{ports.nats}",
            f"http: {HOST}:{ports.nats_monitor}",
            "jetstream {",
            f'  store_dir: "{store_dir(config)}"',
            f"  max_memory_store: {MAX_MEMORY_STORE}",
            f"  max_file_store: {MAX_FILE_STORE}",
            "}",
            "",
        ]
    )


OWN_HINT = "reinstall gameday (it needs nats-py: pip install nats-py)"


def _python(module: str, config: LabConfig, *args: str) -> list[str]:
    return [sys.executable, "-m", module, "--lab-config", str(config.config_file), *args]


def parts(config: LabConfig) -> list[Part]:
    ports = config.ports
    return [
        Part(
            name="nats",
            binary=NATS_BINARY,
            install_hint=f"{APT} nats-server",
            programs=(
                Program(
                    name="nats",
                    command=[NATS_BINARY, "-c", str(conf_file(config))],
                    address=f"{HOST}:{ports.nats} (monitoring {HOST}:{ports.nats_monitor})",
                    priority=200,
                    stop_wait_s=5,
                ),
            ),
        ),
        _python_part("queue-exporter", config, ports.queue_exporter, priority=300),
        _python_part(
            "queue-producer", config, ports.queue_producer, "--rate", f"{PRODUCER_RATE:g}"
        ),
        _python_part("queue-consumer", config, ports.queue_consumer),
    ]


def _python_part(name: str, config: LabConfig, port: int, *args: str, priority: int = 400) -> Part:
    """One of the part's own Python programs (`gameday.lab.queue_<role>`), one replica."""
    module = "gameday.lab." + name.replace("-", "_")
    return Part(
        name=name,
        binary=sys.executable,
        install_hint=OWN_HINT,
        programs=(
            Program(
                name=name,
                command=_python(module, config, *args),
                address=f"{HOST}:{port}",
                priority=priority,
                stop_wait_s=5,
            ),
        ),
    )


def scrape_jobs(config: LabConfig) -> list[ScrapeJob]:
    ports = config.ports
    return [
        ScrapeJob("nats", (ScrapeTarget(ports.queue_exporter, {"deployment": "nats"}),)),
        ScrapeJob(
            "queue-producer",
            (ScrapeTarget(ports.queue_producer, {"deployment": "queue-producer"}),),
        ),
        ScrapeJob(
            "queue-consumer",
            (ScrapeTarget(ports.queue_consumer, {"deployment": "queue-consumer"}),),
        ),
    ]


def prepare(config: LabConfig) -> None:
    """The broker's configuration and store directory (kept across starts: JetStream
    keeps the stream and the durable consumer on disk, as in production)."""
    if shutil.which(NATS_BINARY) is None:
        raise LabError(
            f"binary {NATS_BINARY!r} not found on PATH",
            part="queue",
            hint=f"install it: {APT} nats-server",
        )
    try:
        import nats  # noqa: F401  (the producer's and consumer's client)
    except ModuleNotFoundError:
        raise LabError(
            "the Python package nats-py is not installed",
            part="queue",
            hint=f"install it: {sys.executable} -m pip install nats-py",
        ) from None
    store_dir(config).mkdir(parents=True, exist_ok=True)
    path = conf_file(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nats_conf(config))


EXTRA = Extra(
    name="queue",
    summary="NATS JetStream broker with a producer, a durable pull consumer and an exporter",
    parts=parts,
    scrape_jobs=scrape_jobs,
    prepare=prepare,
    binaries={NATS_BINARY: "nats-server"},
)
