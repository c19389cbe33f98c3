"""Locust headless as a supervised subprocess: start, wait until it serves metrics, stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from gameday.errors import EnvironmentProblem
from gameday.model import LoadSummary

EXPORTER = Path(__file__).with_name("locust_exporter.py")
WATCHDOG = Path(__file__).with_name("locust_watchdog.py")
PARENT_ENV = "GAMEDAY_PARENT_PID"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True, kw_only=True)
class LoadProfile:
    """What load to hold.

    :param locustfile: any standard locustfile
    :param host: base URL the users target
    :param users: concurrent simulated users
    :param spawn_rate: users started per second
    :param run_time_s: hard limit; Locust stops by itself after it, whatever happens
    :param export_metrics: export client-side figures to Prometheus
    """

    locustfile: Path
    host: str
    users: int = 10
    spawn_rate: float = 10.0
    run_time_s: int = 900
    export_metrics: bool = True


class LocustProcess:
    """One headless Locust run, in its own session so a terminal's Ctrl-C reaches
    gameday first and the load stops only after the rollbacks."""

    def __init__(self, *, profile: LoadProfile, metrics_port: int, workdir: Path) -> None:
        self.profile = profile
        self.metrics_port = metrics_port
        self.workdir = workdir
        self.log_path = workdir / "locust.log"
        self.stats_path = workdir / "locust-stats.json"
        self._process: subprocess.Popen[bytes] | None = None
        self.started_at: float | None = None

    def command(self) -> list[str]:
        files = f"{self.profile.locustfile},{WATCHDOG}"
        if self.profile.export_metrics:
            files += f",{EXPORTER}"
        return [
            sys.executable,
            "-m",
            "locust",
            "-f",
            files,
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

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env[PARENT_ENV] = str(os.getpid())  # Locust stops by itself if gameday dies
        if self.profile.export_metrics:
            env["GAMEDAY_LOAD_METRICS_PORT"] = str(self.metrics_port)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        self.started_at = time.monotonic()
        if self.profile.export_metrics:
            self._wait_for_metrics()

    def _wait_for_metrics(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise EnvironmentProblem(
                    f"locust exited with code {self._process.returncode}: {self.log_tail()}",
                    hint=f"see {self.log_path}",
                )
            try:
                if requests.get(url, timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise EnvironmentProblem(
            f"locust did not serve metrics on 127.0.0.1:{self.metrics_port} in time",
            hint=f"see {self.log_path}",
        )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def stop(self) -> LoadSummary | None:
        """Stop Locust (SIGTERM, then SIGKILL) and return its final figures."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        elapsed = time.monotonic() - (self.started_at or time.monotonic())
        return summarise(self.stats_path, self.profile.users, elapsed)

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return " | ".join(text[-lines:])


def _percentile(response_times: dict[str, int], fraction: float) -> float | None:
    total = sum(response_times.values())
    if total == 0:
        return None
    threshold = fraction * total
    seen = 0
    for value, count in sorted(((float(k), v) for k, v in response_times.items())):
        seen += count
        if seen >= threshold:
            return value
    return None


def summarise(stats_path: Path, users: int, elapsed_s: float) -> LoadSummary | None:
    """Locust's --json-file stats (one entry per endpoint) reduced to the run's totals."""
    try:
        entries: list[dict[str, Any]] = json.loads(stats_path.read_text())
    except (OSError, ValueError):
        return None
    merged: dict[str, int] = {}
    for entry in entries:
        for value, count in entry.get("response_times", {}).items():
            merged[value] = merged.get(value, 0) + int(count)
    requests_total = sum(int(e.get("num_requests", 0)) for e in entries)
    failures = sum(int(e.get("num_failures", 0)) for e in entries)
    starts = [e["start_time"] for e in entries if e.get("start_time")]
    ends = [e["last_request_timestamp"] for e in entries if e.get("last_request_timestamp")]
    span = (max(ends) - min(starts)) if starts and ends else elapsed_s
    return LoadSummary(
        requests=requests_total,
        failures=failures,
        requests_per_s=round(requests_total / span, 1) if span > 0 else 0.0,
        p50_ms=_percentile(merged, 0.5),
        p95_ms=_percentile(merged, 0.95),
        users=users,
    )
