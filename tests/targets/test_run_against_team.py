"""gameday run against a team's own system (tests/team_stack.py): its Prometheus and
Alertmanager behind a bearer-token proxy, its rule names and routes, faults by plain
Chaos Toolkit `type: process` actions. Every run goes through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml
from tests.interrupting import interrupt_mid_fault
from tests.team_stack import PORT_OFFSETS, TeamStack

pytestmark = pytest.mark.team_stack
TOKEN_ENV = "TEAM_MONITORING_TOKEN"
RUN_TIMEOUT_S = 180


def _start_command(team: TeamStack) -> list[str]:
    """The stack's start command without its empty `--save ""` (Chaos Toolkit drops empty
    process arguments)."""
    argv = team.redis_start_command()
    index = argv.index("--save")
    return argv[:index] + argv[index + 2 :]


def _process(name: str, argv: list[str]) -> dict[str, Any]:
    return {
        "type": "action",
        "name": name,
        "provider": {"type": "process", "path": argv[0], "arguments": argv[1:], "timeout": 20},
    }


def _probe(name: str, module: str, func: str, **arguments: Any) -> dict[str, Any]:
    return {
        "type": "probe",
        "name": name,
        "tolerance": True,
        "provider": {"type": "python", "module": module, "func": func, "arguments": arguments},
    }


def _routed(alert: str, receiver: str, within_s: float = 25) -> dict[str, Any]:
    return _probe(
        f"{alert}-routed-to-{receiver}",
        "gameday.chaos.alerts.probes",
        "alert_routed",
        alert=alert,
        receiver=receiver,
        within_s=within_s,
        overtime_s=0,
    )


def experiment(team: TeamStack, *expectations: dict[str, Any]) -> dict[str, Any]:
    """The team's experiment: stop the cache, expect its alerts, restart it, the SLO is
    restored; the rollback restarts it whatever happened."""
    start = _start_command(team)
    return {
        "title": "Cache down pages the storage on-call",
        "description": "The storage team's runbook: CacheDown pages storage-pager.",
        "steady-state-hypothesis": {
            "title": "the cache serves",
            "probes": [
                _probe(
                    "cache-up",
                    "gameday.chaos.slo.probes",
                    "slo_holds",
                    error_ratio_max=0.0,
                    window_s=2,
                )
            ],
        },
        "method": [
            _process("stop-cache", team.redis_stop_command()),
            *expectations,
            _process("restart-cache", start),
            _probe(
                "cache-restored",
                "gameday.chaos.slo.probes",
                "slo_restored",
                error_ratio_max=0.0,
                within_s=60,
                window_s=2,
            ),
        ],
        "rollbacks": [_process("restart-cache-always", start)],
        "extensions": [{"name": "gameday", "remediation": ["restart-cache"]}],
    }


def target(team: TeamStack, directory: Path, **changes: Any) -> Path:
    """The team's target file: monitoring behind the proxy (bearer token from the
    environment), the cache's error ratio as server-side SLO, allow = the cache's CLI."""
    auth = {"bearer_token": {"env": TOKEN_ENV}}
    document: dict[str, Any] = {
        "kind": "external",
        "name": "storage-staging",
        "prometheus": {"url": team.proxy_prometheus_url, "auth": auth},
        "alertmanager": {"url": team.proxy_alertmanager_url, "auth": auth},
        "slo": {"error_ratio": '1 - min(redis_up{job="storage-cache"})'},
        "allow": [
            f"process:*redis-cli -h 127.0.0.1 -p {team.redis_port} *",
            f"process:*redis-server --port {team.redis_port} *",
        ],
    }
    document.update(changes)
    path = directory / "storage-staging.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def gameday(
    *args: str, token: str | None, cwd: Path, timeout: float = RUN_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    if token is not None:
        env[TOKEN_ENV] = token
    return subprocess.run(
        [sys.executable, "-m", "gameday.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
    )


def run_with_yes(
    team: TeamStack, directory: Path, path: Path, report: Path, **target_changes: Any
) -> subprocess.CompletedProcess[str]:
    """`gameday run EXPERIMENT --target … --yes --report-dir REPORT`, token in the env."""
    target_file = target(team, directory, **target_changes)
    return gameday(
        "run",
        str(path),
        "--target",
        str(target_file),
        "--yes",
        "--report-dir",
        str(report),
        token=team.token,
        cwd=directory,
    )


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def result_of(report_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((report_dir / "result.json").read_text())
    return loaded


def verdicts(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in result["expectations"]}


def everything_written(report_dir: Path, run: subprocess.CompletedProcess[str]) -> str:
    texts = [run.stdout, run.stderr]
    texts += [p.read_text(errors="replace") for p in report_dir.rglob("*") if p.is_file()]
    return "\n".join(texts)


LOCUSTFILE = """
from locust import HttpUser, constant, task


