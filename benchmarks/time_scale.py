"""Benchmark (not a test): how far a compressed-time lab's production estimate is from a
real-time measurement.

Usage: .venv/bin/python benchmarks/time_scale.py [--ks 1,10,60] [--base-port 38800]
           [--rules FILE | --runbook RUNBOOK.md]

For each K it starts its own lab (in a temporary directory, from --base-port;
stopped at the end, whatever happens) with the team's RedisDown rule run K
times faster (`gameday lab up --profile FILE`: the rule, `time_scale: K`, the
lab's `namespace="lab"` series relabelled `creto-enablement`, the lab's own
rules replaced), stops Redis under load, waits for the team's RedisDown and
restarts Redis. The rule comes from the Creto runbook (`redis_up{namespace=
"creto-enablement"} == 0`, `for: 1m`) unless --rules names a rule file. K = 1
takes over a minute. Prints per K: wall time of the run, MTTD as measured on
the lab, and two production estimates with their distance from the K = 1
measurement: MTTD × K, and result.json's estimate (the rule's `for:` scaled
back, the lab's own delays not: measured + (K − 1) × for on the lab).

What to expect: only the rule's durations are compressed; the lab's own
detection delay (scrape and evaluation intervals, the exporter's poll: a second
or two) is not, so × K multiplies it too and overshoots by about that delay × K
(2026-12-02, for: 1m: K=10 +5.3s / +8.8 %, K=60 +98.9s / +164 %), while the
estimate that scales back the `for:` only stayed within a second (K=10 +0.6 s,
K=60 +0.1 s).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from gameday.lab import lifecycle
from gameday.lab.config import LabConfig
from gameday.runbook import parse_runbook

REPO = Path(__file__).resolve().parents[1]
CRETO_RUNBOOK = Path("/work/shared/seeds/creto-enablement-runbook.md")
ALERT = "RedisDown"
NAMESPACE = "creto-enablement"
SLACK_S = 30.0  # scrape + evaluation + a margin, on top of the rule's for: / K


def _gameday(*args: str, lab_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if lab_dir is not None:
        env["GAMEDAY_LAB_DIR"] = str(lab_dir)
    return subprocess.run(
        [sys.executable, "-m", "gameday.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _for_seconds(value: str) -> float:
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for unit in ("ms", "s", "m", "h"):
        if value.endswith(unit) and value[: -len(unit)].replace(".", "", 1).isdigit():
            return float(value[: -len(unit)]) * units[unit]
    raise SystemExit(f"cannot read the rule's for: {value!r}")


def team_rule(rules: Path | None, runbook: Path, directory: Path) -> tuple[Path, float]:
    """The rule file with the team's RedisDown (written from the runbook unless given) and
    the rule's `for:` in seconds."""
    if rules is not None:
        for group in yaml.safe_load(rules.read_text())["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") == ALERT:
                    return rules.resolve(), _for_seconds(str(rule.get("for", "0s")))
        raise SystemExit(f"{rules}: no rule for {ALERT}")
    found = next((r for r in parse_runbook(runbook).rules if r.name == ALERT), None)
    if found is None:
        raise SystemExit(f"{runbook}: no {ALERT} rule in its YAML blocks")
    written: dict[str, Any] = {"alert": found.name, "expr": found.expr}
    if found.for_:
        written["for"] = found.for_
    written |= {"labels": found.labels, "annotations": found.annotations}
    path = directory / "creto-redis.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "creto-redis", "rules": [written]}]}))
    return path, _for_seconds(found.for_ or "0s")


def profile_file(directory: Path, rules: Path, time_scale: float) -> Path:
    path = directory / f"profile-k{time_scale:g}.yaml"
    profile = {
        "system": "creto",
        "rules": [str(rules)],
        "time_scale": time_scale,
        "labels": {"namespace": {NAMESPACE: "lab"}},
        "replace_lab_rules": True,
    }
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


def experiment_file(directory: Path, within_s: float) -> Path:
    """redis-down.yaml's shape, expecting the team's RedisDown within `within_s` lab
    seconds of the fault."""
    document = yaml.safe_load((REPO / "experiments" / "redis-down.yaml").read_text())
    document["title"] = f"Redis down fires the team's {ALERT}"
    document["description"] = (
        f"Stop Redis under load; the team's {ALERT} must fire within {within_s:.1f} lab "
        "seconds of the fault; restarting Redis restores the SLOs."
    )
    document["extensions"] = [{"name": "gameday", "remediation": ["restart redis"]}]
    for name in ("locustfile",):
        arguments = document["controls"][0]["provider"]["arguments"]
        arguments[name] = str(REPO / arguments[name])
    stop, _, _, _, _, restart, restored = document["method"]
    fires = {
        "type": "probe",
        "name": f"{ALERT} fires",
        "provider": {
            "type": "python",
            "module": "gameday.chaos.alerts.probes",
            "func": "alert_fires",
            "arguments": {"alert": ALERT, "within_s": round(within_s, 1)},
        },
    }
    restored["provider"]["arguments"]["within_s"] = round(within_s + 50, 1)
    restored["provider"]["arguments"].pop("mttr_budget_s", None)
    document["method"] = [stop, fires, restart, restored]
    path = directory / "redis-down-creto.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@dataclass(frozen=True)
