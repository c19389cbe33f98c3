"""Benchmark (not a test): what distributed load (`workers: N`) buys on this machine.

Usage: .venv/bin/python benchmarks/locust_workers.py [--seconds S] [--users U]
                                                    [--workers 0,1,2,4] [--base-port P]

Runs the lab's own locustfile (loadtests/lab_api.py) against the lab gateway with
one Locust process (workers 0) and then a master with 1, 2, 4 workers, each for S
seconds with U users (enough to saturate), and prints requests/s, p50/p95, the
failures, and the CPU the Locust processes and the lab's gateway used (cores: CPU
seconds per second, from /proc), with the machine's busy cores and what of it went
to neither (other processes on the machine), to tell which side saturates.

Uses the lab in $GAMEDAY_LAB_DIR if one is up there, else starts one in a temporary
directory (base port --base-port) and stops it at the end.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gameday.lab import lifecycle
from gameday.lab.config import LabConfig, LabPorts, resolve_lab_dir
from gameday.lab.supervisor import SupervisorClient
from gameday.load.locust_process import LoadProfile, LocustProcess
from gameday.model import LoadSummary

REPO = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class Row:
    workers: int
    summary: LoadSummary
    locust_cores: float
    gateway_cores: float
    other_lab_cores: float
    machine_cores: float


def lab_processes(lab: LabConfig) -> dict[int, str]:
    client = SupervisorClient(lab.supervisor_url, timeout=5)
    return {info["pid"]: info["name"] for info in client.processes() if info["pid"]}


def measure(lab: LabConfig, workers: int, users: int, seconds: int, workdir: Path) -> Row:
    profile = LoadProfile(
        locustfile=REPO / "loadtests" / "lab_api.py",
        host=lab.gateway_url,
        users=users,
        spawn_rate=users,
        run_time_s=seconds + 30,
        workers=workers,
    )
    process = LocustProcess(profile=profile, metrics_port=lab.ports.load_metrics, workdir=workdir)
    lab_pids = lab_processes(lab)
    process.start()
    time.sleep(2)  # users spawned: measure the plateau
    pids = list(process.pids.values())
    started = time.monotonic()
    locust_before = sum(cpu_seconds(p) for p in pids)
    lab_before = {pid: cpu_seconds(pid) for pid in lab_pids}
    busy_before = machine_busy()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    locust_used = sum(cpu_seconds(p) for p in pids) - locust_before
    lab_used = {pid: cpu_seconds(pid) - before for pid, before in lab_before.items()}
    busy_after = machine_busy()
    summary = process.stop()
    if summary is None:
        raise SystemExit(f"no locust figures: {process.log_tail()}")
    gateway = sum(used for pid, used in lab_used.items() if "gateway" in lab_pids[pid])
    other = sum(lab_used.values()) - gateway
    busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
    cores = busy * (os.cpu_count() or 1)
    return Row(workers, summary, locust_used / elapsed, gateway / elapsed, other / elapsed, cores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--workers", default="0,1,2,4")
    parser.add_argument("--base-port", type=int, default=19800)
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    directory = resolve_lab_dir(None)
    own_lab: LabConfig | None = None
    if (directory / "lab.json").is_file() and SupervisorClient(
        LabConfig.load(directory / "lab.json").supervisor_url, timeout=1
    ).reachable():
        lab = LabConfig.load(directory / "lab.json")
    else:
        own_lab = LabConfig(
            directory=Path(tempfile.mkdtemp(prefix="gameday-bench-")),
            ports=LabPorts.from_base(args.base_port),
        )
        print(f"starting a lab in {own_lab.directory} ...", flush=True)
        up = lifecycle.up(own_lab)
        print(f"lab up in {up.seconds:.1f}s")
        lab = own_lab
    try:
        print(
            f"\nloadtests/lab_api.py on the lab gateway, {args.users} users, {args.seconds}s "
            f"each, {os.cpu_count()} CPUs, {datetime.now():%Y-%m-%d %H:%M}"
        )
        print(
            f"{'workers':>8} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'failed':>7} "
            f"{'locust':>7} {'gateway':>8} {'rest of lab':>12} {'elsewhere':>10} "
            f"{'machine':>8}  (cores)"
        )
        with tempfile.TemporaryDirectory() as scratch:
            for workers in counts:
                row = measure(lab, workers, args.users, args.seconds, Path(scratch) / f"w{workers}")
                s = row.summary
                failed = s["failures"] / s["requests"] * 100 if s["requests"] else 0.0
                used = row.locust_cores + row.gateway_cores + row.other_lab_cores
                elsewhere = max(0.0, row.machine_cores - used)
                print(
                    f"{row.workers:>8} {s['requests_per_s']:>8.0f} {s['p50_ms']!s:>7} "
                    f"{s['p95_ms']!s:>7} {failed:>6.1f}% {row.locust_cores:>7.2f} "
                    f"{row.gateway_cores:>8.2f} {row.other_lab_cores:>12.2f} "
                    f"{elsewhere:>10.2f} {row.machine_cores:>8.2f}",
                    flush=True,
                )
    finally:
        if own_lab is not None:
            lifecycle.down(own_lab)


if __name__ == "__main__":
    main()
