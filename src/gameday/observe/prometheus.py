"""Prometheus, through prometheus-api-client: instant queries, targets and alerts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, TypedDict

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from gameday.errors import EnvironmentProblem
from gameday.observe.http import PLAIN, HttpSettings

REQUEST_TIMEOUT_S = 5


class TargetHealth(TypedDict):
    job: str
    instance: str
    health: str
    last_error: str
    labels: dict[str, str]


class ActiveAlert(TypedDict):
    """An alert as Prometheus' /api/v1/alerts reports it (pending or firing)."""

    alertname: str
    state: str
    active_at: str
    labels: dict[str, str]
    value: str


class Prometheus:
    """A Prometheus server's HTTP API with timeouts and no silent retries."""

    def __init__(
        self, url: str, *, timeout: float = REQUEST_TIMEOUT_S, http: HttpSettings = PLAIN
    ) -> None:
        self.url = url.rstrip("/")
        self._session = http.session()
        # No retries: gameday polls with its own deadlines, and a retry with
        # back-off would blur the timestamps it measures.
        self._client = PrometheusConnect(
            url=self.url,
            retry=Retry(total=0),
            timeout=timeout,
            session=self._session,
            headers=http.headers or None,
            auth=http.basic_auth,
        )
        self._timeout = timeout

    def get(self, path: str, **params: str) -> requests.Response:
        """A GET on the API with this server's credentials; raises for HTTP errors."""
        response = self._session.get(f"{self.url}{path}", params=params, timeout=self._timeout)
        response.raise_for_status()
        return response

    def _fail(self, what: str, exc: Exception) -> EnvironmentProblem:
        return EnvironmentProblem(
            f"prometheus at {self.url} did not answer {what}: {exc}",
            hint="is it up? for the lab, `gameday lab status` shows each part",
        )

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query; the raw result vector."""
        try:
            result: list[dict[str, Any]] = self._client.custom_query(promql)
        except (requests.RequestException, PrometheusApiClientException) as exc:
            raise self._fail(f"the query {promql!r}", exc) from exc
        return result

    def query_value(self, promql: str) -> float | None:
        """The value of a query that yields one sample; None when it yields none."""
        result = self.query(promql)
        if not result:
            return None
        return float(result[0]["value"][1])

    def targets(self) -> list[TargetHealth]:
        try:
            data = self._client.get_targets(state="active")
        except (requests.RequestException, PrometheusApiClientException) as exc:
            raise self._fail("for its targets", exc) from exc
        return [
            TargetHealth(
                job=str(target["labels"].get("job", "")),
                instance=str(target["labels"].get("instance", "")),
                health=str(target.get("health", "unknown")),
                last_error=str(target.get("lastError", "")),
                labels={str(k): str(v) for k, v in target["labels"].items()},
            )
            for target in data.get("activeTargets", [])
        ]

    def alerts(self) -> list[ActiveAlert]:
        """Alerts that are pending or firing now."""
        try:
            response = self.get("/api/v1/alerts")
        except requests.RequestException as exc:
            raise self._fail("for its alerts", exc) from exc
        return [
            ActiveAlert(
                alertname=str(alert["labels"].get("alertname", "")),
                state=str(alert["state"]),
                active_at=str(alert.get("activeAt", "")),
                labels={str(k): str(v) for k, v in alert["labels"].items()},
                value=str(alert.get("value", "")),
            )
            for alert in response.json()["data"]["alerts"]
        ]

    def alerting_rules(self) -> list[tuple[str, dict[str, str]]]:
        """Every alerting rule it evaluates: (alert name, its static labels)."""
        try:
            groups = self.get("/api/v1/rules", type="alert").json()["data"]["groups"]
        except (requests.RequestException, KeyError, ValueError) as exc:
            raise self._fail("for its rules", exc) from exc
        return [
            (str(rule["name"]), {str(k): str(v) for k, v in (rule.get("labels") or {}).items()})
            for group in groups
            for rule in group.get("rules", [])
            if rule.get("type", "alerting") == "alerting"
        ]

    def reachable(self) -> bool:
        try:
            return self.get("/-/ready").status_code == 200
        except requests.RequestException:
            return False

    def answers(self) -> str | None:
        """None when the API answers a query; else why not (refused, 401, TLS, ...)."""
        try:
            self.get("/api/v1/query", query="1")
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            if status in (401, 403):
                return f"HTTP {status}: the credentials were refused"
            return f"HTTP {status}"
        except requests.RequestException as exc:
            return f"{type(exc).__name__}: {exc}"
        return None


_FRACTION = re.compile(r"\.(\d+)")


def parse_timestamp(text: str) -> datetime | None:
    """An RFC 3339 time as Prometheus and Alertmanager write it (nanoseconds, `Z`), or
    None when it is empty or unreadable (Go's zero time included)."""
    if not text or text.startswith("0001-01-01"):
        return None
    cleaned = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text.strip())
    try:
        moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def active_before(alert: ActiveAlert, moment: datetime) -> float | None:
    """How many seconds before `moment` this alert instance became active (pending), per
    Prometheus' activeAt; None when it became active at or after `moment` (or no time)."""
    since = parse_timestamp(alert["active_at"])
    if since is None or since >= moment:
        return None
    return (moment - since).total_seconds()
