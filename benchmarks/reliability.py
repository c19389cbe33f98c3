"""Benchmark (not a test): does every way a run can end leave the system healthy?

Runs an experiment N times per signal and sends the signal at a random moment of the
run: SIGINT (Ctrl-C) and SIGTERM must roll back by themselves (exit 130); after
SIGKILL, `gameday recover` must put everything right. After each trial, and a settle
window, the system is healthy when every lab part runs, no fault is left in the
ledger, no load process is left and no alert fires.

Usage: .venv/bin/python benchmarks/reliability.py [--sigint N] [--sigterm N]
           [--sigkill N] [--experiment experiments/redis-down.yaml] [--settle-s 60]

Uses the lab in $GAMEDAY_LAB_DIR if one is up there, else starts one in a temporary
directory (base port 29800) and stops it at the end. Prints one line per trial and a
table per signal.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from gameday.lab import lifecycle
from gameday.lab.config import LabConfig, LabPorts, load_running_config, resolve_lab_dir
from gameday.lab.extras.runtime import expected_to_run
from gameday.lab.processes import alive
from gameday.lab.supervisor import SupervisorClient
from gameday.observe.prometheus import Prometheus
from gameday.targets import fault_ledger

REPO = Path(__file__).resolve().parents[1]
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}


def gameday(*args: str) -> list[str]:
    return [sys.executable, "-m", "gameday.cli", *args]


def environment(lab: LabConfig) -> dict[str, str]:
    return dict(os.environ, GAMEDAY_LAB_DIR=str(lab.directory))


def load_pids(report_dir: Path) -> list[int]:
    try:
        lines = (report_dir / "events.jsonl").read_text().splitlines()
    except OSError:
        return []
    events = [json.loads(line) for line in lines if line.strip().endswith("}")]
    return [e["data"]["pid"] for e in events if e["kind"] == "load_started"]


def problems(lab: LabConfig, report_dir: Path, settle_s: float) -> list[str]:
    """What is not healthy once the alerts had `settle_s` seconds to resolve."""
    found: list[str] = []
    states = {
        i["name"]: i["statename"]
        for i in SupervisorClient(lab.supervisor_url).processes()
        if expected_to_run(lab, i["group"])
    }
    found += [f"{name} {state}" for name, state in states.items() if state != "RUNNING"]
    found += [f"fault left: {entry['fault']}" for entry in fault_ledger(lab).entries()]
    found += [f"load pid {pid} alive" for pid in load_pids(report_dir) if alive(pid)]
    prometheus = Prometheus(lab.prometheus_url)
    deadline = time.monotonic() + settle_s
    firing = ["?"]
    while time.monotonic() < deadline:
        firing = sorted({a["alertname"] for a in prometheus.alerts() if a["state"] == "firing"})
        if not firing:
            break
        time.sleep(1)
    found += [f"{name} still firing" for name in firing]
    return found


def trial(
    lab: LabConfig, experiment: str, name: str, at_s: float, work: Path, settle_s: float
) -> tuple[bool, str]:
    report_dir = work / f"{name}-{time.monotonic_ns()}"
    process = subprocess.Popen(
        gameday("run", "-q", experiment, "--report-dir", str(report_dir)),
        cwd=REPO,
        env=environment(lab),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(at_s)
    ended_first = process.poll() is not None
    if not ended_first:
        process.send_signal(SIGNALS[name])
    try:
        code = process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        return False, "did not exit within 120s of the signal"
    note = f"exit {code}" + (" (ended before the signal)" if ended_first else "")
    if name == "SIGKILL":
        recovered = subprocess.run(
            gameday("recover"), env=environment(lab), capture_output=True, text=True
        )
        note += f", recover exit {recovered.returncode}"
        if recovered.returncode != 0:
            return False, note + f": {recovered.stderr.strip()}"
    elif code not in (0, 1, 130) and not ended_first:
        return False, note
    left = problems(lab, report_dir, settle_s)
    return not left, note + (f": {'; '.join(left)}" if left else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sigint", type=int, default=25)
    parser.add_argument("--sigterm", type=int, default=25)
    parser.add_argument("--sigkill", type=int, default=20)
    parser.add_argument("--experiment", default="experiments/redis-down.yaml")
    parser.add_argument("--window-s", type=float, default=30.0, help="signal within this")
    parser.add_argument("--settle-s", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    random.seed(arguments.seed)
    own: LabConfig | None = None
    try:
        lab = load_running_config(resolve_lab_dir(None))
    except Exception:
        own = LabConfig(directory=Path(tempfile.mkdtemp()), ports=LabPorts.from_base(29800))
        lifecycle.up(own)
        lab = own
    plan = (
        ["SIGINT"] * arguments.sigint
        + ["SIGTERM"] * arguments.sigterm
        + ["SIGKILL"] * arguments.sigkill
    )
    random.shuffle(plan)
    healthy: dict[str, int] = defaultdict(int)
    tried: dict[str, int] = defaultdict(int)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory() as work:
            for number, name in enumerate(plan, start=1):
                at_s = random.uniform(1.0, arguments.window_s)
                ok, note = trial(
                    lab, arguments.experiment, name, at_s, Path(work), arguments.settle_s
                )
                tried[name] += 1
                healthy[name] += ok
                print(
                    f"[{number}/{len(plan)}] {name} at +{at_s:.1f}s: "
                    f"{'healthy' if ok else 'NOT HEALTHY'} ({note})",
                    flush=True,
                )
    finally:
        if own is not None:
            lifecycle.down(own)
    print(f"\n{arguments.experiment}, {time.monotonic() - started:.0f}s in all")
    print(f"{'signal':<8} {'trials':>6} {'healthy':>8}")
    for name in SIGNALS:
        if tried[name]:
            print(f"{name:<8} {tried[name]:>6} {healthy[name]:>8}")


if __name__ == "__main__":
    main()
