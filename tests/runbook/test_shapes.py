"""What the reader takes from particular runbook shapes of the corpus, beyond the
alert names, severities and procedure ties that test_corpus.py measures."""

from __future__ import annotations

from pathlib import Path

from gameday.runbook import parse_runbook, parse_runbook_text
from gameday.runbook.severity import normalise_severity, stated_severity

CORPUS = Path(__file__).resolve().parent / "corpus"


def test_a_priority_section_states_severity_and_response_time() -> None:
    runbook = parse_runbook(CORPUS / "severity-section-page.md")
    alert = runbook.alerts[0]
    assert (alert.severity, alert.severity_stated) == ("critical", "SEV2")
    assert alert.response_time_s == 900
    assert "severity" not in alert.inferred
    assert alert.meaning.startswith("The logical replication slot")


def test_a_severity_heading_with_its_value_and_a_bare_response_time() -> None:
    text = (
        "# DiskAlmostFull\n\n## Summary\nThe root volume is over 90 % full.\n\n"
        "## Severity: P3\n\n## Response time\n4 hours\n\n## Fix\n1. Delete old logs.\n"
    )
    alert = parse_runbook_text(text).alerts[0]
    assert (alert.severity, alert.severity_stated) == ("warning", "P3")
    assert alert.response_time_s == 4 * 3600


def test_a_linked_section_of_paragraphs_is_the_alerts_procedure() -> None:
    runbook = parse_runbook(CORPUS / "linked-prose-sections.md")
    alert = runbook.alert("SearchApiLatencyHigh")
    assert alert is not None and alert.procedure == "Slow queries"
    procedure = runbook.procedure(alert.procedure)
    assert procedure is not None
    assert [len(step.commands) for step in procedure.steps] == [1, 1]
    assert procedure.commands[1].text == "searchctl tenant throttle --id TENANT"
    stale = runbook.procedure("Stale index")
    assert stale is not None and stale.steps[0].text.startswith("Restart it")
    shards = runbook.procedure("Unassigned shards")
    assert (
        shards is not None and shards.steps[-1].text == "Then free disk on the fullest data node."
    )


def test_a_link_to_a_section_without_steps_shows_its_title() -> None:
    text = (
        "# Notes\n\n| Alert | Runbook |\n|---|---|\n| `QueueStuck` | [see](#queue-stuck) |\n\n"
        "## Queue stuck\n\nThis happens during deploys.\n"
    )
    alert = parse_runbook_text(text).alerts[0]
    assert alert.procedure == "Queue stuck"


def test_a_steps_label_introduces_the_procedure_not_the_meaning() -> None:
    runbook = parse_runbook(CORPUS / "setext-label-blocks.md")
    alert = runbook.alert("WorkerQueueBacklogGrowing")
    assert alert is not None
    assert alert.meaning == "more than 2000 jobs are waiting for 20 minutes"
    assert alert.for_ == "20m"
    procedure = runbook.procedure(alert.procedure)
    assert procedure is not None
    assert procedure.commands[0].text == "rq info --url $REDIS_URL"


def test_the_severity_scale() -> None:
    # numbered levels: 0-2 page (critical), 3 warning, 4-5 info
    assert [normalise_severity(f"P{n}") for n in range(6)] == [
        "critical",
        "critical",
        "critical",
        "warning",
        "info",
        "info",
    ]
    assert normalise_severity("SEV-2 (major)") == "critical"
    assert normalise_severity("Medium") == "warning"
    assert stated_severity("P2 - respond within 30 minutes") == "P2"
    assert stated_severity("nothing here") is None


def test_front_matter_names_the_alert_and_its_fields() -> None:
    runbook = parse_runbook(CORPUS / "front-matter-page.md")
    alert = runbook.alerts[0]
    assert alert.name == "EdgeCertificateExpiringSoon"
    assert (alert.severity, alert.for_) == ("warning", "1h")
    assert alert.meaning.startswith("A certificate served by the edge proxies")
    assert "front matter" in alert.sources


def test_plain_text_labels_and_unquoted_commands() -> None:
    runbook = parse_runbook(CORPUS / "plain-text-alerts.md")
    assert runbook.alert_names() == ["CoreDnsServfailHigh", "CoreDnsLatencyHigh"]
    procedure = runbook.procedure(runbook.alerts[0].procedure)
    assert procedure is not None
    assert [c.text for c in procedure.commands] == [
        "kubectl -n kube-system get pods -l k8s-app=kube-dns",
        "kubectl -n kube-system rollout restart deploy/coredns",
    ]


def test_a_definition_list_of_alerts() -> None:
    runbook = parse_runbook(CORPUS / "definition-list.md")
    disk = runbook.alert("BrokerDiskAlmostFull")
    assert disk is not None and (disk.threshold, disk.for_) == ("> 90%", "10m")
    rebalancing = runbook.alert("ConsumerGroupRebalancing")
    assert rebalancing is not None and (rebalancing.threshold, rebalancing.for_) == (None, "5m")


def test_steps_written_in_a_table_cell_with_line_breaks() -> None:
    runbook = parse_runbook(CORPUS / "confluence-export.md")
    alert = runbook.alert("CheckoutPaymentFailures")
    assert alert is not None
    assert alert.meaning == "Payment authorisations fail for more than 2% of orders for 5 minutes"
    procedure = runbook.procedure(alert.procedure)
    assert procedure is not None
    assert [step.text for step in procedure.steps][1] == (
        "Switch to the backup PSP: payctl psp use backup"
    )
    assert [c.text for c in procedure.commands] == ["payctl psp use backup"]
    assert not runbook.services  # "Checkout Service" titles an alert table, not an inventory
