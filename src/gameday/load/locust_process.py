"""Locust headless as supervised subprocesses: one process, or a master and N workers
(Locust's own distributed mode: worker processes on this machine, or worker pods in a
cluster, `cluster_workers`); start, wait until it serves metrics (and every worker
connected), stop."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import requests
from prometheus_client.parser import text_string_to_metric_families

from gameday.errors import EnvironmentProblem
from gameday.load.client_monitor import free_port
from gameday.load.locust_summary import summarise
from gameday.load.locust_workers import (
    MASTER_HOST,
    QUIT_GRACE_S,
    LocustWorkers,
    log_tail,
    spawn,
    stop_process,
)
from gameday.model import LoadSummary

EXPORTER = Path(__file__).with_name("locust_exporter.py")
WATCHDOG = Path(__file__).with_name("locust_watchdog.py")
PARENT_ENV = "GAMEDAY_PARENT_PID"
METRICS_PORT_ENV = "GAMEDAY_LOAD_METRICS_PORT"
WORKERS_GAUGE = "locust_workers_connected"
RUNNING_GAUGE = "locust_running"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True, kw_only=True)
class LoadProfile:
    """What load to hold.

    :param locustfile: any standard locustfile
    :param host: base URL the users target
    :param users: concurrent simulated users (all workers together)
    :param spawn_rate: users started per second
    :param run_time_s: hard limit; Locust stops by itself after it, whatever happens
    :param export_metrics: export client-side figures to Prometheus
    :param workers: 0: one Locust process; N: a master and N worker processes (the
        master always serves its metrics: gameday reads the connected workers there)
    """

    locustfile: Path
    host: str
    users: int = 10
    spawn_rate: float = 10.0
    run_time_s: int = 900
    export_metrics: bool = True
    workers: int = 0


class Workers(Protocol):
    """What the master needs of its workers: `LocalWorkers` (processes on this machine) or
    `cluster_workers.ClusterWorkers` (pods in the target's cluster)."""

    @property
    def count(self) -> int: ...

    @property
    def master_port(self) -> int: ...

    @property
    def bind_host(self) -> str:
        """The address the master binds for them (`--master-bind-host`)."""
        ...

    @property
    def log_paths(self) -> list[Path]: ...

    @property
    def pids(self) -> list[int]:
        """Their processes on this machine (none for pods)."""
        ...

    def start(self, env: dict[str, str]) -> None: ...

    def exited(self) -> Sequence[tuple[Path, int | None]]:
        """The log (or description) and exit code, when known, of each that stopped."""
        ...

    def describe(self) -> str:
        """Where they run, for a message about workers that did not connect ("": here)."""
        ...

    def stop(self, timeout_s: float, *, grace_s: float = QUIT_GRACE_S) -> None: ...


class LocalWorkers(LocustWorkers):
    """`LocustWorkers` as `Workers`: processes on this machine, the master on 127.0.0.1."""

    @property
    def bind_host(self) -> str:
        return MASTER_HOST

    def describe(self) -> str:
        return ""


class LocustProcess:
    """One headless Locust run, in its own session so a terminal's Ctrl-C reaches
    gameday first and the load stops only after the rollbacks. With `workers`, that
    process is the master (users, spawn rate, run time, final figures) and the workers
    are started next to it (processes on this machine) or given (`workers`: pods in a cluster).

    :param profile: what load to hold
    :param metrics_port: where the exporter serves on 127.0.0.1 (the master's, with workers)
    :param workdir: logs (`locust.log`, `locust-worker-N.log`) and the final figures
    :param master_port: where the master listens for its workers (default: a free port)
    :param start_timeout_s: how long to wait for the metrics and every worker
    :param workers: the master's workers when not processes here (e.g. `ClusterWorkers`,
        whose master port and bind address the master takes); default: `profile.workers`
        worker processes on this machine
    """

    def __init__(
        self,
        *,
        profile: LoadProfile,
        metrics_port: int,
        workdir: Path,
        master_port: int | None = None,
        start_timeout_s: float = START_TIMEOUT_S,
        workers: Workers | None = None,
    ) -> None:
        self.profile = profile
        self.start_timeout_s = start_timeout_s
        self.metrics_port = metrics_port
        self.workdir = workdir
        self.log_path = workdir / "locust.log"
        self.stats_path = workdir / "locust-stats.json"
        self._process: subprocess.Popen[bytes] | None = None
        self.started_at: float | None = None
        self.workers: Workers | None = workers
        if workers is None and profile.workers > 0:
            self.workers = LocalWorkers(
                count=profile.workers,
                files=self.files(),
                master_port=master_port if master_port is not None else free_port(),
                workdir=workdir,
            )

    @property
    def serves_metrics(self) -> bool:
        return self.profile.export_metrics or self.profile.workers > 0

    def files(self) -> str:
        files = f"{self.profile.locustfile},{WATCHDOG}"
        return f"{files},{EXPORTER}" if self.serves_metrics else files

    def command(self) -> list[str]:
        """The single process' command line, or the master's."""
        command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            self.files(),
            "--headless",
            "--users",
            str(self.profile.users),
            "--spawn-rate",
            str(self.profile.spawn_rate),
            "--host",
            self.profile.host,
            "--run-time",
            f"{self.profile.run_time_s}s",
            "--stop-timeout",
            "2",
            "--only-summary",
            "--json-file",
            str(self.stats_path.with_suffix("")),
            "--loglevel",
            "WARNING",
        ]
        if self.workers is not None:
            command += [
                "--master",
                "--expect-workers",
                str(self.workers.count),
                "--master-bind-host",
                self.workers.bind_host,
                "--master-bind-port",
                str(self.workers.master_port),
            ]
        return command

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env[PARENT_ENV] = str(os.getpid())  # Locust stops by itself if gameday dies
        env.pop(METRICS_PORT_ENV, None)  # workers serve none
        master_env = dict(env)
        if self.serves_metrics:
            master_env[METRICS_PORT_ENV] = str(self.metrics_port)
        self._process = spawn(self.command(), self.log_path, master_env)
        self.started_at = time.monotonic()
        try:
            if self.workers is not None:
                self.workers.start(env)
            if self.serves_metrics:
                self._wait_until_ready()
        except BaseException:
            self._stop(quit_grace_s=0)  # no master told the workers anything: stop them now
            raise

    def _wait_until_ready(self) -> None:
        """Until the metrics are served and, with workers, every worker connected and the
        master started the test."""
        deadline = time.monotonic() + self.start_timeout_s
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        served: str | None = None
        while time.monotonic() < deadline:
            self._raise_if_exited()
            try:
                response = requests.get(url, timeout=1)
            except requests.RequestException:
                response = None
            if response is not None and response.ok:
                served = response.text
                if self._ready(served):
                    return
            time.sleep(0.2)
        raise EnvironmentProblem(
            self._not_ready(served), hint=f"see {', '.join(map(str, self.log_paths))}"
        )

    def _ready(self, metrics: str) -> bool:
        if self.workers is None:
            return True
        connected = _gauge(metrics, WORKERS_GAUGE) or 0.0
        # Running: the master saw them all and started the test; it handles SIGTERM now.
        return connected >= self.workers.count and bool(_gauge(metrics, RUNNING_GAUGE))

    def _not_ready(self, metrics: str | None) -> str:
        waited = f"in {self.start_timeout_s:g}s"
        if metrics is None or self.workers is None:
            return f"locust did not serve metrics on 127.0.0.1:{self.metrics_port} {waited}"
        connected = _gauge(metrics, WORKERS_GAUGE) or 0.0
        if connected < self.workers.count:
            where = self.workers.describe()
            return (
                f"{connected:g} of {self.workers.count} locust workers connected to the "
                f"master {waited}" + (f"; {where}" if where else "")
            )
        return f"the locust master did not start the test {waited}"

    def _raise_if_exited(self) -> None:
        if self._process is not None and self._process.poll() is not None:
            raise EnvironmentProblem(
                f"locust exited with code {self._process.returncode}: {self.log_tail()}",
                hint=f"see {self.log_path}",
            )
        exited = self.workers.exited() if self.workers is not None else []
        if exited:
            path, code = exited[0]
            how = f" with code {code}" if code is not None else ""
            raise EnvironmentProblem(
                f"a locust worker exited{how}: {log_tail(path)}",
                hint=f"see {path}",
            )

    @property
    def log_paths(self) -> list[Path]:
        """The master's (or single process') log, then each worker's."""
        return [self.log_path, *(self.workers.log_paths if self.workers is not None else [])]

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def pids(self) -> dict[str, int]:
        """Every Locust process started, by role: `locust`, `locust-worker-1`, …"""
        found = {"locust": self.pid} if self.pid is not None else {}
        if self.workers is not None:
            found |= {f"locust-worker-{i}": pid for i, pid in enumerate(self.workers.pids, 1)}
        return found

    def stop(self) -> LoadSummary | None:
        """Stop Locust and return its final figures: the master first (SIGTERM: it tells
        the workers to quit and writes the figures), then any worker still running."""
        return self._stop(quit_grace_s=QUIT_GRACE_S)

    def _stop(self, *, quit_grace_s: float) -> LoadSummary | None:
        process = self._process
        if process is not None:
            stop_process(process, STOP_TIMEOUT_S)
        if self.workers is not None:
            self.workers.stop(STOP_TIMEOUT_S, grace_s=quit_grace_s)
        if process is None:
            return None
        elapsed = time.monotonic() - (self.started_at or time.monotonic())
        return summarise(self.stats_path, self.profile.users, elapsed, workers=self.profile.workers)

    def log_tail(self, lines: int = 5) -> str:
        return log_tail(self.log_path, lines)


def _gauge(text: str, name: str) -> float | None:
    """A gauge's value in a Prometheus text exposition; None when absent or unreadable."""
    try:
        for family in text_string_to_metric_families(text):
            if family.name == name and family.samples:
                return float(family.samples[0].value)
    except ValueError:
        return None
    return None
