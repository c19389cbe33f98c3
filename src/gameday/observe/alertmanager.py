"""Alertmanager's API v2, as any Alertmanager serves it: the alerts it holds with the
receivers it routes each to and whether it is silenced or inhibited, silences, its
configuration, and its own notification counters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from gameday.errors import EnvironmentProblem
from gameday.observe.http import PLAIN, HttpSettings

REQUEST_TIMEOUT_S = 5
NOTIFICATIONS = "alertmanager_notifications"
FAILED = "alertmanager_notifications_failed"


@dataclass(frozen=True)
class HeldAlert:
    """One alert as Alertmanager holds it: where it routes it and why it is quiet."""

    labels: dict[str, str]
    receivers: tuple[str, ...]
    state: str  # active | suppressed | unprocessed
    silenced_by: tuple[str, ...]
    inhibited_by: tuple[str, ...]
    starts_at: str
    fingerprint: str

    @property
    def alertname(self) -> str:
        return self.labels.get("alertname", "")


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[str, ...]
    created_by: str
    comment: str
    ends_at: str

    def describe(self) -> str:
        return (
            f"silence {self.id} ({', '.join(self.matchers)}; by {self.created_by or '?'}: "
            f"{self.comment!r}, until {self.ends_at})"
        )


@dataclass(frozen=True)
class DeliveryCounters:
    """Alertmanager's notification counters: attempts and failures per integration
    (and per receiver where this Alertmanager labels them by receiver)."""

    attempted: dict[tuple[str, str], float]  # (integration, receiver or "") -> count
    failed: dict[tuple[str, str], float]

    def total(self, which: str, integrations: tuple[str, ...], receiver: str | None) -> float:
        counts = self.attempted if which == "attempted" else self.failed
        by_receiver = any(name for _, name in counts)
        return sum(
            value
            for (integration, name), value in counts.items()
            if integration in integrations and (not by_receiver or name == receiver)
        )

    @property
    def per_receiver(self) -> bool:
        return any(name for _, name in self.attempted)


class Alertmanager:
    def __init__(
        self, url: str, *, timeout: float = REQUEST_TIMEOUT_S, http: HttpSettings = PLAIN
    ) -> None:
        self.url = url.rstrip("/")
        self._session = http.session()
        self._timeout = timeout

    def _get(self, path: str, what: str, params: Mapping[str, str] | None = None) -> Any:
        try:
            response = self._session.get(
                f"{self.url}{path}", params=dict(params or {}), timeout=self._timeout
            )
            response.raise_for_status()
        except requests.RequestException as exc:
            raise EnvironmentProblem(
                f"alertmanager at {self.url} did not answer {what}: {exc}",
                hint="check the target's alertmanager url and credentials",
            ) from exc
        return response.json() if path.startswith("/api/") else response.text

    def alerts(self, alertname: str | None = None) -> list[HeldAlert]:
        """Every alert it holds (active, silenced, inhibited and unprocessed)."""
        params = {"active": "true", "silenced": "true", "inhibited": "true"}
        if alertname:
            params["filter"] = f'alertname="{alertname}"'
        return [_held(raw) for raw in self._get("/api/v2/alerts", "for its alerts", params)]

    def silence(self, silence_id: str) -> Silence:
        raw = self._get(f"/api/v2/silence/{silence_id}", f"for silence {silence_id}")
        return Silence(
            id=str(raw.get("id", silence_id)),
            matchers=tuple(_matcher(m) for m in raw.get("matchers") or []),
            created_by=str(raw.get("createdBy", "")),
            comment=str(raw.get("comment", "")),
            ends_at=str(raw.get("endsAt", "")),
        )

    def config_text(self) -> str:
        """The configuration it runs, as YAML (from /api/v2/status)."""
        status = self._get("/api/v2/status", "for its status")
        return str((status.get("config") or {}).get("original") or "")

    def counters(self) -> DeliveryCounters:
        text = self._get("/metrics", "for its metrics")
        attempted: dict[tuple[str, str], float] = {}
        failed: dict[tuple[str, str], float] = {}
        for family in text_string_to_metric_families(text):
            counts = {NOTIFICATIONS: attempted, FAILED: failed}.get(family.name)
            if counts is None:
                continue
            for sample in family.samples:
                if not sample.name.endswith("_total"):
                    continue
                key = (
                    sample.labels.get("integration", ""),
                    sample.labels.get("receiver_name", sample.labels.get("receiver", "")),
                )
                counts[key] = counts.get(key, 0.0) + sample.value
        return DeliveryCounters(attempted=attempted, failed=failed)

    def ready(self) -> bool:
        try:
            return self._session.get(f"{self.url}/-/ready", timeout=self._timeout).ok
        except requests.RequestException:
            return False


def _held(raw: Mapping[str, Any]) -> HeldAlert:
    status = raw.get("status") or {}
    return HeldAlert(
        labels={str(k): str(v) for k, v in (raw.get("labels") or {}).items()},
        receivers=tuple(str(r.get("name", "")) for r in raw.get("receivers") or []),
        state=str(status.get("state", "")),
        silenced_by=tuple(str(s) for s in status.get("silencedBy") or []),
        inhibited_by=tuple(str(s) for s in status.get("inhibitedBy") or []),
        starts_at=str(raw.get("startsAt", "")),
        fingerprint=str(raw.get("fingerprint", "")),
    )


def _matcher(raw: Mapping[str, Any]) -> str:
    op = ("=" if raw.get("isEqual", True) else "!") + ("~" if raw.get("isRegex") else "")
    op = {"=": "=", "=~": "=~", "!": "!=", "!~": "!~"}[op]
    return f'{raw.get("name")}{op}"{raw.get("value")}"'
