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
from gameday.runbook.document import Document, Fence, ListBlock, Paragraph, Section, Table, slugify
from gameday.runbook.fields import Field
from gameday.runbook.model import Alert, Procedure
from gameday.runbook.names import loose_key
from gameday.runbook.procedures import owning_procedure, pure_label
from gameday.runbook.quantities import for_in, parse_duration, response_in, threshold_in
from gameday.runbook.severity import normalise_severity, stated_severity
from gameday.runbook.vocabulary import page_section_kind, procedure_rank

__all__ = ["alert_owners", "answering_sections", "complete_alerts", "resolve_procedure"]

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
            if (
                isinstance(block, Paragraph)
                and block.text.label() is None
                and pure_label(block.text) is None
            ):
                text = block.text.plain
                if len(text) > 3:
                    return text
    return ""


_KEYWORD = re.compile(r"^\W*[^\W\d]+(?:[ -][^\W\d]+)?\W*", re.UNICODE)
_RESPONSE_TITLE = re.compile(r"respon|ack|sla|реакц|reaktion|réponse", re.IGNORECASE)


def _section_texts(section: Section) -> Iterator[str]:
    """The text of a section's heading after its keyword ("Severity: P2" → "P2"), then
    of its paragraphs, list items and table cells."""
    rest = section.bare_title
    keyword = _KEYWORD.match(rest)
    if keyword:
        rest = rest[keyword.end() :]
    if rest.strip():
        yield rest.strip()
    for block in section.blocks:
        if isinstance(block, Paragraph):
            yield from (line.plain for line in block.text.lines())
        elif isinstance(block, ListBlock):
            yield from (item.text.plain for item in block.items)
        elif isinstance(block, Table):
            yield from (" ".join(cell.plain for cell in row) for row in block.rows)


def _severity_sections(
    collector: AlertCollector, alert: Alert, home: Section, homes: set[int]
) -> None:
    """A Severity / Priority / Urgency / Response-time section of the alert's own page
    states its severity and response time ("P2 - respond within 30 minutes")."""
    for section in home.descendants():
        if id(section) in homes or page_section_kind(section.bare_title) != "severity":
            continue
        fields = [
            item
            for block in section.blocks
            if not isinstance(block, Fence)
            for group in block_fields(block)
            for item in group
            if item.key in ("severity", "response")
        ]
        if fields:
            apply_fields(collector, alert.name, fields, home, source=alert.sources[0])
        texts = list(_section_texts(section))
        if alert.severity is None or "severity" in alert.inferred:
            stated = next((found for text in texts if (found := stated_severity(text))), None)
            if stated is not None and normalise_severity(stated):
                collector.set(alert, "severity", stated)
        if alert.response_time is None:
            response = next((found for text in texts if (found := response_in(text))), None)
            if response is None and _RESPONSE_TITLE.search(section.bare_title):
                response = next((text for text in texts if parse_duration(text) is not None), None)
            if response is not None:
                collector.set(alert, "response_time", response)


def _complete(collector: AlertCollector, alert: Alert, home: Section, homes: set[int]) -> None:
    fields = _fields(home, homes, alert.name)
    if fields:
        apply_fields(collector, alert.name, fields, home, source=alert.sources[0])
    _severity_sections(collector, alert, home, homes)
    if not alert.meaning:
        collector.set(alert, "meaning", _meaning(home, homes))
    if not alert.meaning and alert.threshold and len(alert.threshold.split()) >= 3:
        # "Fires when: less than 5 % space left on /" says what the alert means
        collector.set(alert, "meaning", alert.threshold)
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


def _section_for(ref: str, document: Document) -> Section | None:
    """The section of this page a procedure reference names: "#anchor", "this-page.md#anchor"
    or the section's title."""
    ref = unquote(ref).strip()
    if "#" in ref:
        path, _, wanted = ref.partition("#")
        own = document.path.name if document.path is not None else ""
        if path and (not own or path.rsplit("/", 1)[-1] != own):
            return None
    elif "/" in ref or "://" in ref:
        return None
    else:
        wanted = ref
    lowered, slug = wanted.strip().lower(), slugify(wanted)
    if not lowered:
        return None
    for section in document.sections[1:]:
        if lowered in (section.anchor, section.title.lower(), section.bare_title.lower()) or (
            slug == section.anchor
        ):
            return section
    return None


def answering_sections(document: Document, collector: AlertCollector) -> list[Section]:
    """Sections that answer an alert without being its home: the one its Procedure
    column or link names ("[link](#retries)"), or one whose title carries its name
    ("## Handling PaymentRetriesExhausted"). Each is read as that alert's procedure."""
    homes = {id(home) for home in collector.homes.values()}
    found: list[Section] = []

    def add(section: Section | None) -> None:
        if section is None or section.level == 0 or any(section is known for known in found):
            return
        if any(id(node) in homes for node in (section, *section.ancestors())):
            return
        found.append(section)

    for alert in collector.alerts():
        if alert.procedure and "procedure" not in alert.inferred:
            add(_section_for(alert.procedure, document))
            continue
        if alert.name in collector.homes:
            continue
        keys = [
            key for key in (loose_key(alert.name), *map(loose_key, alert.aliases)) if len(key) >= 6
        ]
        for section in document.sections[1:]:
            title = loose_key(section.bare_title)
            if any(key in title for key in keys) and not _groups(section, collector):
                add(section)
                break
    return found


def _groups(section: Section, collector: AlertCollector) -> bool:
    """The section lists alerts (a table or list naming them), rather than answering one."""
    return any(place is section for places in collector.places.values() for place in places)


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
    document: Document | None = None,
) -> None:
    if alert.procedure and "procedure" not in alert.inferred:
        found = resolve_procedure(alert.procedure, procedures)
        if found is None and document is not None:
            # a link to a section whose steps a larger procedure holds, or to one without steps
            section = _section_for(alert.procedure, document)
            if section is not None:
                found = owning_procedure(section, by_section)
                if found is None:
                    alert.procedure = section.bare_title or section.title
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


def complete_alerts(
    collector: AlertCollector,
    by_section: dict[int, Procedure],
    document: Document | None = None,
) -> None:
    """Fill each alert from its home section and tie it to its procedure."""
    homes = {id(home) for home in collector.homes.values()}
    procedures = [*by_section.values(), *collector.procedures]
    for alert in collector.alerts():
        home = collector.homes.get(alert.name)
        if home is not None:
            _complete(collector, alert, home, homes)
        _tie(collector, alert, by_section, procedures, document)


def alert_owners(collector: AlertCollector) -> dict[int, str]:
    """The alert each section is about (by section id): its home and the home's subsections."""
    owners: dict[int, str] = {}
    for name, home in collector.homes.items():
        for section in (home, *home.descendants()):
            owners.setdefault(id(section), name)
    return owners
