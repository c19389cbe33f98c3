"""Runbook pages → `Runbook`: decode, repair mojibake, parse Markdown, extract, tie.

`parse_runbook` takes a file or a folder of pages (see pages.py); with `rules`,
every rule's alert is looked for in the runbook (bind_rules.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gameday.errors import InvalidInputError
from gameday.runbook.alert_details import alert_owners, answering_sections, complete_alerts
from gameday.runbook.alerts import extract_alerts
from gameday.runbook.bind_rules import bind_rules
from gameday.runbook.document import Document, parse_document
from gameday.runbook.encoding import repair
from gameday.runbook.escalation import extract_contacts, extract_escalation, extract_severity_levels
from gameday.runbook.inventory import extract_dashboards, extract_services
from gameday.runbook.model import Rule, Runbook
from gameday.runbook.procedures import extract_procedures, extract_rollback_triggers
from gameday.runbook.targets import extract_slos

__all__ = ["LOOKED_FOR", "build_runbook", "parse_runbook", "parse_runbook_text"]

LOOKED_FOR = {
    "alerts": (
        "found no alerts; looked for an Alert column in tables, '**Alert:** NAME' labels, "
        "alert-name headings (under an 'Alerts' or severity heading, or with Severity / "
        "Meaning / Mitigation sections), a page title naming one alert, '**Name**: meaning' "
        "list items under 'Alerts' or severity headings, Prometheus rules in ```yaml blocks "
        "and '`Name` alert' mentions"
    ),
    "procedures": (
        "found no procedures; looked for numbered steps, bullet steps under Mitigation / "
        "Resolution / Steps headings, and ```bash or ```sql blocks"
    ),
    "slos": (
        "found no SLO targets; looked for Metric | Target tables and "
        "'Availability: 99.9%' items under SLO headings"
    ),
}


def build_runbook(
    document: Document, *, rules: Sequence[Rule] = (), page: str | None = None
) -> Runbook:
    """Everything gameday understands from one parsed page."""
    warnings: list[str] = []
    embedded: list[Rule] = []
    collector = extract_alerts(document, embedded, warnings, page=page)
    if rules:
        bind_rules(collector, document, rules)
    answering = answering_sections(document, collector)
    by_section = extract_procedures(document, [*collector.homes.values(), *answering])
    complete_alerts(collector, by_section, document)
    return Runbook(
        source=document.source,
        title=document.title,
        services=extract_services(document),
        alerts=collector.alerts(),
        slos=extract_slos(document),
        severity_levels=extract_severity_levels(document),
        procedures=[*by_section.values(), *collector.procedures],
        escalation=extract_escalation(document),
        contacts=extract_contacts(document),
        dashboards=extract_dashboards(document),
        rollback_triggers=extract_rollback_triggers(document, by_section, alert_owners(collector)),
        rules=embedded,
        warnings=warnings,
    )


def report_missing(runbook: Runbook) -> None:
    """Warn, saying what was looked for, about what a readable runbook does not hold."""
    if not runbook.alerts:
        runbook.warnings.append(LOOKED_FOR["alerts"])
    if not runbook.procedures:
        runbook.warnings.append(LOOKED_FOR["procedures"])
    if not (runbook.alerts or runbook.procedures or runbook.slos or runbook.services):
        runbook.warnings.append(LOOKED_FOR["slos"])


def check_text(text: str, source: str) -> None:
    """Refuse what cannot be read as a runbook at all (exit 2)."""
    if "\x00" in text:
        raise InvalidInputError(
            "this is not a text file (it contains NUL bytes)",
            source=source,
            hint="give the runbook's Markdown file",
        )
    if not text.strip():
        raise InvalidInputError(
            "the runbook is empty",
            source=source,
            where="line 1",
            hint="give a Markdown runbook with its alerts, procedures or SLO targets",
        )


def parse_runbook_text(
    text: str,
    source: str = "<runbook>",
    *,
    rules: Sequence[Rule] = (),
    path: Path | None = None,
) -> Runbook:
    """Parse runbook Markdown; InvalidInputError (exit 2) only when it is empty or binary.

    A readable page in which nothing was found comes back with warnings that
    say what was looked for.
    """
    check_text(text, source)
    repaired = repair(text)
    document = parse_document(repaired.text, source)
    document.path = path
    runbook = build_runbook(document, rules=rules)
    runbook.notes.extend(repaired.notes)
    runbook.warnings[:0] = [f"{source}: {warning}" for warning in repaired.warnings]
    report_missing(runbook)
    return runbook


def parse_runbook(path: str | Path, *, rules: Sequence[Rule] = ()) -> Runbook:
    """Read and parse a runbook: a Markdown file (with the pages it links to that are on
    disk) or a folder of pages. Any common encoding; certain mojibake is repaired."""
    from gameday.runbook.pages import read_runbook

    return read_runbook(Path(path), rules=rules)
