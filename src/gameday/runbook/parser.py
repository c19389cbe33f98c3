"""Runbook files → `Runbook`: decode, repair mojibake, parse Markdown, extract."""

from __future__ import annotations

from pathlib import Path

from gameday.errors import InvalidInputError
from gameday.runbook.alerts import extract_alerts
from gameday.runbook.document import Document, parse_document, slugify
from gameday.runbook.encoding import decode_text, repair_mojibake
from gameday.runbook.escalation import extract_contacts, extract_escalation, extract_severity_levels
from gameday.runbook.inventory import extract_dashboards, extract_services
from gameday.runbook.model import Alert, Procedure, Rule, Runbook
from gameday.runbook.procedures import extract_procedures, extract_rollback_triggers
from gameday.runbook.targets import extract_slos

__all__ = ["parse_runbook", "parse_runbook_text"]

_STYLE_HINT = (
    "gameday reads alerts from a table with columns Alert | Severity | Meaning | "
    "Response time | Procedure (or '**Name**: meaning' lists under an 'Alerts' heading, "
    "or Prometheus rules in a ```yaml block), SLO targets from a Metric | Target table, "
    "and procedures from '### ' headings with numbered steps and ```bash blocks"
)


def _resolve_procedure(alert: Alert, procedures: list[Procedure]) -> None:
    """Point an alert's procedure reference at the procedure's title when it names one here."""
    ref = alert.procedure
    if ref:
        wanted = ref.split("#", 1)[1] if "#" in ref else ref
        lowered = wanted.strip().lower()
        slug = slugify(wanted)
        for procedure in procedures:
            if lowered in (procedure.anchor, procedure.title.lower()) or slug == procedure.anchor:
                alert.procedure = procedure.title
                return
        for procedure in procedures:
            if lowered and lowered in procedure.title.lower():
                alert.procedure = procedure.title
                return
        return
    for procedure in procedures:
        if alert.name.lower() in procedure.title.lower():
            alert.procedure = procedure.title
            return


def _build(document: Document) -> Runbook:
    warnings: list[str] = []
    rules: list[Rule] = []
    by_section = extract_procedures(document)
    procedures = list(by_section.values())
    alerts = extract_alerts(document, by_section, rules, warnings)
    for alert in alerts:
        _resolve_procedure(alert, procedures)
    return Runbook(
        source=document.source,
        title=document.title,
        services=extract_services(document),
        alerts=alerts,
        slos=extract_slos(document),
        severity_levels=extract_severity_levels(document),
        procedures=procedures,
        escalation=extract_escalation(document),
        contacts=extract_contacts(document),
        dashboards=extract_dashboards(document),
        rollback_triggers=extract_rollback_triggers(document, by_section),
        rules=rules,
        warnings=warnings,
    )


def parse_runbook_text(text: str, source: str = "<runbook>") -> Runbook:
    """Parse runbook Markdown; InvalidInputError (exit 2) when it holds nothing gameday can use."""
    if "\x00" in text:
        raise InvalidInputError(
            "this is not a text file (it contains NUL bytes)",
            source=source,
            hint="give the runbook's Markdown file",
        )
    if not text.strip():
        raise InvalidInputError(
            "the runbook is empty", source=source, where="line 1", hint=_STYLE_HINT
        )
    document = parse_document(repair_mojibake(text), source)
    runbook = _build(document)
    if not (runbook.alerts or runbook.slos or runbook.procedures or runbook.services):
        raise InvalidInputError(
            "found no alerts, SLO targets, procedures or services in the runbook",
            source=source,
            where="line 1",
            hint=_STYLE_HINT,
        )
    return runbook


def parse_runbook(path: str | Path) -> Runbook:
    """Read and parse a runbook file (any common encoding; mojibake is repaired)."""
    path = Path(path)
    source = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(
            "runbook not found", source=source, hint="check the path given to --runbook"
        ) from None
    except IsADirectoryError:
        raise InvalidInputError(
            "this is a directory, not a runbook", source=source, hint="give the runbook's .md file"
        ) from None
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read the runbook ({exc.strerror or exc})",
            source=source,
            hint="check the file's permissions",
        ) from None
    return parse_runbook_text(decode_text(data), source)
