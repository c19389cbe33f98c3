"""Alerts a runbook names, wherever and however it names them.

Read from, in order of authority:

- tables with an alert column (Alert | Severity | Meaning | Response | Procedure),
  several names to a cell allowed ("| S1 | `A`, `B` |"), steps written in a
  procedure cell ("1. …<br>2. …") becoming the row's procedure, and two-column
  label tables ("| Alert | `X` |", "| Severity | P1 |");
- definition labels: "**Alert:** `X`" (or a plain "Alert: X" opening a paragraph
  of labels) followed by "**Severity:** CRITICAL", "**Threshold:** …" in the
  same paragraph, list or section;
- YAML front matter ("alert: X", "severity: warning");
- headings: "Alert: X", identifier headings in an alerts or severity
  section, and headings whose section is about one alert (its fields, or
  Meaning / Impact / Diagnosis / Mitigation subsections);
- the page title, when the page is about one alert;
- list items "**Name**: meaning" in sections about alerts or named after a
  severity ("🔴 Critical (15-minute response)");
- definition lists ("Name" then ": Severity: critical", ": what it means");
- Prometheus rules in YAML code blocks;
- mentions in prose: "Alert: `X`", "the `X` alert", "X alert fires".

Names in places that can only hold an alert name may be phrases ("Camera
Offline"); elsewhere they must look like identifiers or say what is wrong
(vocabulary.names_a_condition).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from gameday.runbook.collector import AlertCollector
from gameday.runbook.document import (
    Document,
    Fence,
    ListBlock,
    ListItem,
    Paragraph,
    Section,
    Span,
    Table,
    Text,
    slugify,
)
from gameday.runbook.embedded_rules import rules_in_fence
from gameday.runbook.fields import Field, fields_in, table_fields
from gameday.runbook.model import Procedure, Rule
from gameday.runbook.names import clean_name, is_identifier, plausible_name
from gameday.runbook.procedures import cell_steps
from gameday.runbook.quantities import for_in, threshold_in
from gameday.runbook.severity import normalise_severity
from gameday.runbook.vocabulary import (
    field_key,
    generic_title,
    is_alert_section,
    names_a_condition,
    page_section_kind,
)

__all__ = [
    "apply_fields",
    "block_fields",
    "extract_alerts",
    "page_title_section",
    "severity_heading",
]

_SEVERITY_HEADING = re.compile(
    r"^(critical|warning|warn|info|informational|high|medium|low|page|paging|ticket|"
    r"sev[- ]?\d|s\d|p[0-5]|priority\s*\d|minor|major)\b",
    re.IGNORECASE,
)
_ALERT_PREFIX = re.compile(
    r"^(?:alert|alarm|alerte|alerta|алерт|оповещение)\s*[:\-–—]\s*(.+)$", re.IGNORECASE
)
_PAGE_PREFIX = re.compile(
    r"^(?:alert|alarm|alerte|alerta|алерт|оповещение|runbook|playbook|ранбук)"
    r"(?:\s+for)?\s*[:\-–—]\s*(.+)$",
    re.IGNORECASE,
)
_PAREN_RESPONSE = re.compile(r"\(([^)]*(?:respon|ack|реакц|reaktion)[^)]*)\)", re.IGNORECASE)
_BRACKETED_SEVERITY = re.compile(
    r"[\[(]\s*(?:severity|sev|priority)?\s*[:=]?\s*([\w-]+)\s*[\])]"
    r"|\b(?:severity|priority|sev)\s*[:=]\s*([\w-]+)",
    re.IGNORECASE,
)
_NOT_ALERT_LABELS = frozenset(
    {"note", "notes", "tip", "important", "example", "caution", "danger", "hint", "see also"}
)
_NAME_HEADERS = ("alert", "alarm", "alerte", "alerta", "алерт", "оповещен")
_NOT_NAME_HEADERS = ("manager", "via", "channel", "route", "receiver", "count", "routing")


def severity_heading(title: str) -> str | None:
    """The severity a heading names ("🔴 Critical (15-minute response)" → the title), or None."""
    from gameday.runbook.document import bare

    text = bare(title)
    if _SEVERITY_HEADING.match(text) or (
        normalise_severity(text) and re.search(r"\balerts?\b", text, re.IGNORECASE)
    ):
        return text
    return None


def _severity_context(section: Section) -> tuple[str | None, str | None]:
    """(severity text, response time) of the nearest severity heading above or at `section`."""
    for node in (section, *section.ancestors()):
        if node.level == 0:
            break
        heading = severity_heading(node.title)
        if heading:
            paren = _PAREN_RESPONSE.search(heading)
            response = None
            if paren:
                response = re.sub(
                    r"\s*(response|ack)\s*$", "", paren.group(1).strip(), flags=re.IGNORECASE
                )
            return heading, response
        if page_section_kind(node.bare_title):
            break
    return None, None


def _alert_context(section: Section) -> bool:
    """Inside a section about alerts, or under a severity heading."""
    for node in (section, *section.ancestors()):
        if node.level == 0:
            return False
        if is_alert_section(node.title) or severity_heading(node.title):
            return True
    return False


def _name_allowed(name: str, *, strict: bool) -> bool:
    """A name in a place that names alerts: any plausible name when not `strict`, else an
    identifier or a phrase that says what is wrong."""
    if not plausible_name(name) or name.lower() in _NOT_ALERT_LABELS:
        return False
    if field_key(name) or page_section_kind(name):
        return False
    if not strict:
        return True
    return is_identifier(name) or names_a_condition(name)


# --- tables -------------------------------------------------------------------------


def _table_column(table: Table, *keys: str, words: tuple[str, ...] = ()) -> int | None:
    for index, header in enumerate(table.header):
        key = field_key(header)
        lowered = header.lower()
        if key in keys or any(word in lowered for word in words):
            return index
    return None


def _names_in_cell(cell: Text) -> list[str]:
    codes = [clean_name(code) for code in cell.codes() if is_identifier(clean_name(code))]
    if len(codes) >= 2 or (codes and len(cell.plain) > len(codes[0]) + 20):
        return codes
    plain = cell.plain
    parts = [clean_name(part) for part in re.split(r"\s*[,;/]\s*|\s+and\s+", plain)]
    if len(parts) >= 2 and all(is_identifier(part) for part in parts):
        return parts
    return [clean_name(plain)] if plain else []


def _table_alerts(
    collector: AlertCollector, section: Section, table: Table, titles: frozenset[str] = frozenset()
) -> None:
    name_col = None
    for index, header in enumerate(table.header):
        lowered = header.lower()
        if any(word in lowered for word in _NAME_HEADERS) and not any(
            word in lowered for word in _NOT_NAME_HEADERS
        ):
            name_col = index
            break
    if name_col is None and _alert_context(section):
        name_col = _table_column(table, words=("name", "rule", "signal", "monitor"))
    if name_col is None:
        return
    severity_col = _table_column(table, "severity", words=("severity", "priority", "sev"))
    meaning_col = _table_column(
        table, "meaning", words=("meaning", "description", "summary", "means", "what")
    )
    response_col = _table_column(table, "response", words=("response", "ack"))
    procedure_col = _table_column(
        table,
        "procedure",
        words=(
            "procedure",
            "runbook",
            "playbook",
            "remediation",
            "action",
            "resolution",
            "steps",
            "mitigation",
            "what to do",
            "how to fix",
        ),
    )
    threshold_col = _table_column(
        table, "threshold", words=("threshold", "condition", "trigger", "fires when")
    )
    expr_col = _table_column(table, "expr", words=("expr", "query", "promql"))
    for_col = next(
        (
            i
            for i, h in enumerate(table.header)
            if h.strip().lower() in ("for", "pending", "duration", "fires after", "pending for")
        ),
        None,
    )
    dashboard_col = _table_column(table, "dashboards", words=("dashboard",))
    severity_text, response_text = _severity_context(section)
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
            procedure = next(iter(procedure_cell.hrefs()), None) or procedure_cell.plain
            steps = (
                cell_steps(procedure_cell, line)
                if procedure_cell.plain.lower() not in titles
                else []
            )
            names = _names_in_cell(name_cell)
            if steps and names and procedure_col is not None:
                written = Procedure(
                    title=f"{names[0]}: {table.header[procedure_col]}",
                    steps=tuple(steps),
                    commands=tuple(command for step in steps for command in step.commands),
                    anchor=slugify(f"{names[0]} {table.header[procedure_col]}"),
                    line=line,
                )
                collector.procedures.append(written)
                procedure = written.title
        link = next(iter(name_cell.hrefs()), None)
        meaning = text(meaning_col) or ""
        threshold = text(threshold_col)
        severity = text(severity_col)
        inferred = []
        if severity is None and severity_text:
            severity, inferred = severity_text, ["severity"]
        for name in _names_in_cell(name_cell):
            if not _name_allowed(name, strict=False):
                continue
            prose = f"{threshold or ''} {meaning}"
            duration = for_in(prose)
            collector.add(
                name,
                "table",
                line,
                where=section,
                inferred=inferred,
                meaning=meaning,
                severity=severity,
                threshold=threshold or threshold_in(meaning),
                expr=text(expr_col),
                for_=text(for_col) or (duration[0] if duration else None),
                response_time=text(response_col) or response_text,
                procedure=procedure or link,
                dashboards=[d for d in (text(dashboard_col),) if d],
            )


# --- definition labels ----------------------------------------------------------------


def apply_fields(
    collector: AlertCollector,
    name: str,
    fields: list[Field],
    section: Section,
    source: str = "field",
) -> None:
    """Set an alert's fields from definition labels (Severity, Threshold, For, …)."""
    values: dict[str, object] = {}
    inferred: list[str] = []
    if not any(item.key == "severity" and item.text for item in fields):
        context, response = _severity_context(section)
        if context:
            values["severity"], inferred = context, ["severity"]
            if response:
                values["response_time"] = response
    for item in fields:
        key, value = item.key, item.text
        if not value:
            continue
        if key == "severity":
            values["severity"] = value
        elif key == "meaning":
            values.setdefault("meaning", value)
        elif key == "impact" and "meaning" not in values:
            values.setdefault("impact", value)
        elif key == "threshold":
            values.setdefault("threshold", value)
            duration = for_in(value)
            if duration:
                values.setdefault("for_", duration[0])
        elif key == "for":
            values.setdefault("for_", value)
        elif key == "expr":
            values.setdefault("expr", value)
        elif key == "response":
            values.setdefault("response_time", value)
        elif key == "procedure":
            values.setdefault("procedure", next(iter(item.value.hrefs()), None) or value)
        elif key == "dashboards":
            values.setdefault("dashboards", [next(iter(item.value.hrefs()), None) or value])
        elif key == "escalation":
            values.setdefault("escalation", [value])
    impact = values.pop("impact", None)
    if "meaning" not in values and impact:
        values["meaning"] = impact
    threshold = values.get("threshold")
    if isinstance(threshold, str) and not re.search(r"\d", threshold):
        values.pop("threshold")
        values.setdefault("meaning", threshold)
    alert = collector.add(name, source, fields[0].line, where=section)
    if alert is None:
        return
    for field_name, field_value in values.items():
        if field_value not in (None, "", []):
            collector.set(alert, field_name, field_value, inferred=field_name in inferred)


