"""The team-like stack behaves like a team's own monitoring: real redis, exporter, Prometheus,
Alertmanager (routing tree, inhibition, silence), webhook receivers and a token-guarded proxy.

Nothing is mocked: redis is shut down with the stack's own stop command and brought back with
its start command, and every assertion reads what the real components answer.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from tests.team_stack import (
    RULE_GROUP,
    SCRAPE_JOB,
    SILENCE_COMMENT,
    SILENCE_CREATED_BY,
    TeamStack,
    http_json,
)

pytestmark = pytest.mark.team_stack

OUTAGE_DEADLINE_S = 15.0


def _status_of(
    url: str,
    *,
    token: str | None,
    method: str = "GET",
    body: bytes | None = None,
    content_type: str | None = None,
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if content_type is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _poll(check: Callable[[], tuple[bool, Any]], timeout_s: float) -> tuple[bool, Any, float]:
    """Call ``check`` until it says done; returns (done, last observation, seconds taken)."""
    start = time.monotonic()
    done, seen = check()
    while not done and time.monotonic() - start < timeout_s:
        time.sleep(0.2)
        done, seen = check()
    return done, seen, time.monotonic() - start


def _alerts_by_name(alerts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {alert["labels"]["alertname"]: alert for alert in alerts}


def _delivered(team: TeamStack, receiver: str | None, alertname: str, status: str) -> bool:
    return any(
        alert["labels"].get("alertname") == alertname and alert["status"] == status
        for delivery in team.deliveries(receiver)
        for alert in delivery["payload"].get("alerts", [])
    )


def test_the_stack_starts_healthy_with_the_team_rules_and_the_silence(team: TeamStack) -> None:
    assert team.prometheus_query(f'redis_up{{job="{SCRAPE_JOB}"}}')[0]["value"][1] == "1"
    assert team.redis_pid() is not None, "redis must run daemonized with the stack's pidfile"

    groups = http_json(f"{team.prometheus_url}/api/v1/rules")["data"]["groups"]
    assert [group["name"] for group in groups] == [RULE_GROUP]
    rules = {rule["name"]: rule for rule in groups[0]["rules"]}
    assert {"CacheDown", "CacheDegraded", "CachePrimaryLost"} <= set(rules)
    assert len(rules) >= 5, "the team also has quiet alerts"
    assert all(rule["state"] == "inactive" for rule in rules.values())
    assert rules["CacheDown"]["labels"] == {
        "severity": "critical",
        "team": "storage",
        "service": "cache",
    }
    assert rules["CacheDown"]["annotations"]["runbook_url"].startswith("https://")

    silence = http_json(f"{team.alertmanager_url}/api/v2/silence/{team.silence_id}")
    assert silence["status"]["state"] == "active"
    assert silence["createdBy"] == SILENCE_CREATED_BY
    assert silence["comment"] == SILENCE_COMMENT
    assert silence["matchers"] == [
        {"name": "alertname", "value": "CachePrimaryLost", "isRegex": False, "isEqual": True}
    ]
    length = datetime.fromisoformat(silence["endsAt"]) - datetime.fromisoformat(silence["startsAt"])
    assert abs(length.total_seconds() - 2 * 3600) < 60
    assert team.alertmanager_alerts() == []
    assert team.deliveries() == []


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["team=storage", "severity=critical"], "storage-pager"),
        (["team=storage", "severity=page"], "storage-pager"),
        (["team=storage", "severity=warning"], "storage-chat"),
        (["team=payments", "severity=critical"], "payments-pager"),
        (["team=search", "severity=critical"], "ops-default"),
    ],
)
def test_the_routing_tree_is_a_nested_team_tree(
    team: TeamStack, labels: list[str], receiver: str
) -> None:
    amtool = shutil.which("amtool")
    assert amtool is not None, "amtool ships with prometheus-alertmanager"
    result = subprocess.run(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={team.alertmanager_config_path}",
            f"--verify.receivers={receiver}",
            *labels,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("which", ["prometheus", "alertmanager"])
def test_the_proxies_require_the_bearer_token(team: TeamStack, which: str) -> None:
    proxy = team.proxy_prometheus_url if which == "prometheus" else team.proxy_alertmanager_url
    direct = team.prometheus_url if which == "prometheus" else team.alertmanager_url
    path = "/api/v1/status/buildinfo" if which == "prometheus" else "/api/v2/status"

    assert _status_of(proxy + path, token=None)[0] == 401
    assert _status_of(proxy + path, token="0" * 32)[0] == 401
    assert _status_of(proxy + path, token=team.token[:-1])[0] == 401
    status, body = _status_of(proxy + path, token=team.token)
    assert status == 200
    direct_status, direct_body = _status_of(direct + path, token=None)
    assert direct_status == 200
    if which == "prometheus":
        assert json.loads(body) == json.loads(direct_body)
    else:  # uptime and cluster fields aside, the same Alertmanager answers
        assert json.loads(body)["config"] == json.loads(direct_body)["config"]


def test_the_prometheus_proxy_forwards_query_strings_and_bodies(team: TeamStack) -> None:
    query = urllib.parse.urlencode({"query": f'redis_up{{job="{SCRAPE_JOB}"}}'})
    status, body = _status_of(f"{team.proxy_prometheus_url}/api/v1/query?{query}", token=team.token)
    assert status == 200
    assert json.loads(body)["data"]["result"][0]["metric"]["__name__"] == "redis_up"

    form = urllib.parse.urlencode({"query": "count(up)"}).encode()
    status, body = _status_of(
        f"{team.proxy_prometheus_url}/api/v1/query",
        token=team.token,
        method="POST",
        body=form,
        content_type="application/x-www-form-urlencoded",
    )
    assert status == 200
    assert json.loads(body)["data"]["result"][0]["value"][1] == "1"


def test_the_alertmanager_proxy_forwards_post_and_delete(team: TeamStack) -> None:
    silence = {
        "matchers": [{"name": "alertname", "value": "NoSuchAlert", "isRegex": False}],
        "startsAt": "2020-01-01T00:00:00Z",
        "endsAt": "2099-01-01T00:00:00Z",
        "createdBy": "proxy-test",
        "comment": "through the proxy",
    }
    status, body = _status_of(
        f"{team.proxy_alertmanager_url}/api/v2/silences",
        token=team.token,
        method="POST",
        body=json.dumps(silence).encode(),
        content_type="application/json",
    )
    assert status == 200, body
    silence_id = json.loads(body)["silenceID"]
    status, _ = _status_of(
        f"{team.proxy_alertmanager_url}/api/v2/silence/{silence_id}", token=None, method="DELETE"
    )
    assert status == 401
    status, _ = _status_of(
        f"{team.proxy_alertmanager_url}/api/v2/silence/{silence_id}",
        token=team.token,
        method="DELETE",
    )
    assert status == 200
    expired = http_json(f"{team.alertmanager_url}/api/v2/silence/{silence_id}")
    assert expired["status"]["state"] == "expired"


def test_a_redis_outage_pages_storage_inhibits_degraded_silences_primary_then_recovers(
    team_restored: TeamStack, record_property: Callable[[str, object], None]
) -> None:
    team = team_restored
    old_pid = team.redis_pid()
    assert old_pid is not None
    before = len(team.deliveries())

    stopped_wall = time.time()
    subprocess.run(team.redis_stop_command(), check=True, timeout=10, capture_output=True)

    def outage_seen() -> tuple[bool, Any]:
        firing = team.prometheus_query('ALERTS{alertname="CacheDown", alertstate="firing"}')
        alerts = _alerts_by_name(team.alertmanager_alerts())
        down = alerts.get("CacheDown", {})
        degraded = alerts.get("CacheDegraded", {})
        primary = alerts.get("CachePrimaryLost", {})
        seen: dict[str, Any] = {
            "prometheus_firing": bool(firing),
            "down": down.get("status"),
            "down_receivers": [r["name"] for r in down.get("receivers", [])],
            "degraded": degraded.get("status"),
            "primary": primary.get("status"),
            "paged": _delivered(team, "storage-pager", "CacheDown", "firing"),
        }
        done = bool(
            seen["prometheus_firing"]
            and seen["down"] == {"state": "active", "silencedBy": [], "inhibitedBy": []}
            and seen["down_receivers"] == ["storage-pager"]
            and bool(degraded)
            and degraded["status"]["state"] == "suppressed"
            and degraded["status"]["inhibitedBy"] == [down["fingerprint"]]
            and bool(primary)
            and primary["status"]["state"] == "suppressed"
            and primary["status"]["silencedBy"] == [team.silence_id]
            and seen["paged"]
        )
        return done, seen

    done, seen, took = _poll(outage_seen, OUTAGE_DEADLINE_S)
    record_property("outage_detected_s", round(took, 2))
    assert done, f"not seen within {OUTAGE_DEADLINE_S} s after the stop command: {seen}"

    # The filter wait_quiet relies on does find these alerts (it is not vacuously empty).
    assert len(team.alertmanager_alerts('alertname=~"Cache.*"')) == 3
    time.sleep(2)  # two more group_intervals: anything wrongly routed would arrive by now

    new = team.deliveries()[before:]
    pairs = {
        (delivery["receiver"], alert["labels"]["alertname"])
        for delivery in new
        for alert in delivery["payload"]["alerts"]
    }
    assert pairs == {("storage-pager", "CacheDown")}, new
    assert all(d["payload"]["receiver"] == d["receiver"] for d in new)
    paged = next(d for d in new if d["receiver"] == "storage-pager")
    assert paged["payload"]["commonLabels"]["team"] == "storage"
    assert paged["payload"]["commonLabels"]["cluster"] == "storage-eu-1"
    paged_after = paged["received_at"] - stopped_wall
    record_property("paged_after_stop_s", round(paged_after, 2))
    assert 0 < paged_after < OUTAGE_DEADLINE_S

    subprocess.run(team.redis_start_command(), check=True, timeout=10, capture_output=True)
    restarted_at = time.monotonic()
    team.wait_redis_up(timeout_s=10)
    new_pid = team.redis_pid()
    assert new_pid is not None and new_pid != old_pid

    def resolved() -> tuple[bool, Any]:
        return _delivered(team, "storage-pager", "CacheDown", "resolved"), None

    done, _, took = _poll(resolved, 10)
    assert done, "the pager never got the resolved notification"
    record_property("resolved_after_restart_s", round(time.monotonic() - restarted_at, 2))
    team.wait_quiet(timeout_s=30)
    assert not any(
        alert["labels"]["alertname"] in {"CachePrimaryLost", "CacheDegraded"}
        for delivery in team.deliveries()
        for alert in delivery["payload"]["alerts"]
    )
