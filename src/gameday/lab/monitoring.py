"""Prometheus and Alertmanager configuration for the lab, and promtool checks of rules."""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from gameday.errors import EnvironmentProblem, InvalidInputError
from gameday.lab.config import HOST, LabConfig
from gameday.lab.extras import runtime as extras

PAGER_RECEIVER = "oncall-pager"
CHAT_RECEIVER = "team-chat"
LAB_NAMESPACE = "lab"
PROMTOOL_TIMEOUT_S = 60
SCRAPE_INTERVAL_S = 1
EVALUATION_INTERVAL_S = 1


def lab_rules_dir() -> Path:
    return Path(str(resources.files("gameday.lab") / "assets" / "rules"))


def lab_rule_files() -> list[Path]:
    return sorted(path for path in lab_rules_dir().glob("*.rules.yml"))


def lab_rule_test_files() -> list[Path]:
    return sorted(lab_rules_dir().glob("*.rules.test.yml"))


def lab_runbook() -> Path:
    return Path(str(resources.files("gameday.lab") / "assets" / "runbook.md"))


def _target(port: int, **labels: str) -> dict[str, Any]:
    return {"targets": [f"{HOST}:{port}"], "labels": {"namespace": LAB_NAMESPACE, **labels}}


def prometheus_config(config: LabConfig, rule_files: list[Path]) -> dict[str, Any]:
    """prometheus.yml: 1 s scrape and evaluation, every lab part, alerts to Alertmanager."""
    ports = config.ports

    def job(name: str, *targets: dict[str, Any]) -> dict[str, Any]:
        return {"job_name": name, "static_configs": list(targets)}

    return {
        "global": {
            "scrape_interval": f"{SCRAPE_INTERVAL_S}s",
            "evaluation_interval": f"{EVALUATION_INTERVAL_S}s",
            "scrape_timeout": f"{SCRAPE_INTERVAL_S}s",
        },
        "rule_files": [str(path) for path in rule_files],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"{HOST}:{ports.alertmanager}"]}]}]
        },
        "scrape_configs": [
            job(
                "gateway",
                *(
                    _target(port, pod=f"gateway-{i}", deployment="gateway")
                    for i, port in enumerate(ports.gateway_metrics)
                ),
            ),
            job("redis", _target(ports.redis_exporter, deployment="redis")),
            job(
                "etcd",
                *(_target(port, member=f"etcd-{i}") for i, port in enumerate(ports.etcd_client)),
            ),
            job("peer-proxy", _target(ports.peer_proxy_control)),
            job("vision", _target(ports.vision, deployment="vision")),
            {**job("kube-state-metrics", _target(ports.replica_state)), "honor_labels": True},
            job("notification-sink", _target(ports.sink)),
            job("alertmanager", _target(ports.alertmanager)),
            job("prometheus", _target(ports.prometheus)),
            *extras.prometheus_jobs(config),
            {
                # Locust's client-side figures: present only while load runs.
                "job_name": "locust",
                "file_sd_configs": [
                    {"files": [str(config.load_targets_file)], "refresh_interval": "1s"}
                ],
            },
        ],
    }


def alertmanager_config(config: LabConfig) -> dict[str, Any]:
    """alertmanager.yml: critical pages on-call, warning goes to team chat; both into the sink."""

    def webhook(receiver: str) -> dict[str, Any]:
        return {
            "name": receiver,
            "webhook_configs": [
                {"url": config.url(config.ports.sink, f"/hook/{receiver}"), "send_resolved": True}
            ],
        }

    return {
        "route": {
            "receiver": CHAT_RECEIVER,
            "group_by": ["alertname"],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "1h",
            "routes": [
                {"matchers": ['severity="critical"'], "receiver": PAGER_RECEIVER},
                {"matchers": ['severity="warning"'], "receiver": CHAT_RECEIVER},
            ],
        },
        "receivers": [webhook(PAGER_RECEIVER), webhook(CHAT_RECEIVER)],
    }


def write_yaml(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        raise EnvironmentProblem(
            "promtool not found on PATH",
            hint="install it: apt-get install -y --no-install-recommends prometheus",
        )
    return found


def check_rule_files(paths: list[Path]) -> None:
    """Refuse rule files that promtool rejects, naming the file and promtool's reason."""
    for path in paths:
        if not path.is_file():
            raise InvalidInputError(
                "rule file not found", source=str(path), hint="check the path given to --rules"
            )
        result = subprocess.run(
            [_promtool(), "check", "rules", str(path)],
            capture_output=True,
            text=True,
            timeout=PROMTOOL_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise InvalidInputError(
                "promtool rejected the rules: " + " | ".join(detail[-5:]),
                source=str(path),
                hint="fix the rule file; `promtool check rules FILE` shows the same",
            )


def run_rule_unit_tests(paths: list[Path]) -> str:
    """Run `promtool test rules`; raise on failure, judged by its output, not its exit code.

    promtool 2.42 can print FAILED and still exit 0.
    """
    result = subprocess.run(
        [_promtool(), "test", "rules", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=PROMTOOL_TIMEOUT_S,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0 or "FAILED" in output or "SUCCESS" not in output:
        raise InvalidInputError(
            "promtool rule unit tests failed:\n" + output.strip(),
            source=" ".join(map(str, paths)),
            hint="run `promtool test rules` on the file to see each failing case",
        )
    return output
