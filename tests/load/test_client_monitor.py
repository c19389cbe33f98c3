"""gameday's own Prometheus for Locust's client-side figures on a non-lab target: it
answers, stops with the load, and does not outlive a gameday that is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import requests

from gameday.load.client_monitor import ClientMonitor, free_port


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_it_answers_and_stops(tmp_path: Path) -> None:
    monitor = ClientMonitor(workdir=tmp_path, locust_metrics_port=free_port())
    monitor.start()
    try:
        assert monitor.process is not None
        pid = monitor.process.pid
        assert requests.get(f"{monitor.url}/-/ready", timeout=3).ok
        config = (tmp_path / "client-prometheus.yml").read_text()
        assert f"127.0.0.1:{monitor.locust_metrics_port}" in config
    finally:
        monitor.stop()
    assert not _alive(pid)


def test_it_does_not_outlive_a_killed_gameday(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from gameday.load.client_monitor import ClientMonitor, free_port
        monitor = ClientMonitor(workdir=Path({str(tmp_path)!r}), locust_metrics_port=free_port())
        monitor.start()
        print(monitor.process.pid, flush=True)
        time.sleep(120)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 15
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(child), "the client Prometheus outlived its parent"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()
