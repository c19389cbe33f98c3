"""Alerts a runbook names, wherever and however it names them.

Read from, in order of authority:

- tables with an `Alert` column (Alert | Severity | Meaning | Response time | Procedure);
- headings "Alert: Name", or identifier-like headings under an "Alerts" heading,
  with "**Severity:** …" fields under them;
- list items "**Name**: meaning" / "[Name](runbook.md) - meaning" in sections about
  alerts or named after a severity ("🔴 Critical (15-minute response)");
- Prometheus rule groups in ```yaml blocks;
- mentions in prose: "Alert: `Name`", "`Name` alert firing" (the enclosing
  procedure handles it).

Mentions of the same name (whitespace-normalised, case kept) merge into one
alert; the first source to state a field wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from gameday.runbook.document import Document, Fence, ListBlock, Paragraph, Section, Table, Text
from gameday.runbook.model import Alert, Procedure, Rule, normalise_name
from gameday.runbook.procedures import owning_procedure
from gameday.runbook.quantities import parse_duration, threshold_in
from gameday.runbook.rules import RuleShapeError, looks_like_rules, parse_rule_groups
from gameday.runbook.targets import slo_kind

__all__ = ["AlertCollector", "extract_alerts"]

_SEVERITY_HEADING = re.compile(
    r"^(critical|warning|warn|info|informational|page|ticket|sev[- ]?\d|p[0-5])\b", re.IGNORECASE
)
_ALERT_HEADING = re.compile(r"^alert\s*[:\-–—]\s*`?(.+?)`?$", re.IGNORECASE)
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_:.\-]*$")
_CAMEL = re.compile(r"\b([A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+|[A-Za-z]+(?:_[A-Za-z0-9]+)+)\b")
_PLAIN_MENTION = re.compile(r"\balert\s*:\s*([A-Z][A-Za-z0-9_:]+)")
_FIELD_LABELS = re.compile(
    r"^(severity|priority|meaning|description|summary|response( time)?|threshold|expr(ession)?|for|"
    r"procedure|runbook|dashboards?|owner|impact|slo impact|action|contact|scope|escalate.*|"
    r"condition|query|labels?|annotations?|notes?)$",
    re.IGNORECASE,
)


def _alerty(title: str) -> bool:
    return "alert" in title.lower()


def _is_identifier(name: str) -> bool:
    return bool(_IDENTIFIER.match(name)) and bool(re.search(r"[a-z][A-Z]|_|[A-Z]{2,}[a-z]", name))


class AlertCollector:
    """Accumulates alerts by normalised name, merging fields from every place they appear."""

    def __init__(self) -> None:
        self._alerts: dict[str, Alert] = {}

    def add(self, name: str, source: str, line: int | None, **fields: object) -> Alert | None:
        name = normalise_name(name.strip("`*_ "))
        if not name or len(name) > 120:
            return None
        alert = self._alerts.get(name)
        if alert is None:
            alert = Alert(name=name, line=line)
            self._alerts[name] = alert
        elif line is not None and (alert.line is None or line < alert.line):
            alert.line = line
        if source not in alert.sources:
            alert.sources.append(source)
        for key, value in fields.items():
            if value in (None, "", []):
                continue
            if key == "dashboards" and isinstance(value, list):
                alert.dashboards.extend(str(v) for v in value if str(v) not in alert.dashboards)
            elif getattr(alert, key) in (None, ""):
                setattr(alert, key, value)
        if alert.response_time and alert.response_time_s is None:
            alert.response_time_s = parse_duration(alert.response_time)
        return alert

    def alerts(self) -> list[Alert]:
        return sorted(self._alerts.values(), key=lambda alert: alert.line or 0)


def _table_alerts(collector: AlertCollector, section: Section, table: Table) -> None:
    name_col = table.column("alert", exclude=("alertmanager",))
    if name_col is None and _alerty(section.title):
        name_col = table.column("name")
    if name_col is None:
        return
    severity_col = table.column("severity", "priority", "level")
    meaning_col = table.column("meaning", "description", "summary", "means", "what")
    response_col = table.column("response", "ack")
    procedure_col = table.column("procedure", "runbook", "action", "playbook", "remediation")
    threshold_col = table.column("threshold", "condition", "trigger", "fires when")
    expr_col = table.column("expr", "query", "promql")
    for_col = next(
        (
            i
            for i, h in enumerate(table.header)
            if h.strip().lower() in ("for", "pending", "duration")
        ),
        None,
    )
    dashboard_col = table.column("dashboard")
    for row, line in zip(table.rows, table.row_lines, strict=False):
        name_cell = table.cell(row, name_col)
        if name_cell is None or not name_cell.plain:
            continue

        def text(index: int | None, row: list[Text] = row) -> str | None:
            cell = table.cell(row, index)
            return cell.plain if cell is not None and cell.plain else None

        procedure_cell = table.cell(row, procedure_col)
        procedure = None
        if procedure_cell is not None and procedure_cell.plain:
            href = next((span.href for span in procedure_cell.spans if span.href), None)
            procedure = href or procedure_cell.plain
        meaning = text(meaning_col) or ""
        dashboards = [text(dashboard_col)] if text(dashboard_col) else []
        collector.add(
            name_cell.plain,
            "table",
            line,
            meaning=meaning,
            severity=(text(severity_col) or "").lower() or None,
            threshold=text(threshold_col) or threshold_in(meaning),
            expr=text(expr_col),
            for_=text(for_col),
            response_time=text(response_col),
            procedure=procedure,
            dashboards=dashboards,
        )


def _fields(section: Section) -> dict[str, str]:
    fields: dict[str, str] = {}
    for block in section.blocks:
        items: list[Text] = []
        if isinstance(block, ListBlock):
            items = [item.text for item in block.items]
        elif isinstance(block, Paragraph):
            items = [block.text]
        for text in items:
            parts = text.label()
            if parts is not None and _FIELD_LABELS.match(parts[0]) and parts[1]:
                fields.setdefault(parts[0].lower(), parts[1])
            elif isinstance(block, Paragraph) and "meaning" not in fields and parts is None:
                fields["meaning"] = text.plain
    return fields


def _heading_alert(
    collector: AlertCollector, section: Section, procedures: dict[int, Procedure]
) -> bool:
    title = section.bare_title
    match = _ALERT_HEADING.match(title)
    name = match.group(1).strip() if match else None
    if name is None and section.parent is not None and _alerty(section.parent.title):
        candidate = title.strip("` ")
        if _is_identifier(candidate):
            name = candidate
    if not name:
        return False
    fields = _fields(section)
    own = procedures.get(id(section))
    procedure = fields.get("procedure") or fields.get("runbook") or (own.title if own else None)
    meaning = fields.get("meaning") or fields.get("description") or fields.get("summary") or ""
    collector.add(
        name,
        "heading",
        section.line,
        meaning=meaning,
        severity=(fields.get("severity") or fields.get("priority") or "").lower() or None,
        threshold=fields.get("threshold") or fields.get("condition") or threshold_in(meaning),
        expr=fields.get("expr") or fields.get("expression") or fields.get("query"),
        for_=fields.get("for"),
        response_time=fields.get("response time") or fields.get("response"),
        procedure=procedure,
        dashboards=[d for d in (fields.get("dashboard"), fields.get("dashboards")) if d],
    )
    return True


def _list_alerts(collector: AlertCollector, section: Section, block: ListBlock) -> None:
    title = section.bare_title
    severity_match = _SEVERITY_HEADING.match(title)
    if not (_alerty(section.title) or severity_match):
        return
    severity = severity_match.group(1).lower() if severity_match else None
    response = None
    paren = re.search(r"\(([^)]*respon[^)]*)\)", title, re.IGNORECASE)
    if paren:
        response = re.sub(r"\s*response\s*$", "", paren.group(1).strip(), flags=re.IGNORECASE)
    for item in block.items:
        parts = item.text.label()
        if parts is None:
            continue
        name, meaning, href = parts
        if _FIELD_LABELS.match(name) or (slo_kind(name) and not _is_identifier(name)):
            continue
        collector.add(
            name,
            "list",
            item.line,
            meaning=meaning,
            severity=severity,
            threshold=threshold_in(meaning),
            response_time=response,
            procedure=href or None,
        )


def _rule_alerts(
    collector: AlertCollector, fence: Fence, source: str, rules: list[Rule], warnings: list[str]
) -> None:
    if fence.language not in ("yaml", "yml", "") or "groups" not in fence.content:
        return
    try:
        data = yaml.safe_load(fence.content)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = fence.line + 1 + (mark.line if mark is not None else 0)
        warnings.append(
            f"{source}:{line}: a YAML block that looks like rules does not parse; skipped"
        )
        return
    if not looks_like_rules(data):
        return
    try:
        found = parse_rule_groups(data, source=source, line_offset=fence.line, text=fence.content)
    except RuleShapeError as exc:
        warnings.append(f"{source}:{fence.line}: rule block skipped: {exc} at {exc.where}")
        return
    for rule in found:
        rules.append(rule)
        annotations = rule.annotations
        collector.add(
            rule.name,
            "rule",
            rule.line or fence.line,
            meaning=annotations.get("summary") or annotations.get("description") or "",
            severity=rule.severity.lower() if rule.severity else None,
            threshold=_expr_threshold(rule.expr),
            expr=rule.expr,
            for_=rule.for_,
            procedure=annotations.get("runbook_url") or annotations.get("runbook") or None,
        )


_EXPR_COMPARISON = re.compile(r"(==|!=|>=|<=|>|<)\s*(-?[\d.]+(?:e[+-]?\d+)?)\s*$", re.IGNORECASE)


def _expr_threshold(expr: str) -> str | None:
    """The comparison a PromQL expression ends with ("... ) > 0.01" → "> 0.01")."""
    match = _EXPR_COMPARISON.search(expr.strip())
    return f"{match.group(1)} {match.group(2)}" if match else None


def _mentions(text: Text) -> Iterator[str]:
    spans = text.spans
    for index, span in enumerate(spans):
        if not span.code or not _IDENTIFIER.match(span.text.strip()):
            continue
        before = spans[index - 1].text if index > 0 else ""
        after = spans[index + 1].text if index + 1 < len(spans) else ""
        if re.search(r"\balerts?\s*:?\s*$", before, re.IGNORECASE) or re.match(
            r"^\s*alerts?\b", after, re.IGNORECASE
        ):
            yield span.text.strip()
    for span in spans:
        if not span.code:
            yield from _PLAIN_MENTION.findall(span.text)


def _texts(section: Section) -> Iterator[tuple[Text, int]]:
    for block in section.blocks:
        if isinstance(block, Paragraph):
            yield block.text, block.line
        elif isinstance(block, ListBlock):
            stack = list(block.items)
            while stack:
                item = stack.pop(0)
                yield item.text, item.line
                for sub in item.sublists():
                    stack.extend(sub.items)


def extract_alerts(
    document: Document,
    procedures: dict[int, Procedure],
    rules: list[Rule],
    warnings: list[str],
) -> list[Alert]:
    """Alerts in document order; embedded rules are appended to `rules`."""
    collector = AlertCollector()
    for section in document.sections:
        for block in section.blocks:
            if isinstance(block, Table):
                _table_alerts(collector, section, block)
    heading_sections = {
        id(section)
        for section in document.sections
        if section.level > 0 and _heading_alert(collector, section, procedures)
    }
    for section in document.sections:
        if id(section) in heading_sections:
            continue
        for block in section.blocks:
            if isinstance(block, ListBlock):
                _list_alerts(collector, section, block)
    for section in document.sections:
        for block in section.blocks:
            if isinstance(block, Fence):
                _rule_alerts(collector, block, document.source, rules, warnings)
    for section in document.sections:
        procedure = owning_procedure(section, procedures)
        for text, line in _texts(section):
            for name in _mentions(text):
                collector.add(
                    name,
                    "mention",
                    line,
                    meaning=section.bare_title if procedure else "",
                    procedure=procedure.title if procedure else None,
                )
    return collector.alerts()
