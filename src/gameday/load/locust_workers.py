"""Locust's own distributed mode on this machine: N worker processes for the master that
`LocustProcess` starts, and how every Locust process of gameday's is started and stopped.

Each process runs in its own session (a terminal's Ctrl-C reaches gameday first) and
watches gameday's PID (the watchdog plugin), so none outlives gameday. Workers connect
to the master on 127.0.0.1; they run the same locustfiles, serve no metrics (their
figures reach Prometheus through the master) and ignore --run-time (the master's).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from gameday.errors import InvalidInputError

MAX_WORKERS = 64
MASTER_HOST = "127.0.0.1"
QUIT_GRACE_S = 5.0


def spawn(command: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start one Locust process in its own session, its output appended to `log_path`."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )


def stop_process(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM (Locust's clean stop), then SIGKILL after `timeout_s`."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return " | ".join(text[-lines:]) or "nothing logged"


@dataclass(kw_only=True)
class LocustWorkers:
    """:param count: how many workers
    :param files: the -f value, the master's own (the same locustfiles and plugins)
    :param master_port: the port the master binds on 127.0.0.1
    :param workdir: where their logs go (`locust-worker-1.log`, …)
    """

    count: int
    files: str
    master_port: int
    workdir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list, init=False)

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "locust",
            "-f",
            self.files,
            "--worker",
            "--master-host",
            MASTER_HOST,
            "--master-port",
            str(self.master_port),
            "--loglevel",
            "WARNING",
        ]

    @property
    def log_paths(self) -> list[Path]:
        return [self.workdir / f"locust-worker-{i}.log" for i in range(1, self.count + 1)]

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def start(self, env: dict[str, str]) -> None:
        for path in self.log_paths:
            self.processes.append(spawn(self.command(), path, env))

    def exited(self) -> list[tuple[Path, int]]:
        """The log and exit code of each worker that is no longer running."""
        return [
            (path, code)
            for path, process in zip(self.log_paths, self.processes, strict=False)
            if (code := process.poll()) is not None
        ]

    def stop(self, timeout_s: float, *, grace_s: float = QUIT_GRACE_S) -> None:
        """After the master told them to quit: give them `grace_s` to do so, then
        SIGTERM each by PID, then SIGKILL after `timeout_s`."""
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and any(p.poll() is None for p in self.processes):
            time.sleep(0.1)
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for process in self.processes:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def parse_workers(value: object, *, where: str = "controls.load.provider.arguments.workers") -> int:
    """`workers` as given: a whole number from 0 to MAX_WORKERS (InvalidInputError, exit 2)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WORKERS:
        raise InvalidInputError(
            f"workers must be a whole number from 0 to {MAX_WORKERS}, not {value!r}",
            where=where,
            hint="0 runs one Locust process; N runs a Locust master and N worker processes",
        )
    return value
