"""Benchmark (not a test): what the lab costs at rest, without and with its opt-in parts.

Usage: .venv/bin/python benchmarks/lab_idle.py [--seconds 20] [--base-port 38900]
           [--parts all]

Starts its own lab (a temporary directory, from --base-port; stopped at the end,
whatever happens), lets it settle, and measures every lab process for --seconds:
CPU (as a share of one core, from /proc/PID/stat's utime + stime) and resident
memory (RSS, from /proc/PID/status). Then it starts the opt-in parts named
(`gameday lab start`'s code path), lets them settle and measures again, per part.
Prints one table: the lab alone, each opt-in part, and the totals. No load runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from gameday.lab import lifecycle
from gameday.lab.config import LabConfig, LabPorts
from gameday.lab.extras.registry import choose_extras
from gameday.lab.extras.runtime import optional_groups, start_extras
from gameday.lab.supervisor import SupervisorClient

SETTLE_S = 5.0
TICKS = os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    """A process and its children (PostgreSQL forks a process per connection and helper)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children.get(current, []))
    return found


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure(groups: dict[str, list[int]], seconds: float) -> dict[str, tuple[float, float]]:
    """Group → (CPU % of one core, RSS MiB) over `seconds`."""
    pids = {
        group: [p for pid in roots for p in _descendants(pid)] for group, roots in groups.items()
    }
    before = {group: sum(_cpu_ticks(p) for p in members) for group, members in pids.items()}
    time.sleep(seconds)
    result: dict[str, tuple[float, float]] = {}
    for group, members in pids.items():
        used = sum(_cpu_ticks(p) for p in members) - before[group]
        result[group] = (100.0 * used / TICKS / seconds, sum(_rss_mib(p) for p in members))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--base-port", type=int, default=38900)
    parser.add_argument("--parts", default="all")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="gameday-idle-"))
    config = LabConfig(directory=directory, ports=LabPorts.from_base(args.base_port))
    try:
        lifecycle.up(config)
        client = SupervisorClient(config.supervisor_url)
        optional = optional_groups(config)

        def by_part(extra_parts: bool) -> dict[str, list[int]]:
            groups: dict[str, list[int]] = {}
            for info in client.processes():
                if info["statename"] != "RUNNING":
                    continue
                key = optional.get(info["group"]) if info["group"] in optional else "lab"
                if key is not None and (key == "lab" or extra_parts):
                    groups.setdefault(key, []).append(info["pid"])
            return groups

        time.sleep(SETTLE_S)
        alone = measure(by_part(False), args.seconds)
        chosen = choose_extras([args.parts])
        started = time.monotonic()
        start_extras(config, chosen)
        start_s = time.monotonic() - started
        time.sleep(SETTLE_S)
        with_parts = measure(by_part(True), args.seconds)
        print(f"lab at rest, {args.seconds:.0f}s each, no load; parts started in {start_s:.1f}s")
        print(f"{'what':<12} {'CPU % of a core':>16} {'RSS MiB':>9}")
        print(f"{'lab alone':<12} {alone['lab'][0]:>16.1f} {alone['lab'][1]:>9.0f}")
        for name, (cpu, rss) in with_parts.items():
            if name != "lab":
                print(f"{'+ ' + name:<12} {cpu:>16.1f} {rss:>9.0f}")
        total_cpu = sum(cpu for cpu, _ in with_parts.values())
        total_rss = sum(rss for _, rss in with_parts.values())
        print(f"{'lab + parts':<12} {total_cpu:>16.1f} {total_rss:>9.0f}")
    finally:
        lifecycle.down(config)


if __name__ == "__main__":
    main()
