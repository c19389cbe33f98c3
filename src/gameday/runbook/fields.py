"""Definition-like fields: "**Severity:** CRITICAL", "Alert: `DiskFull`", "| Severity | P1 |".

A paragraph often holds several fields, one per line or several on a line
("**Alert:** `X` **Severity:** critical"); a list item holds one; a two-column
table whose first column is labels holds one per row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gameday.runbook.document import Span, Table, Text
from gameday.runbook.vocabulary import field_key

__all__ = ["Field", "fields_in", "table_fields"]


@dataclass(frozen=True)
class Field:
    """A label and its value; `key` is what the label means (vocabulary.field_key) or ""."""

    key: str
    label: str
    value: Text
    line: int
    bold: bool = True

    @property
    def text(self) -> str:
        return self.value.plain


_PLAIN_LABEL = re.compile(r"^\s*([^\W\d][\w ./()-]{0,40}?)\s*[:：]\s*(.*)$", re.DOTALL)
_LEADING_SEPARATOR = re.compile(r"^\s*[:：\-–—]\s*")


def _strip_separator(spans: list[Span]) -> list[Span]:
    while spans and not spans[0].marked and not spans[0].text.strip(" :：-–—"):
        spans = spans[1:]
    if spans and not spans[0].marked:
        first = spans[0]
        spans = [Span(_LEADING_SEPARATOR.sub("", first.text), first.strong), *spans[1:]]
    return spans


def _label_span(spans: list[Span], index: int) -> str | None:
    """The label a strong span starts ("**Severity:**", "**Severity**:"), or None."""
    span = spans[index]
    if not span.strong or span.code:
        return None
    text = span.text.strip()
    after = spans[index + 1].text if index + 1 < len(spans) else ""
    if text.endswith((":", "：")):
        return text[:-1].strip()
    if after.lstrip().startswith((":", "：")):
        return text
    return None


def _line_fields(line: Text, number: int) -> list[Field]:
    spans = list(line.spans)
    while spans and not spans[0].text.strip():
        spans.pop(0)
    if not spans:
        return []
    fields: list[Field] = []
    current: tuple[str, list[Span], bool] | None = None
    leading = spans[0]
    if not leading.marked:
        match = _PLAIN_LABEL.match(leading.text)
        if match and field_key(match.group(1)):
            rest = match.group(2)
            current = (match.group(1), [Span(rest)] if rest else [], False)
            spans = spans[1:]
    for index, span in enumerate(spans):
        label = _label_span(spans, index)
        known = label is not None and field_key(label) is not None
        if label is not None and (known or (index == 0 and current is None)):
            if current is not None:
                fields.append(_field(current, number))
            current = (label, [], True)
            continue
        if current is None:
            return []  # prose that does not start with a label
        current[1].append(span)
    if current is not None:
        fields.append(_field(current, number))
    return fields


def _field(current: tuple[str, list[Span], bool], number: int) -> Field:
    label, spans, bold = current
    value = Text(tuple(_strip_separator(spans)))
    return Field(field_key(label) or "", label, value, number, bold)


def fields_in(text: Text, line: int) -> list[Field]:
    """The fields of a paragraph or list item, line by line; [] when it is prose."""
    out: list[Field] = []
    for offset, part in enumerate(text.lines()):
        found = _line_fields(part, line + offset)
        if not found:
            if out:
                # a continuation line belongs to the previous field's value
                last = out[-1]
                joined = Text((*last.value.spans, Span(" "), *part.spans))
                out[-1] = Field(last.key, last.label, joined, last.line, last.bold)
            continue
        out.extend(found)
    return out


def table_fields(table: Table) -> list[Field]:
    """Rows of a two-column table whose first column holds field labels
    ("| Alert | `DiskFull` |", "| Severity | P1 |"), header row included."""
    if len(table.header) != 2:
        return []
    rows = [(Text((Span(table.header[0]),)), table.line, Text((Span(table.header[1]),)))]
    rows += [
        (row[0], line, row[1])
        for row, line in zip(table.rows, table.row_lines, strict=False)
        if len(row) >= 2
    ]
    fields = [
        Field(key, label.plain, value, line)
        for label, line, value in rows
        if (key := field_key(label.plain) or "")
    ]
    return fields if len(fields) >= 2 else []
