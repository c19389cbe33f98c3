"""Delivered notifications: the record the sink writes and the reader that queries it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict


class Notification(TypedDict):
    """One alert in one webhook delivery, as Alertmanager sent it to a receiver."""

    received_at: str
    receiver: str
    alertname: str
    status: str
    severity: str
    labels: dict[str, str]
    starts_at: str
    fingerprint: str


def notifications_from_webhook(
    receiver: str, payload: Mapping[str, Any], received_at: datetime
) -> list[Notification]:
    """Split an Alertmanager webhook payload (version 4) into one record per alert."""
    records: list[Notification] = []
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise ValueError("webhook payload has no 'alerts' list")
    for alert in alerts:
        labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
        records.append(
            Notification(
                received_at=received_at.isoformat(),
                receiver=str(payload.get("receiver") or receiver),
                alertname=labels.get("alertname", ""),
                status=str(alert.get("status", payload.get("status", ""))),
                severity=labels.get("severity", ""),
                labels=labels,
                starts_at=str(alert.get("startsAt", "")),
                fingerprint=str(alert.get("fingerprint", "")),
            )
        )
    return records


def read_notifications(path: Path) -> Iterator[Notification]:
    """Every delivery recorded in a sink file, oldest first; a torn last line is skipped."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def matching(
    records: Iterable[Notification],
    *,
    alertname: str | None = None,
    receiver: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    labels: Mapping[str, str] | None = None,
) -> list[Notification]:
    """The records that match every given criterion."""
    found: list[Notification] = []
    for record in records:
        if alertname is not None and record["alertname"] != alertname:
            continue
        if receiver is not None and record["receiver"] != receiver:
            continue
        if status is not None and record["status"] != status:
            continue
        if since is not None and datetime.fromisoformat(record["received_at"]) < since:
            continue
        if labels and any(record["labels"].get(k) != v for k, v in labels.items()):
            continue
        found.append(record)
    return found
