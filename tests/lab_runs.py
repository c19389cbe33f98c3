"""Running `gameday` against the test lab from tests: the command, its results, and the
checks that the lab is healthy again afterwards."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests
import yaml

from gameday.lab import lifecycle
from gameday.lab.config import LabConfig, LabPorts
from gameday.lab.extras.runtime import expected_to_run
from gameday.lab.processes import alive
from gameday.lab.profile import read_profile
from gameday.lab.supervisor import SupervisorClient
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import Prometheus
from gameday.targets import fault_ledger

REPO = Path(__file__).resolve().parents[1]


def gameday_env(lab: LabConfig) -> dict[str, str]:
    return dict(os.environ, GAMEDAY_LAB_DIR=str(lab.directory))


@contextlib.contextmanager
def profile_lab(profile: Path, directory: Path, base_port: int) -> Iterator[LabConfig]:
    """A lab of its own started with a seed set's profile, stopped whatever happens."""
    config = read_profile(profile).lab_config(directory, LabPorts.from_base(base_port))
    try:
        lifecycle.up(config)
        yield config
    finally:
        lifecycle.down(config)


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
    """Every process runs (an opt-in part only once started) and no fault is left."""
    supervisor = SupervisorClient(lab.supervisor_url)
    states = {
        info["name"]: info["statename"]
        for info in supervisor.processes()
        if expected_to_run(lab, info["group"])
    }
    assert all(state == "RUNNING" for state in states.values()), states
    assert fault_ledger(lab).entries() == []


@contextlib.contextmanager
def broken_rule(lab: LabConfig, alert: str, old: str, new: str) -> Iterator[Path]:
    """Run the lab's Prometheus with one alert's expression changed (`old` → `new`, e.g. a
    threshold), then put its rules back: what an experiment sees when a rule is wrong."""
    config_path = lab.directory / "config" / "prometheus.yml"
    original = config_path.read_text()
    document = yaml.safe_load(original)
    files = [Path(path) for path in document["rule_files"]]
    owner = next(p for p in files if f"alert: {alert}\n" in p.read_text())
    rules = yaml.safe_load(owner.read_text())
    changed = 0
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == alert and old in rule["expr"]:
                rule["expr"] = rule["expr"].replace(old, new)
                changed += 1
    assert changed == 1, f"{old!r} is not in {alert}'s expression in {owner}"
    broken = lab.directory / "config" / f"broken-{owner.name}"
    broken.write_text(yaml.safe_dump(rules, sort_keys=False))
    document["rule_files"] = [str(broken if p == owner else p) for p in files]
    prometheus = Prometheus(lab.prometheus_url)

    def expression() -> str:
        groups = prometheus.get("/api/v1/rules").json()["data"]["groups"]
        return next(r["query"] for g in groups for r in g["rules"] if r["name"] == alert)

    def reload(text: str, wanted: Callable[[str], bool]) -> None:
        config_path.write_text(text)
        reply = requests.post(lab.prometheus_url + "/-/reload", timeout=10)
        assert reply.status_code == 200, reply.text
        assert poll_until(lambda: wanted(expression()) or None, timeout_s=15, interval_s=0.2).met

    as_written = expression()
    try:
        reload(yaml.safe_dump(document, sort_keys=False), lambda query: query != as_written)
        yield broken
    finally:
        reload(original, lambda query: query == as_written)


def assert_experiment_passes(
    lab: LabConfig, experiment: str, report_dir: Path, pages: dict[str, str], timeout: int = 300
) -> dict[str, Any]:
    """Run a shipped experiment and check what every one promises: exit 0, every
    expectation met, each alert of `pages` measured and delivered to its receiver (and no
    other), an MTTR, the fault applied and the remediation done; then the lab is healthy."""
    done = run_gameday(
        lab, "run", "-q", experiment, "--report-dir", str(report_dir), timeout=timeout
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = result_of(report_dir)
    assert result["status"] == "passed"
    assert all(e["passed"] for e in result["expectations"]), result["expectations"]
    measured = result["measurements"]
    assert sorted(measured["mttd_s"]) == sorted(pages)
    assert sorted(measured["time_to_notify_s"]) == sorted(pages)
    assert measured["mttr_s"] is not None
    delivered = {
        (e["alert"], e["receiver"])
        for e in result["expectations"]
        if e["kind"] == "notification_delivered" and e["passed"]
    }
    assert set(pages.items()) <= delivered, delivered
    kinds = [event["kind"] for event in result["timeline"]]
    for kind in ("steady_state_met", "fault_applied", "remediation_completed"):
        assert kind in kinds, kind
    assert_lab_healthy(lab)
    return result


def assert_fails_naming_the_alert(
    lab: LabConfig,
    experiment: str,
    report_dir: Path,
    broken: tuple[str, str, str],
    timeout: int = 300,
) -> dict[str, Any]:
    """Run a shipped experiment with one alert's rule broken (`broken`: alert, old, new,
    as `broken_rule` takes them, e.g. a threshold it can never cross): exit 1, the run
    failed, the alert's own expectation says it did not fire and why, the fault reverted
    anyway and the lab healthy."""
    alert = broken[0]
    with broken_rule(lab, *broken):
        done = run_gameday(
            lab, "run", "-q", experiment, "--report-dir", str(report_dir), timeout=timeout
        )
    assert done.returncode == 1, done.stdout + done.stderr
    result = result_of(report_dir)
    assert result["status"] == "failed"
    fires = next(
        e for e in result["expectations"] if e["kind"] == "alert_fires" and e["alert"] == alert
    )
    assert not fires["passed"]
    assert fires["message"].startswith(f"{alert} did not fire within "), fires["message"]
    assert alert not in result["measurements"]["mttd_s"]
    assert "fault_reverted" in [event["kind"] for event in result["timeline"]]
    assert_lab_healthy(lab)
    return result


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
