"""A Prometheus of gameday's own for Locust's client-side figures, on a system that is not
the lab: the system's Prometheus does not scrape gameday's Locust, so the client-side SLO
objectives (the same PromQL as on the lab) are evaluated here instead.

It is Debian's `prometheus` binary on 127.0.0.1 with a 1 s scrape of the Locust
exporter, its data in the load's work directory; started and stopped with the load, by
PID, and told by the kernel to stop if gameday dies first (parent-death signal).
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

from gameday.errors import EnvironmentProblem

READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _libc_prctl() -> Callable[..., int] | None:
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the load's own stop still stops it
        return None
    return prctl


# Looked up once, in the parent: the child between fork and exec only makes the call
# (no library loading there, which could wait on a lock another thread held).
_PRCTL = _libc_prctl()


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the process that started it dies."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ClientMonitor:
    """:param workdir: where its configuration, data and log go
    :param locust_metrics_port: the Locust exporter to scrape (127.0.0.1)"""

    workdir: Path
    locust_metrics_port: int
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            raise EnvironmentProblem(
                "client-side SLOs on this target need the prometheus binary to keep Locust's "
                "figures",
                hint="apt-get install prometheus, or judge SLOs with source: server",
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "client-prometheus.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "scrape_configs": [
                        {
                            "job_name": "locust",
                            "static_configs": [
                                {"targets": [f"127.0.0.1:{self.locust_metrics_port}"]}
                            ],
                        }
                    ],
                }
            )
        )
        log = (self.workdir / "client-prometheus.log").open("ab")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.workdir / 'client-prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # only prctl before exec: safe with threads
        )
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(f"{self.url}/-/ready", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise EnvironmentProblem(
            f"gameday's client-side Prometheus did not start on 127.0.0.1:{self.port}",
            hint=f"see {self.workdir / 'client-prometheus.log'}",
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
