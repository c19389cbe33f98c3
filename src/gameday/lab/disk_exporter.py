"""The disk part's exporter: node exporter on the real lab disk, or the simulation.

Reads what the disk part's `prepare` set up (`run/disk.json`). On a real tmpfs it
becomes Prometheus' node exporter (exec: the supervisor manages node exporter itself).
When the lab could not mount one, it serves the simulated disk's figures under node
exporter's names, every series labelled `simulated="true"`, plus `lab_disk_simulated 1`.

Run as ``python -m gameday.lab.disk_exporter --lab-config LAB.json``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gameday.lab.config import HOST, LabConfig
from gameday.lab.extras.disk import (
    DEVICE,
    NODE_EXPORTER,
    DiskState,
    node_exporter_command,
    read_state,
    usage,
)

logger = logging.getLogger("gameday.lab.disk_exporter")
LABELS = ("device", "fstype", "mountpoint", "simulated")


class SimulatedDiskCollector(Collector):
    """node_filesystem_* for the simulated lab disk: a fixed quota, usage from its files."""

    def __init__(self, state: DiskState) -> None:
        self._state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        current = usage(self._state)
        values = [DEVICE, "simulated", self._state.path, "true"]

        def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
            family = GaugeMetricFamily(name, documentation, labels=LABELS)
            family.add_metric(values, value)
            return family

        yield gauge("node_filesystem_size_bytes", "Filesystem size in bytes.", current.size)
        yield gauge("node_filesystem_free_bytes", "Filesystem free space in bytes.", current.free)
        yield gauge(
            "node_filesystem_avail_bytes",
            "Filesystem space available to non-root users in bytes.",
            current.avail,
        )
        yield gauge("node_filesystem_readonly", "Filesystem read-only status.", 0)
        yield gauge("node_filesystem_device_error", "Whether an error occurred.", 0)
        simulated = GaugeMetricFamily(
            "lab_disk_simulated",
            "1: the lab disk is a plain directory with a simulated quota, not a filesystem",
        )
        simulated.add_metric([], 1)
        yield simulated


def serve_simulated(state: DiskState, port: int) -> None:
    """Serve the simulated disk's metrics on 127.0.0.1:port until killed."""
    registry = CollectorRegistry()
    registry.register(SimulatedDiskCollector(state))
    start_http_server(port, addr=HOST, registry=registry)
    logger.info("simulated lab disk %s (%s) on %s:%d", state.path, state.reason, HOST, port)
    threading.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="gameday lab disk exporter")
    parser.add_argument("--lab-config", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    config = LabConfig.load(args.lab_config)
    state = read_state(config)
    if state is None:
        print(
            "the disk part is not prepared (no run/disk.json): start it with "
            "`gameday lab start disk`",
            file=sys.stderr,
        )
        raise SystemExit(2)
    if not state.simulated:
        command = node_exporter_command(config)
        os.execvp(NODE_EXPORTER, command)
    serve_simulated(state, config.ports.node_exporter)


if __name__ == "__main__":
    main()
