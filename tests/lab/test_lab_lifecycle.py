"""`gameday lab up/status/down` as a user runs them: own rules, clear failures, nothing left."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gameday.lab import lifecycle, processes
from gameday.lab.config import LabPorts, load_running_config
from gameday.observe.polling import poll_until

BASE_PORT = int(os.environ.get("GAMEDAY_TEST_BASE_PORT", "27800")) + 1000
GAMEDAY = [sys.executable, "-m", "gameday.cli"]
TEAM_RULES = """\
groups:
  - name: team
    rules:
      - alert: TeamGatewayQuiet
        expr: sum(rate(gateway_requests_total[5m])) < 1000000
        for: 10m
        labels:
          severity: warning
"""


def gameday(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GAMEDAY, *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


@pytest.fixture
def lab_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "lab"
    yield directory
    # Tear down whatever the test left, even when it failed.
    gameday("lab", "down", "--lab-dir", str(directory))
    if (directory / "lab.json").exists():
        processes.terminate(lifecycle.leftover_pids(load_running_config(directory.resolve())))


def test_up_with_team_rules_status_crash_and_down_leave_nothing(
    lab_dir: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "team.rules.yml"
    rules.write_text(TEAM_RULES)
    started = gameday(
        "lab", "up", "--lab-dir", str(lab_dir), "--base-port", str(BASE_PORT), "--rules", str(rules)
    )
    assert started.returncode == 0, started.stderr
    assert "lab ready in" in started.stdout

    ports = LabPorts.from_base(BASE_PORT)
    loaded = requests.get(f"http://127.0.0.1:{ports.prometheus}/api/v1/rules", timeout=5).json()
    names = {r["name"] for g in loaded["data"]["groups"] for r in g["rules"]}
    assert {"TeamGatewayQuiet", "PodDown", "RedisDown"} <= names

    status = gameday("lab", "status", "--lab-dir", str(lab_dir), "--json")
    report = json.loads(status.stdout)
    states = [row["state"] for row in report["processes"]]
    # The opt-in parts are configured but not started: listed, not running, not scraped.
    assert states.count("RUNNING") == 18
    assert states.count("opt-in, not started") == len(states) - 18 > 0
    assert all(t["health"] == "up" for t in report["targets"])
    table = gameday("lab", "status", "--lab-dir", str(lab_dir)).stdout
    assert "gateway-2" in table and "RESTARTS" in table and "13/13 up" in table

    # Started on demand: the disk mounts a tmpfs (root) and the memory worker gets a cgroup;
    # both must go at `lab down`, even after the supervisor crashed.
    started = gameday("lab", "start", "disk", "memory", "--lab-dir", str(lab_dir))
    assert started.returncode == 0, started.stdout + started.stderr
    assert "disk" in started.stdout and "memory" in started.stdout
    report = json.loads(gameday("lab", "status", "--lab-dir", str(lab_dir), "--json").stdout)
    running = [row["process"] for row in report["processes"] if row["state"] == "RUNNING"]
    assert len(running) == 20, running
    jobs = {t["job"] for t in report["targets"] if t["health"] == "up"}
    assert {"disk", "memory-worker"} <= jobs, jobs
    again = gameday("lab", "start", "disk", "--lab-dir", str(lab_dir))
    assert "already running" in again.stdout
    unknown = gameday("lab", "start", "kafka", "--lab-dir", str(lab_dir))
    assert unknown.returncode == 2 and "no opt-in part named 'kafka'" in unknown.stderr
    mount = str((lab_dir / "disk").resolve())

    # The supervisor crashes: its children are orphaned, `down` must still find them.
    supervisord_pid = int((lab_dir / "run" / "supervisord.pid").read_text())
    os.kill(supervisord_pid, signal.SIGKILL)
    assert poll_until(lambda: None if processes.alive(supervisord_pid) else True, timeout_s=5).met
    config = load_running_config(lab_dir.resolve())
    orphans = lifecycle.leftover_pids(config)
    names = sorted(Path(f"/proc/{pid}/comm").read_text().strip() for pid in orphans)
    # redis hides the environment marker; the record has it
    assert len(orphans) == 20, " ".join(names)
    crashed = json.loads(gameday("lab", "status", "--lab-dir", str(lab_dir), "--json").stdout)
    assert crashed["supervisor"].startswith("crashed")

    stopped = gameday("lab", "down", "--lab-dir", str(lab_dir))
    assert stopped.returncode == 0, stopped.stderr
    assert "left behind" in stopped.stdout
    assert lifecycle.leftover_pids(config) == []
    assert not any(processes.alive(pid) for pid in orphans)
    mounts = Path("/proc/self/mounts").read_text().split()
    assert mount not in mounts, "the lab disk is still mounted"
    assert not list(Path("/sys/fs/cgroup").rglob(f"gameday-lab-{ports.memory_hog}"))
    listening = [port for port in ports.all().values() if processes.port_in_use(port)]
    assert listening == []


def test_a_taken_port_is_named_and_nothing_starts(lab_dir: Path) -> None:
    ports = LabPorts.from_base(BASE_PORT)
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", ports.prometheus))
        squatter.listen()
        result = gameday("lab", "up", "--lab-dir", str(lab_dir), "--base-port", str(BASE_PORT))
    assert result.returncode == 3
    assert f"port {ports.prometheus} (prometheus)" in result.stderr
    assert "--base-port" in result.stderr
    assert processes.lab_pids(str(lab_dir.resolve())) == []


def test_a_missing_binary_is_named_with_its_install_command(lab_dir: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(tmp_path))  # nothing on PATH but the venv's python
    result = gameday("lab", "up", "--lab-dir", str(lab_dir), "--base-port", str(BASE_PORT), env=env)
    assert result.returncode == 3
    assert "redis: binary 'redis-server' not found" in result.stderr
    assert "apt-get install" in result.stderr


def test_a_bad_rule_file_is_refused_with_exit_code_2(lab_dir: Path, tmp_path: Path) -> None:
    rules = tmp_path / "broken.rules.yml"
    rules.write_text("groups: [{name: g, rules: [{alert: A, expr: 'rate(x['}]}]\n")
    result = gameday(
        "lab", "up", "--lab-dir", str(lab_dir), "--base-port", str(BASE_PORT), "--rules", str(rules)
    )
    assert result.returncode == 2
    assert str(rules) in result.stderr and "promtool" in result.stderr
    assert processes.lab_pids(str(lab_dir.resolve())) == []


def test_status_and_down_without_a_lab_explain_themselves(tmp_path: Path) -> None:
    status = gameday("lab", "status", "--lab-dir", str(tmp_path / "none"))
    assert status.returncode == 3 and "gameday lab up" in status.stderr
    down = gameday("lab", "down", "--lab-dir", str(tmp_path / "none"))
    assert down.returncode == 0 and "nothing to stop" in down.stdout
