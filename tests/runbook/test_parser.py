"""Runbook styles beyond the seeds: the lab's own table style, heading alerts, front matter,
and refusing what holds nothing usable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameday.errors import EXIT_INVALID_INPUT, InvalidInputError
from gameday.runbook import RUNBOOK_SCHEMA, parse_runbook, parse_runbook_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runbook"


def test_lab_style_alert_table() -> None:
    runbook = parse_runbook(FIXTURES / "lab-runbook.md")
    assert [(a.name, a.severity, a.response_time_s, a.procedure) for a in runbook.alerts] == [
        ("RedisDown", "critical", 300.0, "Redis down"),
        ("ApiHighErrorRate", "critical", 300.0, "API errors"),
        ("ApiReplicasLow", "warning", 900.0, "API replicas"),
        ("EtcdNoLeader", "critical", 300.0, "Consensus partition"),
    ]
    redis = runbook.alert("RedisDown")
    assert redis is not None
    assert redis.meaning == "Redis does not answer PING for 30s"
    assert redis.sources == ["table"]


def test_lab_style_slos_procedures_escalation() -> None:
    runbook = parse_runbook(FIXTURES / "lab-runbook.md")
    assert [(s.kind, s.value) for s in runbook.slos] == [
        ("availability", 0.995),
        ("latency", 0.3),
        ("error_rate", 0.01),
        ("mttd", 120.0),
        ("mttr", 600.0),
    ]
    assert runbook.slos[1].quantile == 0.99
    assert runbook.slos[0].measurement == "30 days"
    redis = runbook.procedure("Redis down")
    assert redis is not None
    assert redis.anchor == "redis-down"
    assert [(s.text, [c.text for c in s.commands]) for s in redis.steps] == [
        ("Confirm Redis is down:", ["redis-cli -p 6379 PING"]),
        ("Restart Redis:", ["gameday lab restart redis"]),
        ("Check that the API error rate falls below 1%.", []),
    ]
    assert [p.title for p in runbook.procedures] == [
        "Redis down",
        "API errors",
        "API replicas",
        "Consensus partition",
    ]
    assert [(e.level, e.name, e.response_time_s) for e in runbook.escalation] == [
        (1, "on-call SRE", 0.0),
        (2, "team lead", 900.0),
    ]
    assert [t.condition for t in runbook.rollback_triggers] == [
        "errors started with it",
        "Error rate above 5% for 5 minutes after a deploy",
        "p99 latency above 1s for 10 minutes",
    ]
    assert [s.name for s in runbook.services] == ["api", "redis", "etcd"]


HEADING_STYLE = """\
---
title: not a heading
owner: team
---
# Payments runbook

## Alerts

### PaymentsLatencyHigh

p99 latency of payment authorisation is above 2s.

- **Severity:** page
- **Response time:** 10 minutes
- **Threshold:** p99 > 2s
- **Dashboard:** Payments overview

1. Check the PSP status page.
2. Fail over to the secondary PSP:
   ```bash
   payctl failover --to secondary
   ```

### Alert: Payments Queue Stuck

- **Severity:** ticket
- **Procedure:** [Drain the queue](#drain-the-queue)

## Procedures

### Drain the queue

```bash
$ payctl queue drain
```
"""


def test_heading_style_alerts_and_front_matter() -> None:
    runbook = parse_runbook_text(HEADING_STYLE, "payments.md")
    assert runbook.title == "Payments runbook"
    assert runbook.alert_names() == ["PaymentsLatencyHigh", "Payments Queue Stuck"]
    latency = runbook.alert("PaymentsLatencyHigh")
    assert latency is not None
    assert latency.meaning == "p99 latency of payment authorisation is above 2s."
    # "page" is kept as written and normalised to critical
    assert (
        latency.severity,
        latency.severity_stated,
        latency.response_time_s,
        latency.threshold,
    ) == ("critical", "page", 600.0, "p99 > 2s")
    assert latency.dashboards == ["Payments overview"]
    assert latency.procedure == "PaymentsLatencyHigh"
    stuck = runbook.alert("Payments  Queue\tStuck")  # whitespace-normalised lookup
    assert stuck is not None and stuck.procedure == "Drain the queue"
    drain = runbook.procedure("Drain the queue")
    assert drain is not None and [c.text for c in drain.commands] == ["payctl queue drain"]


def test_alert_names_are_case_sensitive() -> None:
    runbook = parse_runbook(FIXTURES / "lab-runbook.md")
    assert runbook.alert("redisdown") is None
    assert runbook.alert(" RedisDown ") is not None


def test_to_dict_is_json() -> None:
    runbook = parse_runbook(FIXTURES / "lab-runbook.md")
    data = json.loads(json.dumps(runbook.to_dict()))
    assert data["schema"] == RUNBOOK_SCHEMA
    assert data["alerts"][0]["name"] == "RedisDown"
    # "does not answer PING for 30s" states how long the condition holds
    assert data["alerts"][0]["for"] == "30s"
    assert data["alerts"][0]["severity_stated"] == "critical"
    assert data["procedures"][0]["steps"][0]["commands"][0]["text"] == "redis-cli -p 6379 PING"


def test_invalid_rule_block_in_runbook_is_a_warning() -> None:
    text = (
        "# R\n\n## Alerts\n\n- **DiskFull**: a\n\n"
        "```yaml\ngroups:\n  - name: x\n    rules: [\n```\n"
    )
    runbook = parse_runbook_text(text, "r.md")
    assert runbook.alert_names() == ["DiskFull"]
    assert runbook.warnings and "r.md:" in runbook.warnings[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the runbook is empty"),
        ("   \n\n\t", "the runbook is empty"),
        ("a\x00b", "not a text file"),
    ],
)
def test_unusable_runbooks_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_runbook_text(text, "bad.md")
    assert message in caught.value.message
    assert caught.value.exit_code == EXIT_INVALID_INPUT
    assert caught.value.source == "bad.md"
    assert caught.value.hint


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="runbook not found"):
        parse_runbook(tmp_path / "nope.md")
    with pytest.raises(InvalidInputError, match="folder holds no Markdown pages"):
        parse_runbook(tmp_path)


def test_readable_page_without_anything_is_reported_not_refused() -> None:
    runbook = parse_runbook_text("# Title\n\nJust prose, nothing else.\n", "prose.md")
    assert runbook.alerts == [] and runbook.procedures == []
    assert any(w.startswith("found no alerts; looked for") for w in runbook.warnings)
    assert any(w.startswith("found no procedures; looked for") for w in runbook.warnings)


def test_cp1252_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "legacy.md"
    path.write_bytes("# R\n\n## Alerts\n\n- **DiskFull**: disk > 90% — act\n".encode("cp1252"))
    runbook = parse_runbook(path)
    alert = runbook.alert("DiskFull")
    assert alert is not None and alert.meaning == "disk > 90% — act"
