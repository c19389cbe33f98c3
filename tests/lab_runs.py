"""Running `gameday` against the test lab from tests: the command, its results, and the
checks that the lab is healthy again afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gameday.lab.config import LabConfig
from gameday.lab.processes import alive
from gameday.lab.supervisor import SupervisorClient
from gameday.targets import fault_ledger

REPO = Path(__file__).resolve().parents[1]


def gameday_env(lab: LabConfig) -> dict[str, str]:
    return dict(os.environ, GAMEDAY_LAB_DIR=str(lab.directory))


def run_gameday(lab: LabConfig, *args: str, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameday.cli", *args],
        cwd=REPO,
        env=gameday_env(lab),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def result_of(report_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((report_dir / "result.json").read_text())
    return document


def assert_lab_healthy(lab: LabConfig) -> None:
    supervisor = SupervisorClient(lab.supervisor_url)
    states = {info["name"]: info["statename"] for info in supervisor.processes()}
    assert all(state == "RUNNING" for state in states.values()), states
    assert fault_ledger(lab).entries() == []


def run_until_fault(
    lab: LabConfig, experiment: str, report_dir: Path
) -> tuple[subprocess.Popen[str], list[str]]:
    """Start `gameday run` on a shipped experiment and return once its progress says the
    fault is applied (within 60 s), with the progress lines seen so far."""
    command = ["run", f"experiments/{experiment}.yaml", "--report-dir", str(report_dir)]
    process = subprocess.Popen(
        [sys.executable, "-m", "gameday.cli", *command],
        cwd=REPO,
        env=gameday_env(lab),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    seen: list[str] = []
    for line in process.stderr:
        seen.append(line)
        if "FAULT" in line or time.monotonic() > deadline:
            break
    if not seen or "FAULT" not in seen[-1]:
        process.kill()
        raise AssertionError("the fault was not applied: " + "".join(seen))
    return process, seen


def interrupt_during_fault(
    lab: LabConfig,
    experiment: str,
    report_dir: Path,
    signum: signal.Signals,
    check_fault: Callable[[], None],
) -> dict[str, Any]:
    """Run an experiment, signal it once its fault is applied, and check the common
    promises of an interrupt: exit 130, the fault reverted, Locust gone."""
    process, seen = run_until_fault(lab, experiment, report_dir)
    try:
        check_fault()
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, out + err
    result = result_of(report_dir)
    kinds = [event["kind"] for event in result["timeline"]]
    assert "interrupted" in kinds and "fault_reverted" in kinds, "".join(seen) + err
    load_pid = next(e["data"]["pid"] for e in result["timeline"] if e["kind"] == "load_started")
    assert not alive(load_pid), "locust still runs after the interrupt"
    # As recorded (result.json sorts by time): every event was on disk as it happened.
    logged = Counter(json.loads(line)["kind"] for line in (report_dir / "events.jsonl").open())
    assert logged <= Counter(kinds) and logged["fault_applied"] == 1
    return result
