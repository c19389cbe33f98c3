from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gameday.observe.notifications import matching, notifications_from_webhook, read_notifications

PAYLOAD = {
    "version": "4",
    "receiver": "oncall-pager",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "RedisDown", "severity": "critical", "instance": "r:1"},
            "startsAt": "2026-01-01T00:00:00Z",
            "fingerprint": "abc",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "PodDown", "severity": "critical"},
            "startsAt": "2026-01-01T00:00:01Z",
            "fingerprint": "def",
        },
    ],
}


def test_a_webhook_becomes_one_record_per_alert() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    records = notifications_from_webhook("path-name", PAYLOAD, now)
    assert [(r["alertname"], r["status"], r["receiver"]) for r in records] == [
        ("RedisDown", "firing", "oncall-pager"),
        ("PodDown", "resolved", "oncall-pager"),
    ]
    assert records[0]["labels"]["instance"] == "r:1"
    assert records[0]["received_at"] == now.isoformat()


def test_a_payload_without_alerts_is_rejected() -> None:
    with pytest.raises(ValueError, match="alerts"):
        notifications_from_webhook("x", {"receiver": "x"}, datetime.now(UTC))


def test_matching_filters_by_every_criterion(tmp_path: Path) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    records = notifications_from_webhook("x", PAYLOAD, now)
    assert [r["alertname"] for r in matching(records, status="firing")] == ["RedisDown"]
    assert matching(records, receiver="team-chat") == []
    assert matching(records, since=now + timedelta(seconds=1)) == []
    assert len(matching(records, labels={"instance": "r:1"})) == 1


def test_reading_skips_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    path.write_text('{"alertname": "A"}\n{"alertname": "B"\n')
    assert [r["alertname"] for r in read_notifications(path)] == ["A"]
    assert list(read_notifications(tmp_path / "absent.jsonl")) == []
