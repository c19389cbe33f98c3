"""What an alert's own section says about it: meaning, labelled fields, thresholds and
durations in prose, response time, escalation conditions, and the procedure that answers it.

An alert's procedure is, in order: the one the runbook names for it (a link, a
Procedure column or label, a rule's runbook_url that points into the runbook),
the procedure of its own section (inferred: by section), the procedure of the
section that mentions it (inferred), a procedure whose title names it
(inferred: by name).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

from gameday.runbook.alerts import apply_fields, block_fields
from gameday.runbook.collector import AlertCollector
from gameday.runbook.document import Fence, ListBlock, Paragraph, Section, slugify
from gameday.runbook.fields import Field
from gameday.runbook.model import Alert, Procedure
from gameday.runbook.names import loose_key
from gameday.runbook.procedures import owning_procedure
from gameday.runbook.quantities import for_in, response_in, threshold_in
from gameday.runbook.vocabulary import page_section_kind, procedure_rank

__all__ = ["alert_owners", "complete_alerts", "resolve_procedure"]

_ESCALATE = re.compile(r"\b(escalat\w*|page the|eskalier\w*|escalad\w*|эскалир\w*)", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _describing(home: Section, homes: set[int]) -> Iterator[Section]:
    """The home and its subsections that describe (not handle) the alert."""
    yield home
    for child in home.descendants():
        if id(child) in homes:
            continue
        if page_section_kind(child.bare_title) in ("meaning", "impact"):
            yield child


def _own_sections(home: Section, homes: set[int]) -> Iterator[Section]:
    yield home
    for child in home.descendants():
        if id(child) not in homes:
            yield child


def _paragraphs(section: Section) -> Iterator[str]:
    for block in section.blocks:
        if isinstance(block, Paragraph) and block.text.label() is None:
            yield block.text.plain
        elif isinstance(block, ListBlock):
            for item in block.items:
                yield item.text.plain


def _fields(home: Section, homes: set[int], name: str) -> list[Field]:
    """Labelled fields of the alert's own sections, stopping at another alert's label."""
    found: list[Field] = []
    for section in _describing(home, homes):
        for block in section.blocks:
            if isinstance(block, Fence):
                continue
            for group in block_fields(block):
                for item in group:
                    if item.key == "alert" and loose_key(item.text) != loose_key(name):
                        return found
                    if item.key and item.key != "alert":
                        found.append(item)
    return found


def _meaning(home: Section, homes: set[int]) -> str:
    for section in _describing(home, homes):
        for block in section.blocks:
            if isinstance(block, Paragraph) and block.text.label() is None:
                text = block.text.plain
                if len(text) > 3:
                    return text
    return ""


def _complete(collector: AlertCollector, alert: Alert, home: Section, homes: set[int]) -> None:
    fields = _fields(home, homes, alert.name)
    if fields:
        apply_fields(collector, alert.name, fields, home, source=alert.sources[0])
    if not alert.meaning:
        collector.set(alert, "meaning", _meaning(home, homes))
    prose = [text for section in _describing(home, homes) for text in _paragraphs(section)]
    for text in prose:
        if alert.for_ is None and (duration := for_in(text)):
            collector.set(alert, "for_", duration[0])
        if alert.threshold is None and (threshold := threshold_in(text)):
            collector.set(alert, "threshold", threshold)
        if alert.response_time is None and (response := response_in(text)):
            collector.set(alert, "response_time", response)
    conditions: list[str] = []
    for section in _own_sections(home, homes):
        escalation_section = page_section_kind(section.bare_title) == "escalation"
        for text in _paragraphs(section):
            for sentence in _SENTENCE.split(text):
                if escalation_section or _ESCALATE.search(sentence):
                    conditions.append(sentence.strip())
    if conditions:
        collector.set(alert, "escalation", conditions)


def resolve_procedure(ref: str, procedures: list[Procedure]) -> Procedure | None:
    """The procedure a reference names: "#anchor", "page.md#anchor", a title, part of a title."""
    ref = unquote(ref)
    wanted = ref.split("#", 1)[1] if "#" in ref else ref
    lowered = wanted.strip().lower()
    if not lowered:
        return None
    slug = slugify(wanted)
    for procedure in procedures:
        if lowered in (procedure.anchor, procedure.title.lower()) or slug == procedure.anchor:
            return procedure
    if "#" in ref or "/" in ref or "." in wanted:
        return None
    for procedure in procedures:
        if lowered in procedure.title.lower():
            return procedure
    return None


def _home_procedure(home: Section, by_section: dict[int, Procedure]) -> Procedure | None:
    if id(home) in by_section:
        return by_section[id(home)]
    ranked = [
        (procedure_rank(child.bare_title), -index, by_section[id(child)])
        for index, child in enumerate(home.descendants())
        if id(child) in by_section
    ]
    if ranked:
        return max(ranked, key=lambda entry: entry[:2])[2]
    return owning_procedure(home, by_section)


def _tie(
    collector: AlertCollector,
    alert: Alert,
    by_section: dict[int, Procedure],
    procedures: list[Procedure],
) -> None:
    if alert.procedure and "procedure" not in alert.inferred:
        found = resolve_procedure(alert.procedure, procedures)
        if found is not None:
            alert.procedure = found.title
        return
    home = collector.homes.get(alert.name)
    found = _home_procedure(home, by_section) if home is not None else None
    for place in collector.places.get(alert.name, []):
        if found is not None:
            break
        found = owning_procedure(place, by_section)
    if found is None:
        keys = {loose_key(alert.name), *(loose_key(alias) for alias in alert.aliases)}
        found = next(
            (p for p in procedures if any(key and key in loose_key(p.title) for key in keys)),
            None,
        )
    if found is not None:
        collector.set(alert, "procedure", found.title, inferred=True)


def complete_alerts(collector: AlertCollector, by_section: dict[int, Procedure]) -> None:
    """Fill each alert from its home section and tie it to its procedure."""
    homes = {id(home) for home in collector.homes.values()}
    procedures = list(by_section.values())
    for alert in collector.alerts():
        home = collector.homes.get(alert.name)
        if home is not None:
            _complete(collector, alert, home, homes)
        _tie(collector, alert, by_section, procedures)


def alert_owners(collector: AlertCollector) -> dict[int, str]:
    """The alert each section is about (by section id): its home and the home's subsections."""
    owners: dict[int, str] = {}
    for name, home in collector.homes.items():
        for section in (home, *home.descendants()):
            owners.setdefault(id(section), name)
    return owners