def _name_from_field(item: Field) -> str | None:
    codes = [clean_name(code) for code in item.value.codes()]
    candidates = [code for code in codes if code] or [clean_name(item.text)]
    name = candidates[0] if candidates else ""
    return name if _name_allowed(name, strict=False) else None


def block_fields(block: Paragraph | ListBlock | Table) -> Iterator[list[Field]]:
    """Groups of fields in a block: a paragraph, each list item (with its sub-items), a table."""
    if isinstance(block, Paragraph):
        found = fields_in(block.text, block.line)
        if found:
            yield found
    elif isinstance(block, Table):
        found = table_fields(block)
        if found:
            yield found
    else:
        for item in block.items:
            found = fields_in(item.text, item.line)
            for sub in item.sublists():
                for sub_item in sub.items:
                    found.extend(fields_in(sub_item.text, sub_item.line))
            if found:
                yield found


def _defines_alert(item: Field, group: list[Field], block: Paragraph | ListBlock | Table) -> bool:
    """An alert label that starts an alert's block: "**Alert:** X", a table row, or a
    plain "Alert: X" line opening a paragraph of labels when X is an identifier."""
    if item.key != "alert":
        return False
    if item.bold or isinstance(block, Table):
        return True
    return (
        isinstance(block, Paragraph)
        and item is group[0]
        and len(group) >= 2
        and is_identifier(clean_name(item.text))
    )


