"""SLO/SLA targets: availability, latency quantiles, error rate, MTTD, MTTR, RTO, RPO.

Read from tables (a metric column and a target column, or per-service RTO/RPO
columns) and from "**Availability:** 99.9%" list items in SLO sections.
"""

from __future__ import annotations

import re

from gameday.runbook.document import Document, ListBlock, Section, Table
from gameday.runbook.model import SloTarget
from gameday.runbook.quantities import parse_duration, parse_quantile, parse_quantity

__all__ = ["extract_slos", "slo_kind"]

_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("mttd", re.compile(r"\bmttd\b|time to detect|detection time", re.IGNORECASE)),
    (
        "mttr",
        re.compile(
            r"\bmttr\b|time to (resolve|recover|restore|repair)|resolution time", re.IGNORECASE
        ),
    ),
    ("rto", re.compile(r"\brto\b|recovery time objective", re.IGNORECASE)),
    ("rpo", re.compile(r"\brpo\b|recovery point", re.IGNORECASE)),
    ("availability", re.compile(r"availab|uptime", re.IGNORECASE)),
    ("latency", re.compile(r"latenc|\bp\d{2}(\.\d+)?\b", re.IGNORECASE)),
    (
        "error_rate",
        re.compile(r"error[- ]?(rate|ratio|budget)|\berrors?\b|success rate", re.IGNORECASE),
    ),
)
_DURATION_KINDS = frozenset({"mttd", "mttr", "rto", "rpo"})
_SLO_SECTION = re.compile(r"\b(slo|sla|sli)s?\b|objective|service level|targets?\b", re.IGNORECASE)


def slo_kind(name: str) -> str | None:
    """The kind of target a metric name describes, or None ("HoloFPSDegradation" → None)."""
    for kind, pattern in _KINDS:
        if pattern.search(name):
            return kind
    return None


def _target(name: str, kind: str, target: str, line: int, **extra: str | None) -> SloTarget:
    comparator: str | None = None
    value: float | None = None
    unit: str | None = None
    quantity = parse_quantity(target)
    if kind in _DURATION_KINDS:
        seconds = parse_duration(target)
        comparator = quantity.comparator if quantity else None
        value, unit = (seconds, "s") if seconds is not None else (None, None)
    elif quantity is not None:
        comparator, value, unit = quantity.comparator, quantity.value, quantity.unit
    return SloTarget(
        name=name,
        kind=kind,
        target=target,
        comparator=comparator,
        value=value,
        unit=unit,
        quantile=parse_quantile(name) if kind == "latency" else None,
        scope=extra.get("scope"),
        measurement=extra.get("measurement") or "",
        line=line,
    )


def _from_table(table: Table, in_slo_section: bool) -> list[SloTarget]:
    if table.column("alert") is not None:
        return []
    target_col = table.column("target", "objective", "goal", "threshold")
    first = table.header[0].lower() if table.header else ""
    metric_header = any(
        word in first for word in ("metric", "slo", "sli", "objective", "indicator", "name")
    )
    out: list[SloTarget] = []
    if target_col is not None and target_col != 0 and (in_slo_section or metric_header):
        measure_col = table.column("measure", "description", "window", "notes", "how")
        for row, line in zip(table.rows, table.row_lines, strict=False):
            name_cell, target_cell = table.cell(row, 0), table.cell(row, target_col)
            if name_cell is None or target_cell is None or not target_cell.plain:
                continue
            name = name_cell.plain
            kind = slo_kind(name) or "other"
            measure = table.cell(row, measure_col)
            out.append(
                _target(
                    name,
                    kind,
                    target_cell.plain,
                    line,
                    measurement=measure.plain if measure else "",
                )
            )
        return out
    kind_columns: list[tuple[int, str]] = []
    for index, header in enumerate(table.header[1:], start=1):
        header_kind = slo_kind(header)
        if header_kind is not None and header_kind in _DURATION_KINDS | {"availability"}:
            kind_columns.append((index, header_kind))
    if not kind_columns:
        return out
    for row, line in zip(table.rows, table.row_lines, strict=False):
        scope_cell = table.cell(row, 0)
        if scope_cell is None:
            continue
        scope = scope_cell.plain
        for index, kind in kind_columns:
            cell = table.cell(row, index)
            if cell is None or not cell.plain:
                continue
            out.append(_target(f"{kind.upper()} {scope}", kind, cell.plain, line, scope=scope))
    return out


def _from_list(block: ListBlock) -> list[SloTarget]:
    out: list[SloTarget] = []
    for item in block.items:
        parts = item.text.label()
        if parts is None:
            continue
        name, rest, _ = parts
        kind = slo_kind(name)
        if kind is None or not rest:
            continue
        out.append(_target(name, kind, rest, item.line))
    return out


def _is_slo_section(section: Section) -> bool:
    return bool(_SLO_SECTION.search(section.bare_title))


def extract_slos(document: Document) -> list[SloTarget]:
    slos: list[SloTarget] = []
    for section in document.sections:
        in_slo = _is_slo_section(section)
        for block in section.blocks:
            if isinstance(block, Table):
                slos.extend(_from_table(block, in_slo))
            elif isinstance(block, ListBlock) and in_slo:
                slos.extend(_from_list(block))
    return slos
