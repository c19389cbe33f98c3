"""Benchmark (not a test): how long redis-down takes, against its detection floor, and
what gameday's client-side metrics export costs Locust.

Usage: .venv/bin/python benchmarks/redis_down.py [--runs N] [--load-seconds S]

Uses the lab in $GAMEDAY_LAB_DIR if one is up there, else starts one in a
temporary directory (base port 19800) and stops it at the end. Prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

from gameday.lab import lifecycle
from gameday.lab.config import LabConfig, LabPorts, resolve_lab_dir
from gameday.lab.monitoring import lab_rule_files
from gameday.lab.supervisor import SupervisorClient
from gameday.load.locust_process import LoadProfile, LocustProcess

REPO = Path(__file__).resolve().parents[1]


def rule_for_s(alert: str) -> float:
    for path in lab_rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") == alert:
                    return float(str(rule.get("for", "0s")).rstrip("s"))
    raise SystemExit(f"no rule for {alert}")


def detection_floor(config_dir: Path) -> dict[str, float]:
    prometheus = yaml.safe_load((config_dir / "prometheus.yml").read_text())["global"]
    route = yaml.safe_load((config_dir / "alertmanager.yml").read_text())["route"]
    return {
        "for": rule_for_s("RedisDown"),
        "scrape": float(prometheus["scrape_interval"].rstrip("s")),
        "evaluation": float(prometheus["evaluation_interval"].rstrip("s")),
        "group_wait": float(str(route["group_wait"]).rstrip("s")),
    }


def seconds_between(events: list[dict[str, object]], first: str, then: str) -> float | None:
    start = next((e for e in events if e["kind"] == first), None)
    end = next((e for e in events if e["kind"] == then), None)
    if start is None or end is None:
        return None
    return float(end["elapsed_s"]) - float(start["elapsed_s"])  # type: ignore[arg-type]


def run_experiment(lab: LabConfig, report: Path) -> tuple[float, dict[str, object]]:
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gameday.cli",
            "run",
            "-q",
            "experiments/redis-down.yaml",
            "--report-dir",
            str(report),
        ],
        cwd=REPO,
        env=dict(os.environ, GAMEDAY_LAB_DIR=str(lab.directory)),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"redis-down did not pass:\n{done.stdout}\n{done.stderr}")
    return wall, json.loads((report / "result.json").read_text())


def locust_rate(lab: LabConfig, export: bool, seconds: int, workdir: Path) -> float:
    profile = LoadProfile(
        locustfile=REPO / "benchmarks" / "locust_max.py",
        host=lab.gateway_url,
        users=20,
        spawn_rate=20,
        run_time_s=seconds,
        export_metrics=export,
    )
    process = LocustProcess(profile=profile, metrics_port=lab.ports.load_metrics, workdir=workdir)
    process.start()
    time.sleep(seconds + 1)
    summary = process.stop()
    if summary is None:
        raise SystemExit(f"no locust figures: {process.log_tail()}")
    return summary["requests_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--load-seconds", type=int, default=10)
    args = parser.parse_args()
    directory = resolve_lab_dir(None)
    own_lab: LabConfig | None = None
    if (directory / "lab.json").is_file() and SupervisorClient(
        LabConfig.load(directory / "lab.json").supervisor_url, timeout=1
    ).reachable():
        lab = LabConfig.load(directory / "lab.json")
    else:
        own_lab = LabConfig(
            directory=Path(tempfile.mkdtemp(prefix="gameday-bench-")),
            ports=LabPorts.from_base(19800),
        )
        print(f"starting a lab in {own_lab.directory} ...", flush=True)
        up = lifecycle.up(own_lab)
        print(f"lab up in {up.seconds:.1f}s")
        lab = own_lab
    try:
        floor = detection_floor(lab.directory / "config")
        floor_s = sum(floor.values())
        print(f"\nredis-down.yaml, {args.runs} runs, {datetime.now():%Y-%m-%d %H:%M}")
        print(
            "detection floor: "
            + " + ".join(f"{k} {v:g}s" for k, v in floor.items())
            + f" = {floor_s:g}s"
        )
        rows = []
        with tempfile.TemporaryDirectory() as scratch:
            for run in range(args.runs):
                wall, result = run_experiment(lab, Path(scratch) / f"run-{run}")
                events = result["timeline"]
                measured = result["measurements"]
                notify = measured["time_to_notify_s"]["RedisDown"]
                rows.append(
                    {
                        "wall": wall,
                        "mttd": measured["mttd_s"]["RedisDown"],
                        "notify": notify,
                        "beyond_floor": notify - floor_s,
                        "mttr": measured["mttr_s"],
                        "warmup": seconds_between(events, "load_started", "steady_state_met"),
                        "fault_to_remediation": seconds_between(
                            events, "fault_applied", "remediation_started"
                        ),
                    }
                )
                print(
                    f"  run {run + 1}: wall {wall:.1f}s, MTTD {rows[-1]['mttd']:.1f}s, "
                    f"notified {notify:.1f}s ({notify - floor_s:+.1f}s vs floor), "
                    f"MTTR {rows[-1]['mttr']:.1f}s"
                )
            for key in (
                "wall",
                "mttd",
                "notify",
                "beyond_floor",
                "mttr",
                "warmup",
                "fault_to_remediation",
            ):
                values = [float(r[key]) for r in rows if r[key] is not None]  # type: ignore[arg-type]
                print(
                    f"  {key:>22}: median {statistics.median(values):6.2f}s  "
                    f"min {min(values):6.2f}s  max {max(values):6.2f}s"
                )
            print(f"\nLocust max rate, 20 users on /healthz, {args.load_seconds}s each, 3 tries:")
            for export in (False, True):
                rates = [
                    locust_rate(lab, export, args.load_seconds, Path(scratch) / f"l-{export}-{i}")
                    for i in range(3)
                ]
                label = "with gameday metrics export" if export else "without export"
                print(
                    f"  {label:>28}: {statistics.median(rates):7.1f} req/s "
                    f"(runs: {', '.join(f'{r:.0f}' for r in rates)})"
                )
    finally:
        if own_lab is not None:
            lifecycle.down(own_lab)


if __name__ == "__main__":
    main()