class Scraper(HttpUser):
    wait_time = constant(0.05)

    @task
    def metrics(self):
        self.client.get("/metrics")
"""


def test_team_experiment_passes_through_the_token_proxy(
    team_restored: TeamStack, tmp_path: Path
) -> None:
    team = team_restored
    (tmp_path / "scrape.py").write_text(LOCUSTFILE)
    load = {
        "name": "load",
        "provider": {
            "type": "python",
            "module": "gameday.chaos.load.control",
            "arguments": {"locustfile": "scrape.py", "users": 2, "spawn_rate": 2, "warmup_s": 4},
        },
    }
    exporter = f"http://127.0.0.1:{team.redis_port + PORT_OFFSETS['exporter']}"
    document = experiment(
        team,
        _probe(
            "cache-down-fires",
            "gameday.chaos.alerts.probes",
            "alert_fires",
            alert="CacheDown",
            within_s=25,
        ),
        _routed("CacheDown", "storage-pager"),
        _probe(
            "cache-down-paged",
            "gameday.chaos.alerts.probes",
            "notification_delivered",
            alert="CacheDown",
            receiver="storage-pager",
            within_s=25,
        ),
    )
    document["controls"] = [load]
    document["steady-state-hypothesis"]["probes"].append(
        _probe(
            "clients-served",
            "gameday.chaos.slo.probes",
            "slo_holds",
            source="client",
            error_ratio_max=0.01,
            throughput_min_rps=1,
            window_s=2,
        )
    )
    path = write(tmp_path / "cache-down.yaml", document)
    report = tmp_path / "report"
    run = run_with_yes(team, tmp_path, path, report, load={"host": exporter})
    assert run.returncode == 0, run.stdout + run.stderr
    result = result_of(report)
    found = verdicts(result)
    routed = found["CacheDown routed to storage-pager within 25s"]
    assert routed["passed"] and routed["kind"] == "alert_routed"
    delivered = found["CacheDown (firing) delivered to storage-pager within 25s"]
    assert delivered["passed"]
    assert "Alertmanager's notification counters" in delivered["message"]
    assert result["measurements"]["mttd_s"] is not None
    assert result["load"]["requests"] > 0  # Locust ran against the target's load host
    client = [e for e in result["expectations"] if "(client)" in e["name"]]
    assert client and all(e["passed"] for e in client), client
    assert "client throughput" in client[0]["message"]
    # gameday's own Prometheus for the client-side figures stopped with the load.
    assert not [
        pid
        for pid in os.listdir("/proc")
        if pid.isdigit() and _cmdline(pid).count("client-prometheus")
    ]
    kinds = [e["kind"] for e in result["timeline"]]
    assert kinds.count("fault_applied") == 1 and "fault_reverted" in kinds
    applied = next(e for e in result["timeline"] if e["kind"] == "fault_applied")
    assert applied["data"]["touches"].endswith("shutdown nosave")
    # The team's webhook got the page: the verdict matches what really happened.
    assert any(
        a["labels"]["alertname"] == "CacheDown"
        for d in team.deliveries("storage-pager")
        for a in d["payload"]["alerts"]
    )
    # The planted token never reaches a report, a log or the terminal.
    assert team.token not in everything_written(report, run)


def test_wrong_receiver_fails_naming_where_alertmanager_routed_it(
    team_restored: TeamStack, tmp_path: Path
) -> None:
    """The team's configuration in git says storage-chat; the Alertmanager that runs
    routes to storage-pager (drift): the pre-flight passes on the file, the run fails."""
    team = team_restored
    drifted = yaml.safe_load(team.alertmanager_config_path.read_text())
    drifted["route"]["routes"][0]["routes"] = []  # storage criticals stay at storage-chat
    config = write(tmp_path / "alertmanager-in-git.yml", drifted)
    alertmanager = {
        "url": team.proxy_alertmanager_url,
        "auth": {"bearer_token": {"env": TOKEN_ENV}},
        "config_file": config.name,
    }
    path = write(
        tmp_path / "cache-down.yaml", experiment(team, _routed("CacheDown", "storage-chat"))
    )
    report = tmp_path / "report"
    run = run_with_yes(team, tmp_path, path, report, alertmanager=alertmanager)
    assert run.returncode == 1, run.stdout + run.stderr
    verdict = verdicts(result_of(report))["CacheDown routed to storage-chat within 25s"]
    assert not verdict["passed"]
    assert "routed it to storage-pager instead" in verdict["message"]
    assert team.redis_pid() is not None  # the rollback restarted it


def test_a_silenced_alert_fails_naming_the_silence(
    team_restored: TeamStack, tmp_path: Path
) -> None:
    team = team_restored
    path = write(
        tmp_path / "primary-lost.yaml",
        experiment(
            team,
            _routed("CachePrimaryLost", "storage-pager"),
            _routed("CacheDegraded", "storage-chat"),
        ),
    )
    report = tmp_path / "report"
    run = run_with_yes(team, tmp_path, path, report)
    assert run.returncode == 1, run.stdout + run.stderr
    found = verdicts(result_of(report))
    silenced = found["CachePrimaryLost routed to storage-pager within 25s"]["message"]
    assert f"silenced by silence {team.silence_id}" in silenced
    assert "planned failover drill" in silenced and "oncall@storage.example" in silenced
    inhibited = found["CacheDegraded routed to storage-chat within 25s"]["message"]
    assert "inhibited by CacheDown{" in inhibited


def test_preflight_refuses_an_unroutable_receiver_before_any_fault(
    team_restored: TeamStack, tmp_path: Path
) -> None:
    team = team_restored
    pid = team.redis_pid()
    path = write(
        tmp_path / "cache-down.yaml", experiment(team, _routed("CacheDown", "payments-pager"))
    )
    report = tmp_path / "report"
    run = run_with_yes(team, tmp_path, path, report)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "payments-pager" in run.stderr and "storage-pager" in run.stderr
    assert "nothing was injected" in run.stderr
    assert team.redis_pid() == pid and not report.exists()


def test_dry_run_shows_faults_and_routes_and_injects_nothing(
    team_restored: TeamStack, tmp_path: Path
) -> None:
    team = team_restored
    pid = team.redis_pid()
    path = write(
        tmp_path / "cache-down.yaml", experiment(team, _routed("CacheDown", "storage-pager"))
    )
    run = gameday(
        "run",
        str(path),
        "--target",
        str(target(team, tmp_path)),
        "--dry-run",
        token=team.token,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "fault: stop-cache  touches process:" in run.stdout
    assert "rollback: restart-cache-always" in run.stdout
    assert (
        "route [ok]: CacheDown" in run.stdout
        and "storage-pager (at route.routes[0].routes[0])" in run.stdout
    )
    assert "nothing was started or injected" in run.stdout
    time.sleep(2)  # an injected fault would have shown by now
    assert team.redis_pid() == pid
    assert not team.alertmanager_alerts('alertname="CacheDown"')
    assert not list(tmp_path.glob("reports"))


def test_credentials_are_checked(team_restored: TeamStack, tmp_path: Path) -> None:
    team = team_restored
    path = write(
        tmp_path / "cache-down.yaml", experiment(team, _routed("CacheDown", "storage-pager"))
    )
    target_file = target(team, tmp_path)
    unset = gameday("validate", str(path), "--target", str(target_file), token=None, cwd=tmp_path)
    assert unset.returncode == 2
    assert f"environment variable {TOKEN_ENV} is not set" in unset.stderr
    assert "prometheus.auth.bearer_token.env" in unset.stderr
    wrong = gameday(
        "run", str(path), "--target", str(target_file), "--yes", token="not-the-token", cwd=tmp_path
    )
    assert wrong.returncode == 3, wrong.stdout + wrong.stderr
    assert "401" in wrong.stderr
    assert team.redis_pid() is not None


def test_actions_outside_allow_are_refused(team_restored: TeamStack, tmp_path: Path) -> None:
    team = team_restored
    path = write(
        tmp_path / "cache-down.yaml", experiment(team, _routed("CacheDown", "storage-pager"))
    )
    narrow = target(team, tmp_path, allow=["process:/usr/bin/true *"])
    run = gameday(
        "run", str(path), "--target", str(narrow), "--yes", token=team.token, cwd=tmp_path
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "outside the blast radius" in run.stderr and "stop-cache" in run.stderr
    assert team.redis_pid() is not None


def test_without_yes_and_without_a_terminal_nothing_runs(
    team_restored: TeamStack, tmp_path: Path
) -> None:
    team = team_restored
    path = write(
        tmp_path / "cache-down.yaml", experiment(team, _routed("CacheDown", "storage-pager"))
    )
    run = gameday(
        "run", str(path), "--target", str(target(team, tmp_path)), token=team.token, cwd=tmp_path
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "--yes" in run.stderr
    assert team.redis_pid() is not None


def test_ctrl_c_during_the_fault_runs_the_rollback(
    team_restored: TeamStack, tmp_path: Path
) -> None:
    team = team_restored
    path = write(
        tmp_path / "cache-down.yaml",
        experiment(team, _routed("CacheDown", "nobody-expects-this-receiver", within_s=120)),
    )
    # The pre-flight would refuse an unknown receiver: name the routes' file of a stack
    # that has it, so the run starts and waits.
    config = yaml.safe_load(team.alertmanager_config_path.read_text())
    config["receivers"].append({"name": "nobody-expects-this-receiver"})
    config["route"]["routes"].insert(
        0, {"receiver": "nobody-expects-this-receiver", "matchers": ['alertname="CacheDown"']}
    )
    alertmanager = {
        "url": team.proxy_alertmanager_url,
        "auth": {"bearer_token": {"env": TOKEN_ENV}},
        "config_file": write(tmp_path / "am.yml", config).name,
    }
    report = tmp_path / "report"
    target_file = target(team, tmp_path, alertmanager=alertmanager)
    code, output = interrupt_mid_fault(
        ["run", str(path), "--target", str(target_file), "--yes", "--report-dir", str(report)],
        applied=lambda: team.redis_pid() is None,
        env={**os.environ, TOKEN_ENV: team.token},
        cwd=tmp_path,
    )
    assert code == 130, output
    assert team.redis_pid() is not None  # the rollback restarted the cache
    result = result_of(report)
    assert result["status"] == "interrupted"
    assert any(e["kind"] == "fault_reverted" for e in result["timeline"])


def test_the_pytest_plugin_runs_an_experiment_against_a_target(
    team_restored: TeamStack, tmp_path: Path
) -> None:
    team = team_restored
    path = write(
        tmp_path / "cache-down.yaml", experiment(team, _routed("CacheDown", "storage-pager"))
    )
    junit = tmp_path / "junit.xml"
    env = {**os.environ, TOKEN_ENV: team.token}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            str(path),
            "--gameday-target",
            str(target(team, tmp_path)),
            "--junitxml",
            str(junit),
            "--gameday-report-dir",
            str(tmp_path / "reports"),
        ],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        cwd=tmp_path,
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and suite.get("errors") == "0"
    names = {case.get("name") for case in suite.iter("testcase")}
    assert {"CacheDown-routed-to-storage-pager", "run"} <= names