class Measured:
    time_scale: float
    up_s: float
    wall_s: float
    mttd_s: float | None
    estimate_s: float | None
    status: str


def measure(
    time_scale: float, *, base_port: int, rules: Path, for_s: float, scratch: Path
) -> Measured:
    lab_dir = scratch / f"lab-k{time_scale:g}"
    work = scratch / f"k{time_scale:g}"
    work.mkdir()
    profile = profile_file(work, rules, time_scale)
    experiment = experiment_file(work, for_s / time_scale + SLACK_S)
    started = time.monotonic()
    up = _gameday(
        *("lab", "up", "--lab-dir", str(lab_dir)),
        *("--base-port", str(base_port), "--profile", str(profile)),
    )
    up_s = time.monotonic() - started
    try:
        if up.returncode != 0:
            raise SystemExit(f"lab up (K={time_scale:g}) failed:\n{up.stdout}\n{up.stderr}")
        lab = LabConfig.load(lab_dir / "lab.json")
        if lab.time_scale != time_scale:
            raise SystemExit(f"the lab runs at K={lab.time_scale:g}, not {time_scale:g}")
        report = work / "report"
        started = time.monotonic()
        done = _gameday("run", "-q", str(experiment), "--report-dir", str(report), lab_dir=lab_dir)
        wall_s = time.monotonic() - started
        if not (report / "result.json").is_file():
            raise SystemExit(f"no result (K={time_scale:g}):\n{done.stdout}\n{done.stderr}")
        result = json.loads((report / "result.json").read_text())
    finally:
        down = _gameday("lab", "down", "--lab-dir", str(lab_dir))
        if down.returncode != 0 and (lab_dir / "lab.json").is_file():
            lifecycle.down(LabConfig.load(lab_dir / "lab.json"))
    measured = result["measurements"]
    mttd = measured["mttd_s"].get(ALERT)
    estimate = (measured.get("production_estimate_s") or {}).get("mttd_s", {}).get(ALERT)
    if estimate is None and mttd is not None:
        estimate = mttd  # K = 1: no estimate in result.json, the lab is real time
    return Measured(time_scale, up_s, wall_s, mttd, estimate, result["status"])


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}s"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ks", default="1,10,60", help="time scales, comma-separated")
    parser.add_argument("--base-port", type=int, default=38800)
    parser.add_argument("--rules", type=Path, help="a rule file with RedisDown")
    parser.add_argument("--runbook", type=Path, default=CRETO_RUNBOOK)
    args = parser.parse_args()
    ks = [float(k) for k in args.ks.split(",") if k.strip()]
    if any(k <= 0 for k in ks):
        raise SystemExit("--ks: every K must be above 0")
    help_text = _gameday("lab", "up", "--help").stdout
    if "--profile" not in help_text:
        raise SystemExit("`gameday lab up` has no --profile option yet")
    with tempfile.TemporaryDirectory(prefix="gameday-timescale-") as scratch:
        rules, for_s = team_rule(args.rules, args.runbook, Path(scratch))
        print(f"team {ALERT}, for: {for_s:g}s, K = {', '.join(f'{k:g}' for k in ks)}, ", end="")
        print(f"{datetime.now():%Y-%m-%d %H:%M}")
        rows: list[Measured] = []
        for k in ks:
            row = measure(
                k, base_port=args.base_port, rules=rules, for_s=for_s, scratch=Path(scratch)
            )
            rows.append(row)
            print(
                f"  K={k:g}: lab up {row.up_s:.1f}s, run {row.wall_s:.1f}s ({row.status}), "
                f"MTTD {_seconds(row.mttd_s)}, estimate {_seconds(row.estimate_s)}",
                flush=True,
            )
    real = next((r.mttd_s for r in rows if r.time_scale == 1), None)

    def versus(value: float | None) -> str:
        if real is None or value is None:
            return f"{'—':>9} {'—':>7}"
        return f"{value - real:>+8.1f}s {(value - real) / real * 100:>+6.1f}%"

    print(
        f"\n{'K':>5} {'wall':>8} {'MTTD lab':>9} {'× K':>9} {'vs K=1':>17} "
        f"{'estimate':>9} {'vs K=1':>17}  status"
    )
    for row in rows:
        naive = None if row.mttd_s is None else row.mttd_s * row.time_scale
        print(
            f"{row.time_scale:>5g} {row.wall_s:>7.1f}s {_seconds(row.mttd_s):>9} "
            f"{_seconds(naive):>9} {versus(naive)} {_seconds(row.estimate_s):>9} "
            f"{versus(row.estimate_s)}  {row.status}"
        )


if __name__ == "__main__":
    main()
