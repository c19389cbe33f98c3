"""A team's production rules in the real lab, in compressed time: the Creto runbook's rules
(extracted from the runbook, `namespace: creto-enablement` mapped to the lab's, K=60, the
lab's own rules replaced) fire on the lab's faults and page on-call.

RedisDown says `for: 1m` (1 s here) and PodDown `for: 2m` (2 s here). This test starts a lab
of its own (the session's `lab` runs the lab's own rules), away from the session's ports.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gameday.lab import lifecycle
from gameday.lab.config import LabConfig, LabPorts
from gameday.lab.monitoring import PAGER_RECEIVER
from gameday.lab.profile import read_profile
from gameday.lab.supervisor import SupervisorClient
from gameday.lab.time_scale import dump_rules
from gameday.observe.notifications import Notification, matching, read_notifications
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import ActiveAlert, Prometheus
from gameday.runbook import parse_runbook
from gameday.runbook.rules import rule_file_document

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
CRETO = SEEDS / "creto-enablement-runbook.md"
BASE_PORT = int(os.environ.get("GAMEDAY_TEST_BASE_PORT", "27800")) + 200
TIMEOUT_S = 30

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(not CRETO.is_file(), reason=f"seed runbooks not present at {SEEDS}"),
]

PROFILE = """\
system: creto
rules: [creto.rules.yml]
time_scale: 60
labels: {namespace: {creto-enablement: lab}}
replace_lab_rules: true
not_exercised:
  QuotaCheckSlow: no lab part exports metering_quota_check_duration_seconds
"""


def _firing(prometheus: Prometheus, name: str, **labels: str) -> ActiveAlert | None:
    return next(
        (
            alert
            for alert in prometheus.alerts()
            if alert["alertname"] == name
            and alert["state"] == "firing"
            and all(alert["labels"].get(k) == v for k, v in labels.items())
        ),
        None,
    )


def _paged(config: LabConfig, name: str, since: datetime, **labels: str) -> Notification | None:
    found = matching(
        read_notifications(config.notifications_file),
        alertname=name,
        receiver=PAGER_RECEIVER,
        status="firing",
        since=since,
        labels=labels,
    )
    return found[0] if found else None


def _gone(prometheus: Prometheus, name: str, **labels: str) -> bool | None:
    active = [
        alert
        for alert in prometheus.alerts()
        if alert["alertname"] == name
        and all(alert["labels"].get(k) == v for k, v in labels.items())
    ]
    return True if not active else None


def test_creto_rules_at_k60_fire_on_lab_faults_and_page_oncall(tmp_path: Path) -> None:
    rules = parse_runbook(CRETO).rules
    (tmp_path / "creto.rules.yml").write_text(
        dump_rules(rule_file_document(rules), [f"from {CRETO}"]), encoding="utf-8"
    )
    (tmp_path / "creto.profile.yml").write_text(PROFILE)
    profile = read_profile(tmp_path / "creto.profile.yml")
    config = profile.lab_config(tmp_path / "lab", LabPorts.from_base(BASE_PORT))
    try:
        lifecycle.up(config)
        prometheus = Prometheus(config.prometheus_url)
        supervisor = SupervisorClient(config.supervisor_url)

        # only Creto's rules run, at K=60, and the lab says so
        loaded = {name for name, _ in prometheus.alerting_rules()}
        assert loaded == {rule.name for rule in rules}
        assert "ConsensusNoLeader" not in loaded  # the lab's own rules were replaced
        durations = {
            rule["name"]: rule["duration"]
            for group in prometheus.get("/api/v1/rules").json()["data"]["groups"]
            for rule in group["rules"]
        }
        assert (durations["RedisDown"], durations["PodDown"]) == (1, 2)
        status = lifecycle.status(config)
        assert (status["system"], status["time_scale"]) == ("creto", 60)
        assert status["rules"] is not None and any(
            "raised to 1s" in note for note in status["rules"]["notes"]
        )
        assert _firing(prometheus, "RedisDown") is None

        # Redis down: Creto's RedisDown (for: 1m → 1s) fires and pages on-call
        fault = datetime.now(UTC)
        supervisor.stop("redis:redis")
        try:
            fired = poll_until(lambda: _firing(prometheus, "RedisDown"), timeout_s=TIMEOUT_S)
            assert fired.met, "Creto's RedisDown did not fire with redis stopped"
            assert fired.value is not None and fired.value["labels"]["namespace"] == "lab"
            paged = poll_until(lambda: _paged(config, "RedisDown", fault), timeout_s=TIMEOUT_S)
            assert paged.met, f"RedisDown was not delivered to {PAGER_RECEIVER}"
        finally:
            supervisor.start("redis:redis")
        assert poll_until(lambda: _gone(prometheus, "RedisDown"), timeout_s=TIMEOUT_S).met

        # 2 of 3 gateway replicas down: Creto's PodDown (for: 2m → 2s) for the gateway
        assert _firing(prometheus, "PodDown", deployment="gateway") is None
        fault = datetime.now(UTC)
        supervisor.stop("gateway:gateway-1")
        supervisor.stop("gateway:gateway-2")
        try:
            fired = poll_until(
                lambda: _firing(prometheus, "PodDown", deployment="gateway"), timeout_s=TIMEOUT_S
            )
            assert fired.met, "Creto's PodDown did not fire with 2 of 3 gateways stopped"
            paged = poll_until(
                lambda: _paged(config, "PodDown", fault, deployment="gateway"),
                timeout_s=TIMEOUT_S,
            )
            assert paged.met, f"PodDown (gateway) was not delivered to {PAGER_RECEIVER}"
        finally:
            supervisor.start("gateway:gateway-1")
            supervisor.start("gateway:gateway-2")
        assert poll_until(
            lambda: _gone(prometheus, "PodDown", deployment="gateway"), timeout_s=TIMEOUT_S
        ).met
    finally:
        lifecycle.down(config)