def _label_starts(section: Section) -> list[tuple[str, int]]:
    """(alert name, block index) of each "**Alert:** X" label among the section's blocks."""
    starts: list[tuple[str, int]] = []
    for index, block in enumerate(section.blocks):
        if isinstance(block, Fence):
            continue
        for group in block_fields(block):
            for item in group:
                if _defines_alert(item, group, block):
                    name = _name_from_field(item)
                    if name is not None and all(index != start for _, start in starts):
                        starts.append((name, index))
    return starts


def _split_alert_blocks(document: Document) -> None:
    """A section holding several "**Alert:** X" blocks becomes one subsection per alert,
    so that each alert's fields and steps stay its own."""
    for section in list(document.sections):
        starts = _label_starts(section)
        if len(starts) < 2:
            continue
        blocks = section.blocks
        section.blocks = blocks[: starts[0][1]]
        parts: list[Section] = []
        for number, (name, start) in enumerate(starts):
            end = starts[number + 1][1] if number + 1 < len(starts) else len(blocks)
            part = Section(
                title=name,
                level=section.level + 1,
                line=_block_line(blocks[start]),
                anchor=slugify(name),
                parent=section,
                blocks=blocks[start:end],
            )
            parts.append(part)
        section.children[:0] = parts
        position = document.sections.index(section) + 1
        document.sections[position:position] = parts


