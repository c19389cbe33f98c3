"""Rule alerts looked for in a runbook (`--rules`).

Each rule's alert is searched for in the runbook: an alert the runbook names
in another spelling ("GPU Saturation" for `GpuSaturation`) takes the rule's
name (the runbook's spelling is kept as an alias); a heading that names it
makes that section its home (its procedure, thresholds, escalation); a
mention in prose or a table ties it to the section that mentions it. A rule
alert the runbook never names stays out of the runbook model: a coverage gap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gameday.runbook.collector import AlertCollector
from gameday.runbook.document import Document, ListBlock, Paragraph, Section, Table
from gameday.runbook.model import Rule, normalise_name
from gameday.runbook.names import loose_key

__all__ = ["bind_rules"]


def _texts(section: Section) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for block in section.blocks:
        if isinstance(block, Paragraph):
            out.append((block.text.plain, block.line))
        elif isinstance(block, ListBlock):
            stack = list(block.items)
            while stack:
                item = stack.pop(0)
                out.append((item.text.plain, item.line))
                for sub in item.sublists():
                    stack.extend(sub.items)
        elif isinstance(block, Table):
            for row, line in zip(block.rows, block.row_lines, strict=False):
                out.extend((cell.plain, line) for cell in row)
    return out


def _word(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-])")


def bind_rules(collector: AlertCollector, document: Document, rules: Sequence[Rule]) -> None:
    by_loose: dict[str, str] = {}
    for alert in collector.alerts():
        by_loose.setdefault(loose_key(alert.name), alert.name)
    for rule in rules:
        name = normalise_name(rule.name)
        if not name or name in collector:
            continue
        key = loose_key(name)
        if key and key in by_loose:
            collector.rename(by_loose.pop(key), name)
            continue
        pattern = _word(name)
        heading = next(
            (
                section
                for section in document.sections
                if section.level > 0
                and (pattern.search(section.title) or loose_key(section.bare_title) == key)
            ),
            None,
        )
        if heading is not None:
            collector.add(name, "rules", heading.line, home=heading)
            continue
        for section in document.sections:
            hit = next((line for text, line in _texts(section) if pattern.search(text)), None)
            if hit is not None:
                collector.add(name, "rules", hit, where=section)
                break
