"""The real lab: every part up, replicas restarted like a Deployment's, alerts fire and are
delivered to the right receiver, and resolve when the part comes back."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from gameday.lab import lifecycle
from gameday.lab.config import LabConfig
from gameday.lab.extras.runtime import expected_to_run, optional_groups
from gameday.lab.monitoring import CHAT_RECEIVER, PAGER_RECEIVER
from gameday.lab.replica_state import read_restarts
from gameday.lab.supervisor import SupervisorClient
from gameday.observe.notifications import Notification, matching, read_notifications
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import ActiveAlert, Prometheus

ALERT_TIMEOUT_S = 30


def _alert(lab: LabConfig, name: str, state: str) -> ActiveAlert | None:
    alerts = Prometheus(lab.prometheus_url).alerts()
    return next((a for a in alerts if a["alertname"] == name and a["state"] == state), None)


def _alert_gone(lab: LabConfig, name: str) -> bool | None:
    alerts = Prometheus(lab.prometheus_url).alerts()
    return True if all(a["alertname"] != name for a in alerts) else None


def _delivered(
    lab: LabConfig, name: str, receiver: str, status: str, since: datetime
) -> Notification | None:
    found = matching(
        read_notifications(lab.notifications_file),
        alertname=name,
        receiver=receiver,
        status=status,
        since=since,
    )
    return found[0] if found else None


@pytest.fixture
def supervisor(lab: LabConfig) -> Iterator[SupervisorClient]:
    """The lab's supervisor; every process it stopped is started again after the test."""
    client = SupervisorClient(lab.supervisor_url)
    yield client
    for info in client.processes():
        if info["statename"] != "RUNNING" and expected_to_run(lab, info["group"]):
            client.start(f"{info['group']}:{info['name']}")
    assert poll_until(lambda: _alert_gone(lab, "PodDown"), timeout_s=ALERT_TIMEOUT_S).met


def test_every_part_runs_and_every_target_is_up(lab: LabConfig) -> None:
    report = lifecycle.status(lab)
    optional = optional_groups(lab)
    parts = {row["part"] for row in report["processes"] if row["part"] not in optional}
    assert parts == {
        "gateway",
        "redis",
        "redis-exporter",
        "etcd",
        "peer-proxy",
        "replica-state",
        "prometheus",
        "alertmanager",
        "sink",
        "camera",
        "vision",
    }
    for row in report["processes"]:
        if expected_to_run(lab, row["part"]):
            assert row["state"] == "RUNNING" and row["pid"], row
        else:  # an opt-in part no test started yet
            assert row["state"] == "opt-in, not started", row

    # A part an earlier test restarted may miss a scrape or two: every target up again soon.
    def all_up() -> bool | None:
        targets = lifecycle.status(lab)["targets"]
        return (bool(targets) and all(t["health"] == "up" for t in targets)) or None

    assert poll_until(all_up, timeout_s=15, interval_s=0.5).met, lifecycle.status(lab)["targets"]
    gateways = [t for t in report["targets"] if t["job"] == "gateway"]
    assert len(gateways) == 3
    assert {t["job"] for t in report["targets"]} >= {"vision", "peer-proxy"}
    cameras = [row for row in report["processes"] if row["part"] == "camera"]
    assert [row["address"] for row in cameras] == lab.camera_urls


def test_gateway_serves_quota_on_redis_and_config_on_etcd(lab: LabConfig) -> None:
    base = lab.gateway_url
    first = requests.post(f"{base}/api/quota/acme/consume?units=5", timeout=5).json()
    second = requests.post(f"{base}/api/quota/acme/consume?units=2", timeout=5).json()
    assert second["used"] == first["used"] + 2
    written = requests.put(f"{base}/api/config/flag", data="on", timeout=5).json()
    read = requests.get(f"{base}/api/config/flag", timeout=5).json()
    assert read["value"] == "on" and read["revision"] == written["revision"]
    assert requests.get(f"{base}/api/config/absent", timeout=5).status_code == 404
    assert requests.get(f"{base}/healthz", timeout=5).json()["status"] == "ok"