def _block_line(block: Paragraph | Fence | ListBlock | Table) -> int:
    return block.line


def _field_alerts(collector: AlertCollector, section: Section) -> list[str]:
    """Alerts defined by "**Alert:** X" labels in the section's own blocks; fields after a
    label (up to the next label) are that alert's. Returns the names, in order."""
    names: list[str] = []
    current: tuple[str, list[Field]] | None = None

    def flush() -> None:
        if current is not None:
            apply_fields(collector, current[0], current[1], section)

    for block in section.blocks:
        if isinstance(block, Fence):
            continue
        for group in block_fields(block):
            for item in group:
                if _defines_alert(item, group, block):
                    name = _name_from_field(item)
                    if name is None:
                        continue
                    flush()
                    current = (name, [item])
                    names.append(name)
                elif current is not None:
                    current[1].append(item)
    flush()
    return names


# --- headings and pages ---------------------------------------------------------------


def _has_alert_fields(section: Section) -> bool:
    for block in section.blocks:
        if isinstance(block, Fence):
            continue
        for group in block_fields(block):
            if any(item.key in ("severity", "threshold", "expr", "for") for item in group):
                return True
    return False


def _page_kinds(section: Section) -> set[str]:
    return {
        kind for child in section.descendants() if (kind := page_section_kind(child.bare_title))
    }


def _about_one_alert(section: Section) -> bool:
    """The section reads like an alert's page: alert fields, or Meaning/Impact/Diagnosis/
    Mitigation-like subsections."""
    kinds = _page_kinds(section)
    return _has_alert_fields(section) or len(kinds) >= 2 or bool(kinds & {"meaning", "impact"})


def _heading_name(section: Section) -> tuple[str, str] | None:
    """(name, the rest of the title) when a heading names an alert."""
    title = section.bare_title
    match = _ALERT_PREFIX.match(title)
    if match:
        name = clean_name(match.group(1))
        return (name, "") if _name_allowed(name, strict=False) else None
    codes = [clean_name(code) for code in section.heading.codes()]
    for code in codes:
        if is_identifier(code):
            return code, title.replace(code, "")
    name = clean_name(title)
    if is_identifier(name):
        return name, title.replace(name, "", 1).strip(" ()[]-–—|:`")
    # "RedisDown (critical)", "[P1] Disk full", "DiskFull — SEV2"
    match = re.match(r"^\[([^\]]+)\]\s*(.+)$|^(.+?)\s*(?:\(([^)]*)\)|[-–—|]\s*(\S.*))$", title)
    if match:
        head = match.group(2) or match.group(3) or ""
        rest = match.group(1) or match.group(4) or match.group(5) or ""
        if normalise_severity(rest) and plausible_name(clean_name(head)):
            return clean_name(head), rest.strip(" ()[]-–—|:")
    return name, ""


