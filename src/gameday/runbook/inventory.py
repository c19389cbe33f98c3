"""What the system is made of and where to look: services, components, dependencies, dashboards."""

from __future__ import annotations

import re

from gameday.runbook.document import Document, ListBlock, Table
from gameday.runbook.model import Dashboard, Service

__all__ = ["extract_dashboards", "extract_services"]

_SERVICE_SECTION = re.compile(
    r"\b(services?|components?|inventory|architecture|dependenc\w*)\b", re.IGNORECASE
)
_DEPENDENCY = re.compile(r"dependenc", re.IGNORECASE)
_NOT_INVENTORY = re.compile(r"restart|scal|rotation|deploy|mesh|account", re.IGNORECASE)
_URL = re.compile(r"(https?://\S+|/d/\S+)")


def extract_services(document: Document) -> list[Service]:
    services: list[Service] = []
    seen: set[str] = set()

    def add(name: str, description: str, kind: str, line: int) -> None:
        name = name.strip()
        if name and name not in seen:
            seen.add(name)
            services.append(Service(name, description.strip(), kind, line))

    for section in document.sections:
        title = section.bare_title
        if not _SERVICE_SECTION.search(title) or _NOT_INVENTORY.search(title):
            continue
        kind = "dependency" if _DEPENDENCY.search(title) else "component"
        for block in section.blocks:
            if isinstance(block, ListBlock):
                for item in block.items:
                    parts = item.text.label()
                    if parts is not None:
                        add(parts[0], parts[1], kind, item.line)
            elif isinstance(block, Table) and block.header:
                first = block.header[0].lower()
                if not any(word in first for word in ("service", "component", "name", "part")):
                    continue
                if any(word in first for word in ("alert", "alarm", "monitor", "rule")):
                    continue  # an alert table under a "… Service …" title
                description_col = block.column("purpose", "description", "role", "type", "what")
                for row, line in zip(block.rows, block.row_lines, strict=False):
                    name_cell = block.cell(row, 0)
                    description = block.cell(row, description_col)
                    if name_cell is not None:
                        add(name_cell.plain, description.plain if description else "", kind, line)
    return services


def extract_dashboards(document: Document) -> list[Dashboard]:
    dashboards: list[Dashboard] = []
    for section in document.sections:
        if "dashboard" not in section.title.lower():
            continue
        for block in section.blocks:
            if isinstance(block, ListBlock):
                for item in block.items:
                    parts = item.text.label()
                    if parts is None:
                        continue
                    name, rest, href = parts
                    url = href or (match.group(0) if (match := _URL.search(rest)) else rest)
                    dashboards.append(Dashboard(name, url, item.line))
            elif isinstance(block, Table):
                name_col = block.column("dashboard", "name")
                url_col = block.column("url", "link", "address")
                if name_col is None:
                    continue
                for row, line in zip(block.rows, block.row_lines, strict=False):
                    name_cell = block.cell(row, name_col)
                    url_cell = block.cell(row, url_col)
                    if name_cell is None or not name_cell.plain:
                        continue
                    link = next((span.href for span in name_cell.spans if span.href), None)
                    url = url_cell.plain if url_cell else (link or "")
                    dashboards.append(Dashboard(name_cell.plain, url, line))
    return dashboards
