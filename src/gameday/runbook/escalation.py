"""Who responds, how fast: escalation levels, severity classes, on-call contacts."""

from __future__ import annotations

import re

from gameday.runbook.document import Document, Fence, ListBlock, Paragraph, Section, Table
from gameday.runbook.model import Contact, EscalationLevel, SeverityLevel
from gameday.runbook.quantities import parse_duration

__all__ = ["extract_contacts", "extract_escalation", "extract_severity_levels"]

_LEVEL_HEADING = re.compile(r"^(?:level|tier|l)\s*(\d+)\s*(?:[:\-–—.)]\s*(.*))?$", re.IGNORECASE)
_LEVEL_LINE = re.compile(r"^[\s│|>*-]*(?:level|tier)\s*(\d+)\s*[:\-–—]\s*(.+)$", re.IGNORECASE)
_CONDITION_LINE = re.compile(r"^[\s│└├─>*-]*(?:if|when)\s+(.+)$", re.IGNORECASE)
_ESCALATION_SECTION = re.compile(r"escalat", re.IGNORECASE)
_CONTACT_SECTION = re.compile(r"on[- ]?call|contact|pagerduty|rotation|owner", re.IGNORECASE)


def _from_heading(section: Section, number: int, name: str) -> EscalationLevel:
    contact = condition = ""
    response: str | None = None
    for block in section.blocks:
        if not isinstance(block, ListBlock):
            continue
        for item in block.items:
            parts = item.text.label()
            if parts is None:
                continue
            key, value, _ = parts
            key = key.lower()
            if "contact" in key or "who" in key:
                contact = value
            elif "response" in key or "sla" in key:
                response = value
            elif any(word in key for word in ("escalate", "when", "condition", "trigger")) or (
                "scope" in key and not condition
            ):
                condition = value
    return EscalationLevel(
        level=number,
        name=name,
        contact=contact,
        response_time=response,
        response_time_s=parse_duration(response),
        condition=condition,
        line=section.line,
    )


def _from_lines(lines: list[tuple[int, str]]) -> list[EscalationLevel]:
    levels: list[EscalationLevel] = []
    pending_condition = ""
    for line_no, line in lines:
        match = _LEVEL_LINE.match(line)
        if match:
            text = match.group(2).strip()
            name, response = text, None
            paren = re.search(r"\(([^)]*)\)\s*$", text)
            if paren:
                name, response = text[: paren.start()].strip(), paren.group(1).strip()
            levels.append(
                EscalationLevel(
                    level=int(match.group(1)),
                    name=name,
                    response_time=response,
                    response_time_s=parse_duration(response),
                    condition=pending_condition,
                    line=line_no,
                )
            )
            pending_condition = ""
            continue
        condition = _CONDITION_LINE.match(line)
        if condition and levels:
            pending_condition = condition.group(1).strip()
    return levels


def extract_escalation(document: Document) -> list[EscalationLevel]:
    levels: list[EscalationLevel] = []
    for section in document.sections:
        match = _LEVEL_HEADING.match(section.bare_title)
        if match and section.level > 0:
            levels.append(
                _from_heading(section, int(match.group(1)), (match.group(2) or "").strip())
            )
            continue
        if not _ESCALATION_SECTION.search(section.title):
            continue
        lines: list[tuple[int, str]] = []
        for block in section.blocks:
            if isinstance(block, Fence) and block.language in ("", "text", "txt"):
                lines.extend(
                    (block.line + 1 + i, text) for i, text in enumerate(block.content.splitlines())
                )
            elif isinstance(block, Paragraph):
                lines.append((block.line, block.text.plain))
            elif isinstance(block, ListBlock):
                lines.extend((item.line, item.text.plain) for item in block.items)
            elif isinstance(block, Table):
                level_col = block.column("level", "tier")
                name_col = block.column("role", "who", "name", "contact")
                response_col = block.column("response", "delay", "after")
                if level_col is None:
                    continue
                for row, line in zip(block.rows, block.row_lines, strict=False):
                    level_cell = block.cell(row, level_col)
                    number = re.search(r"\d+", level_cell.plain) if level_cell else None
                    if number is None:
                        continue
                    name_cell = block.cell(row, name_col)
                    response_cell = block.cell(row, response_col)
                    response = response_cell.plain if response_cell else None
                    levels.append(
                        EscalationLevel(
                            level=int(number.group(0)),
                            name=name_cell.plain if name_cell else "",
                            response_time=response,
                            response_time_s=parse_duration(response),
                            line=line,
                        )
                    )
        levels.extend(_from_lines(lines))
    return levels


def extract_severity_levels(document: Document) -> list[SeverityLevel]:
    """Rows of tables whose first column is the severity and that give a response time."""
    out: list[SeverityLevel] = []
    for section in document.sections:
        for block in section.blocks:
            if not isinstance(block, Table) or not block.header:
                continue
            first = block.header[0].lower()
            if not any(word in first for word in ("severity", "priority", "sev")):
                continue
            if block.column("alert") is not None:
                continue
            response_col = block.column("response")
            if response_col is None:
                continue
            definition_col = block.column("definition", "description", "meaning", "impact")
            for row, line in zip(block.rows, block.row_lines, strict=False):
                name_cell = block.cell(row, 0)
                if name_cell is None or not name_cell.plain:
                    continue
                response_cell = block.cell(row, response_col)
                definition_cell = block.cell(row, definition_col)
                response = response_cell.plain if response_cell else None
                out.append(
                    SeverityLevel(
                        name=name_cell.plain,
                        definition=definition_cell.plain if definition_cell else "",
                        response_time=response,
                        response_time_s=parse_duration(response),
                        line=line,
                    )
                )
    return out


def extract_contacts(document: Document) -> list[Contact]:
    """On-call and contact entries ("**On-call:** @sre-team", Role | Contact tables)."""
    out: list[Contact] = []
    for section in document.sections:
        if not _CONTACT_SECTION.search(section.title) or _LEVEL_HEADING.match(section.bare_title):
            continue
        for block in section.blocks:
            if isinstance(block, ListBlock):
                for item in block.items:
                    parts = item.text.label()
                    if parts is not None and parts[1]:
                        out.append(Contact(parts[0], parts[1], item.line))
            elif isinstance(block, Table):
                role_col = block.column("role", "team", "who")
                contact_col = block.column("contact", "channel", "email", "phone")
                if role_col is None or contact_col is None:
                    continue
                for row, line in zip(block.rows, block.row_lines, strict=False):
                    role, contact = block.cell(row, role_col), block.cell(row, contact_col)
                    if role is not None and contact is not None and role.plain:
                        out.append(Contact(role.plain, contact.plain, line))
    return out