def _heading_alert(
    collector: AlertCollector, section: Section, grouped: set[int], page_title: bool
) -> bool:
    found = _heading_name(section)
    if found is None:
        return False
    name, rest = found
    explicit = bool(_ALERT_PREFIX.match(section.bare_title))
    if not explicit:
        if id(section) in grouped or page_section_kind(name) or field_key(name):
            return False
        if not plausible_name(name) or (generic_title(name) and not is_identifier(name)):
            return False
        context = _alert_context(section.parent) if section.parent is not None else False
        about = _about_one_alert(section)
        if is_identifier(name):
            if not (context or about):
                return False
        elif page_title or not (
            names_a_condition(name) and (about or (context and _has_body(section)))
        ):
            return False
    severity_text, response = _severity_context(section.parent or section)
    severity = rest if normalise_severity(rest) else None
    inferred = []
    if severity is None and severity_text:
        severity, inferred = severity_text, ["severity"]
    collector.add(
        name,
        "heading",
        section.line,
        home=section,
        inferred=inferred,
        severity=severity,
        response_time=response,
    )
    return True


def _has_body(section: Section) -> bool:
    return bool(section.blocks) or bool(section.children)


def page_title_section(document: Document) -> Section | None:
    """The heading that titles the page: the first level-1 heading, else the first heading
    when it is the only one at its level."""
    headings = [section for section in document.sections if section.level > 0]
    if not headings:
        return None
    top = [section for section in headings if section.level == 1]
    if len(top) == 1:
        return top[0]
    first = headings[0]
    same = [section for section in headings if section.level == first.level]
    return first if len(same) == 1 else None


def _page_alert(collector: AlertCollector, document: Document, defined: int) -> bool:
    """The page's title names the one alert the page is about."""
    section = page_title_section(document)
    if section is None:
        return False
    title = section.bare_title
    prefixed = _PAGE_PREFIX.match(title)
    codes = [clean_name(code) for code in section.heading.codes() if is_identifier(code)]
    if prefixed:
        name = clean_name(prefixed.group(1))
    elif codes:
        name = codes[0]
    else:
        name = clean_name(title)
    if not _name_allowed(name, strict=False) or page_section_kind(name):
        return False
    about = _about_one_alert(section) or _about_one_alert(document.root)
    stem = document.path.stem if document.path is not None else ""
    named_file = bool(stem) and _loose(stem) == _loose(name)
    if prefixed and not generic_title(name):
        pass
    elif is_identifier(name):
        if defined > 1 or not (about or named_file):
            return False
    elif generic_title(name) or defined or not (about and names_a_condition(name)):
        return False
    collector.add(name, "page", section.line, home=section)
    return True


def _loose(text: str) -> str:
    return "".join(char for char in text.lower() if char.isalnum())


def _front_matter_alerts(collector: AlertCollector, document: Document) -> None:
    """YAML front matter naming the page's alert(s) ("alert: X", "alerts: [X, Y]") and
    its fields ("severity: warning", "for: 1h", "summary: …")."""
    data = document.front_matter
    names: list[str] = []
    fields: list[Field] = []
    for key, value in data.items():
        kind = field_key(key) or ("alert" if key.lower() in ("alerts", "alertnames") else None)
        if kind is None or value in (None, "", []):
            continue
        if kind == "alert":
            values = value if isinstance(value, list) else [value]
            names.extend(clean_name(str(item)) for item in values if isinstance(item, str))
        elif isinstance(value, str | int | float):
            fields.append(Field(kind, key, Text((Span(str(value)),)), 1, bold=False))
    names = [name for name in names if _name_allowed(name, strict=False)]
    if not names:
        return
    home = page_title_section(document) or document.root
    for name in names:
        collector.add(
            name, "front matter", home.line, home=home if len(names) == 1 else None, where=home
        )
        if fields:
            apply_fields(collector, name, fields, home, source="front matter")


# --- lists ----------------------------------------------------------------------------


def _item_label(item: ListItem) -> tuple[str, str, str | None] | None:
    parts = item.text.label()
    if parts is not None:
        return parts
    # "KubeAPIDown - the API server is unreachable" (a plain identifier first)
    match = re.match(r"^([^\s:]+)\s*(?:[:\-–—]\s*(.*))?$", item.text.plain)
    if match and is_identifier(match.group(1)):
        return match.group(1), match.group(2) or "", None
    return None