def test_gateway_metrics_count_requests_by_route_and_code(lab: LabConfig) -> None:
    for _ in range(30):
        requests.get(f"{lab.gateway_url}/api/quota/metrics-test", timeout=5)
    prometheus = Prometheus(lab.prometheus_url)
    query = 'sum(gateway_requests_total{route="/api/quota/{tenant}",code="200",method="GET"})'
    assert poll_until(
        lambda: v if (v := prometheus.query_value(query)) and v >= 30 else None, timeout_s=10
    ).met
    assert prometheus.query_value("count(gateway_request_duration_seconds_bucket)")


def test_a_killed_replica_is_restarted_and_counted(
    lab: LabConfig, supervisor: SupervisorClient
) -> None:
    before = supervisor.process("gateway:gateway-0")
    os.kill(before["pid"], signal.SIGKILL)
    restarted = poll_until(
        lambda: (
            info
            if (info := supervisor.process("gateway:gateway-0"))["statename"] == "RUNNING"
            and info["pid"] != before["pid"]
            else None
        ),
        timeout_s=15,
    )
    assert restarted.met, "supervisord did not restart the killed replica"
    assert poll_until(
        lambda: True if read_restarts(lab).get("gateway-0", 0) >= 1 else None, timeout_s=5
    ).met


def test_two_replicas_down_pages_oncall_and_resolves_when_back(
    lab: LabConfig, supervisor: SupervisorClient
) -> None:
    since = datetime.now(UTC)
    supervisor.stop("gateway:gateway-1")
    supervisor.stop("gateway:gateway-2")
    # A stopped replica stays stopped, unlike a killed one.
    assert supervisor.process("gateway:gateway-1")["statename"] == "STOPPED"
    assert poll_until(lambda: _alert(lab, "PodDown", "firing"), timeout_s=ALERT_TIMEOUT_S).met
    paged = poll_until(
        lambda: _delivered(lab, "PodDown", PAGER_RECEIVER, "firing", since), timeout_s=10
    )
    assert paged.met, "PodDown fired but never reached the on-call pager"
    assert paged.value is not None and paged.value["labels"]["deployment"] == "gateway"
    # The same outage reaches team chat as a warning, not the pager.
    assert poll_until(
        lambda: _delivered(lab, "DeploymentReplicasMismatch", CHAT_RECEIVER, "firing", since),
        timeout_s=10,
    ).met
    assert _delivered(lab, "DeploymentReplicasMismatch", PAGER_RECEIVER, "firing", since) is None
    supervisor.start("gateway:gateway-1")
    supervisor.start("gateway:gateway-2")
    assert poll_until(
        lambda: _delivered(lab, "PodDown", PAGER_RECEIVER, "resolved", since),
        timeout_s=ALERT_TIMEOUT_S,
    ).met


def test_redis_stopped_pages_redisdown_and_resolves_when_back(
    lab: LabConfig, supervisor: SupervisorClient
) -> None:
    since = datetime.now(UTC)
    supervisor.stop("redis:redis")
    response = requests.post(f"{lab.gateway_url}/api/quota/acme/consume", timeout=5)
    assert response.status_code == 503 and "redis" in response.json()["error"]
    assert poll_until(lambda: _alert(lab, "RedisDown", "firing"), timeout_s=ALERT_TIMEOUT_S).met
    assert poll_until(
        lambda: _delivered(lab, "RedisDown", PAGER_RECEIVER, "firing", since), timeout_s=10
    ).met
    supervisor.start("redis:redis")
    assert poll_until(
        lambda: _delivered(lab, "RedisDown", PAGER_RECEIVER, "resolved", since),
        timeout_s=ALERT_TIMEOUT_S,
    ).met
    assert requests.post(f"{lab.gateway_url}/api/quota/acme/consume", timeout=5).ok


def test_the_sink_answers_queries_over_http(lab: LabConfig) -> None:
    records = requests.get(f"{lab.sink_url}/notifications?receiver=nobody", timeout=5).json()
    assert records == []
    every = requests.get(f"{lab.sink_url}/notifications", timeout=5).json()
    assert every == [json.loads(json.dumps(r)) for r in read_notifications(lab.notifications_file)]
