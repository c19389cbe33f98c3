"""Ctrl-C in the middle of a fault: start `gameday run`, wait until the fault shows on the
system, send SIGINT, and give back the exit code and the output."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path


def interrupt_mid_fault(
    arguments: list[str],
    *,
    applied: Callable[[], bool],
    env: Mapping[str, str],
    cwd: Path | None = None,
    timeout_s: float = 60,
) -> tuple[int, str]:
    """Run `python -m gameday.cli ARGUMENTS`; SIGINT one second after `applied()` holds."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gameday.cli", *arguments],
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + timeout_s
        while not applied():
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError("the fault was never applied")
            time.sleep(0.2)
        time.sleep(1)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, output