def _list_alerts(collector: AlertCollector, section: Section, block: ListBlock) -> None:
    if not _alert_context(section) or page_section_kind(section.bare_title):
        return
    severity_text, response = _severity_context(section)
    for item in block.items:
        parts = _item_label(item)
        if parts is None:
            continue
        label, meaning, href = parts
        name = clean_name(label)
        if not _name_allowed(name, strict=True):
            continue
        sub_fields = [
            found
            for sub in item.sublists()
            for sub_item in sub.items
            for found in fields_in(sub_item.text, sub_item.line)
        ]
        severity = None
        for bracket in _BRACKETED_SEVERITY.finditer(meaning):
            stated = bracket.group(1) or bracket.group(2)
            if normalise_severity(stated):
                severity = stated
                break
        inferred = []
        if severity is None and severity_text:
            severity, inferred = severity_text, ["severity"]
        duration = for_in(meaning)
        collector.add(
            name,
            "list",
            item.line,
            where=section,
            inferred=inferred,
            meaning=meaning,
            severity=severity,
            threshold=threshold_in(meaning),
            for_=duration[0] if duration else None,
            response_time=response,
            procedure=href or None,
        )
        if sub_fields:
            apply_fields(collector, name, sub_fields, section)


# --- definition lists -----------------------------------------------------------------


def _definition_groups(section: Section) -> Iterator[tuple[str, int, list[Text]]]:
    """Definition-list entries ("Term\n: definition\n: definition", a blank line
    between term and definitions allowed): (term, line, definitions)."""
    pending: tuple[str, int] | None = None
    for block in section.blocks:
        if not isinstance(block, Paragraph):
            pending = None
            continue
        lines = block.text.lines()
        term: tuple[str, int] | None = pending
        definitions: list[Text] = []
        pending = None
        for offset, line in enumerate(lines):
            if line.plain.startswith(":"):
                definitions.append(_strip_colon(line))
                continue
            if term is not None and definitions:
                yield term[0], term[1], definitions
            term, definitions = (line.plain, block.line + offset), []
        if term is not None and definitions:
            yield term[0], term[1], definitions
        elif term is not None and len(lines) == 1:
            pending = term


def _strip_colon(line: Text) -> Text:
    spans = list(line.spans)
    first = spans[0]
    spans[0] = Span(first.text.lstrip()[1:].lstrip(), first.strong, first.code, first.href)
    return Text(tuple(span for span in spans if span.text))


def _definition_alerts(collector: AlertCollector, section: Section) -> None:
    """Alerts written as a definition list: the term is the name, each definition a
    labelled field ("Severity: critical") or the meaning."""
    context = _alert_context(section)
    for term, line, definitions in _definition_groups(section):
        name = clean_name(term)
        fields: list[Field] = []
        for offset, definition in enumerate(definitions):
            found = fields_in(definition, line + 1 + offset)
            if found:
                fields.extend(found)
            elif definition.plain:
                fields.append(Field("meaning", "", definition, line + 1 + offset, bold=False))
        stated = any(item.key in ("severity", "threshold", "expr", "for") for item in fields)
        if not _name_allowed(name, strict=True) or not (context or stated):
            continue
        if not is_identifier(name) and not context:
            continue
        meaning = next((item.text for item in fields if item.key == "meaning"), "")
        duration = for_in(meaning)
        collector.add(
            name,
            "list",
            line,
            where=section,
            threshold=threshold_in(meaning),
            for_=duration[0] if duration else None,
        )
        if fields:
            apply_fields(collector, name, fields, section, source="list")


# --- mentions -------------------------------------------------------------------------

_PLAIN_MENTION = re.compile(r"\balert\s*:\s*([A-Z][A-Za-z0-9_:]+)")
_NAME_BEFORE_ALERT = re.compile(
    r"(?:^|[\s(])([A-Z][A-Za-z0-9]*[a-z][A-Z][A-Za-z0-9]*|[A-Z][A-Z0-9]*_[A-Z0-9_]+)\s+alert\b"
)
_ALERT_BEFORE = re.compile(r"\b(?:alerts?|alarm)\s*:?\s*$", re.IGNORECASE)
_ALERT_AFTER = re.compile(
    r"^\s*(?:alerts?\b|alarm\b|is firing|fires|fired|firing|has fired)", re.IGNORECASE
)


def _mentions(text: Text) -> Iterator[str]:
    spans = text.spans
    for index, span in enumerate(spans):
        name = clean_name(span.text)
        if not span.code or not is_identifier(name):
            continue
        before = spans[index - 1].text if index > 0 else ""
        after = spans[index + 1].text if index + 1 < len(spans) else ""
        if _ALERT_BEFORE.search(before) or _ALERT_AFTER.match(after):
            yield name
    for span in spans:
        if not span.code:
            yield from _PLAIN_MENTION.findall(span.text)
            yield from _NAME_BEFORE_ALERT.findall(span.text)


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
        elif isinstance(block, Table):
            for row, line in zip(block.rows, block.row_lines, strict=False):
                for cell in row:
                    yield cell, line


# --- all together ---------------------------------------------------------------------


def extract_alerts(
    document: Document, rules: list[Rule], warnings: list[str], page: str | None = None
) -> AlertCollector:
    """Alerts in document order, with their homes; embedded rules are appended to `rules`."""
    collector = AlertCollector(page)
    _split_alert_blocks(document)
    titles = frozenset(
        title.lower()
        for section in document.sections
        for title in (section.title, section.bare_title)
    )
    for section in document.sections:
        for block in section.blocks:
            if isinstance(block, Table):
                _table_alerts(collector, section, block, titles)
    defined_in: dict[int, list[str]] = {}
    for section in document.sections:
        names = _field_alerts(collector, section)
        if names:
            defined_in[id(section)] = names
            if len(names) == 1:
                collector.homes.setdefault(names[0], section)
    _front_matter_alerts(collector, document)
    for section in document.sections:
        _definition_alerts(collector, section)
    for section in document.sections:
        for block in section.blocks:
            if isinstance(block, ListBlock):
                _list_alerts(collector, section, block)
    # a section holding several alerts (a list, a table, labels) groups them; it is
    # not itself an alert's heading, nor are its ancestors
    grouped: set[int] = set()
    for name, places in collector.places.items():
        for place in places:
            if collector.homes.get(name) is place:
                continue
            for node in (place, *place.ancestors()):
                grouped.add(id(node))
    # a section that is already an alert's home is about that alert
    grouped.update(id(home) for home in collector.homes.values())
    title_section = page_title_section(document)
    for section in document.sections:
        if section.level == 0 or section is title_section:
            continue
        _heading_alert(collector, section, grouped, page_title=False)
    defined = len(collector.alerts())
    homed = {id(home) for home in collector.homes.values()}
    if (
        title_section is not None
        and not homed & {id(title_section), id(document.root)}
        and not _heading_alert(collector, title_section, grouped, page_title=True)
    ):
        _page_alert(collector, document, defined)
    for section in document.sections:
        for block in section.blocks:
            if isinstance(block, Fence):
                for rule in rules_in_fence(block, document.source, warnings):
                    rules.append(rule)
                    annotations = rule.annotations
                    collector.add(
                        rule.name,
                        "rule",
                        rule.line or block.line,
                        where=section,
                        meaning=annotations.get("summary") or annotations.get("description") or "",
                        severity=rule.severity,
                        threshold=_expr_threshold(rule.expr),
                        expr=rule.expr,
                        for_=rule.for_,
                        procedure=annotations.get("runbook_url")
                        or annotations.get("runbook")
                        or None,
                    )
    for section in document.sections:
        for text, line in _texts(section):
            for name in _mentions(text):
                collector.add(name, "mention", line, where=section)
    return collector


_EXPR_COMPARISON = re.compile(r"(==|!=|>=|<=|>|<)\s*(-?[\d.]+(?:e[+-]?\d+)?)\s*$", re.IGNORECASE)


def _expr_threshold(expr: str) -> str | None:
    """The comparison a PromQL expression ends with ("... ) > 0.01" → "> 0.01")."""
    match = _EXPR_COMPARISON.search(expr.strip())
    return f"{match.group(1)} {match.group(2)}" if match else None
