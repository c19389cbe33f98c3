"""A runbook made of several pages: a folder of Markdown files, or an index page and the
per-alert pages it links to that are on disk.

Each page is read and understood on its own, then the pages are merged into one
`Runbook`: alerts of the same name merge; an index entry that links to a page
about one alert becomes that alert (the page's identifier-like name wins, the
other spelling is an alias) and takes the page's procedure; procedure titles
that several pages share ("Mitigation") are prefixed with their page's title.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from gameday.errors import InvalidInputError
from gameday.runbook.document import ListBlock, Paragraph, Table, parse_document
from gameday.runbook.encoding import decode_bytes
from gameday.runbook.model import Alert, Procedure, Rule, Runbook
from gameday.runbook.names import is_identifier, loose_key
from gameday.runbook.parser import build_runbook, check_text, report_missing
from gameday.runbook.vocabulary import procedure_rank

__all__ = ["read_runbook"]

_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mdx"})
_INDEX_NAMES = ("index", "readme", "_index", "home", "contents", "summary")
_MAX_PAGES = 500


@dataclass
class _Page:
    path: Path
    runbook: Runbook
    links: list[str]


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(
            "runbook not found", source=str(path), hint="check the path given to --runbook"
        ) from None
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read the runbook ({exc.strerror or exc})",
            source=str(path),
            hint="check the file's permissions",
        ) from None


def _page(path: Path, rules: Sequence[Rule], label: str | None) -> _Page:
    source = str(path)
    decoded = decode_bytes(_read_bytes(path))
    if decoded is None:
        raise InvalidInputError(
            "this is not a text file (it contains NUL bytes)",
            source=source,
            hint="give the runbook's Markdown file",
        )
    check_text(decoded.text, source)
    document = parse_document(decoded.text, source)
    document.path = path
    runbook = build_runbook(document, rules=rules, page=label)
    runbook.notes.extend(f"{source}: {note}" for note in decoded.notes)
    runbook.warnings[:0] = [f"{source}: {warning}" for warning in decoded.warnings]
    links: list[str] = []
    for section in document.sections:
        for block in section.blocks:
            texts = []
            if isinstance(block, Paragraph):
                texts = [block.text]
            elif isinstance(block, ListBlock):
                texts = [item.text for item in block.items]
            elif isinstance(block, Table):
                texts = [cell for row in block.rows for cell in row]
            links.extend(href for text in texts for href in text.hrefs())
    return _Page(path, runbook, links)


def _local_target(base: Path, href: str) -> Path | None:
    """The Markdown file on disk a link points to, or None (a URL, an anchor, missing)."""
    parsed = urlparse(href)
    if parsed.scheme or parsed.netloc or not parsed.path:
        return None
    target = (base.parent / unquote(parsed.path)).resolve()
    if target.suffix.lower() not in _SUFFIXES or not target.is_file():
        return None
    return target


def _folder_pages(folder: Path) -> list[Path]:
    pages = sorted(
        path
        for path in folder.rglob("*")
        if path.suffix.lower() in _SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") or part == "node_modules" for part in path.parts[-8:])
    )
    pages.sort(
        key=lambda path: (
            len(path.relative_to(folder).parts),
            path.stem.lower() not in _INDEX_NAMES,
        )
    )
    return pages[:_MAX_PAGES]


def read_runbook(path: Path, *, rules: Sequence[Rule] = ()) -> Runbook:
    """A runbook file (with the local pages its links lead to), or a folder of pages."""
    if path.is_dir():
        files = _folder_pages(path)
        if not files:
            raise InvalidInputError(
                "this folder holds no Markdown pages (*.md)",
                source=str(path),
                hint="give a runbook file, or a folder of .md runbook pages",
            )
        root = path
    else:
        files = [path]
        root = path.parent
    pages: list[_Page] = []
    seen: set[Path] = set()
    queue = [file.resolve() if file.exists() else file for file in files]
    while queue and len(pages) < _MAX_PAGES:
        file = queue.pop(0)
        if file in seen:
            continue
        seen.add(file)
        label = _label(file, root) if (path.is_dir() or pages) else None
        page = _page(file, rules, label)
        pages.append(page)
        if not path.is_dir() and len(pages) == 1:
            # an index page: follow its links to pages on disk (one level)
            queue.extend(
                target
                for href in page.links
                if (target := _local_target(file, href)) is not None and target not in seen
            )
    if len(pages) == 1:
        runbook = pages[0].runbook
        report_missing(runbook)
        return runbook
    merged = _merge(pages, str(path), root)
    report_missing(merged)
    return merged


def _label(file: Path, root: Path) -> str:
    try:
        return str(file.relative_to(root.resolve()))
    except ValueError:
        return file.name


def _main_procedure(runbook: Runbook, alert: Alert | None) -> Procedure | None:
    if alert is not None and alert.procedure:
        found = runbook.procedure(alert.procedure)
        if found is not None:
            return found
    if not runbook.procedures:
        return None
    return max(
        runbook.procedures,
        key=lambda p: (procedure_rank(p.title), -(p.line or 0)),
    )


def _merge(pages: list[_Page], source: str, root: Path) -> Runbook:
    first = pages[0].runbook
    index_title = first.title
    if Path(source).is_dir() and pages[0].path.stem.lower() not in _INDEX_NAMES:
        index_title = Path(source).name
    merged = Runbook(source=source, title=index_title)
    merged.pages = [_label(page.path, root) for page in pages]
    titles: dict[str, int] = {}
    for page in pages:
        for procedure in page.runbook.procedures:
            titles[procedure.title] = titles.get(procedure.title, 0) + 1
    by_path = {page.path.resolve(): page for page in pages}
    renamed: dict[tuple[int, str], str] = {}
    for number, page in enumerate(pages):
        for procedure in page.runbook.procedures:
            title = procedure.title
            if titles[title] > 1:
                title = f"{page.runbook.title or page.path.stem} › {procedure.title}"
                renamed[(number, procedure.title)] = title
            merged.procedures.append(
                Procedure(
                    title,
                    procedure.steps,
                    procedure.commands,
                    procedure.anchor,
                    procedure.is_rollback,
                    procedure.line,
                )
            )
    alerts: dict[str, Alert] = {}
    for number, page in enumerate(pages):
        for alert in page.runbook.alerts:
            if alert.procedure and (number, alert.procedure) in renamed:
                alert.procedure = renamed[(number, alert.procedure)]
    for page in pages:
        for alert in page.runbook.alerts:
            target = _linked_page(page, alert, by_path)
            if target is not None and target is not page:
                _absorb(alert, target, pages.index(target), renamed)
                continue
            _add(alerts, alert)
    for page in pages:
        for alert in page.runbook.alerts:
            if alert.name not in alerts and not any(
                alert.name in a.aliases for a in alerts.values()
            ):
                _add(alerts, alert)
    merged.alerts = sorted(
        alerts.values(),
        key=lambda a: (merged.pages.index(a.page) if a.page in merged.pages else 0, a.line or 0),
    )
    for page in pages:
        runbook = page.runbook
        merged.services.extend(s for s in runbook.services if s not in merged.services)
        merged.slos.extend(runbook.slos)
        merged.severity_levels.extend(runbook.severity_levels)
        merged.escalation.extend(runbook.escalation)
        merged.contacts.extend(runbook.contacts)
        merged.dashboards.extend(runbook.dashboards)
        merged.rollback_triggers.extend(runbook.rollback_triggers)
        merged.rules.extend(runbook.rules)
        merged.warnings.extend(runbook.warnings)
        merged.notes.extend(runbook.notes)
    return merged


def _linked_page(page: _Page, alert: Alert, by_path: dict[Path, _Page]) -> _Page | None:
    if not alert.procedure:
        return None
    target = _local_target(page.path, alert.procedure)
    return by_path.get(target) if target is not None else None


def _absorb(entry: Alert, target: _Page, number: int, renamed: dict[tuple[int, str], str]) -> None:
    """An index entry linking to a page: the page's alert (when it is about one) takes the
    entry's fields; a page about no alert gives the entry its procedure."""
    own = [alert for alert in target.runbook.alerts if "mention" not in alert.sources[:1]]
    if len(own) == 1:
        alert = own[0]
        if loose_key(alert.name) != loose_key(entry.name) or alert.name != entry.name:
            keep_entry = is_identifier(entry.name) and not is_identifier(alert.name)
            if keep_entry:
                alert.aliases.append(alert.name)
                alert.name = entry.name
            elif entry.name not in alert.aliases and entry.name != alert.name:
                alert.aliases.append(entry.name)
        for field in (
            "severity",
            "severity_stated",
            "response_time",
            "response_time_s",
            "threshold",
            "meaning",
            "for_",
            "for_s",
        ):
            if getattr(alert, field) in (None, "") and getattr(entry, field) not in (None, ""):
                setattr(alert, field, getattr(entry, field))
        for source in entry.sources:
            if source not in alert.sources:
                alert.sources.append(source)
        return
    procedure = _main_procedure(target.runbook, None)
    entry.procedure = None
    if procedure is not None:
        entry.procedure = renamed.get((number, procedure.title), procedure.title)
        if "procedure" not in entry.inferred:
            entry.inferred.append("procedure")
    target.runbook.alerts.append(entry)


def _add(alerts: dict[str, Alert], alert: Alert) -> None:
    existing = alerts.get(alert.name)
    if existing is None:
        alerts[alert.name] = alert
        return
    for field in (
        "meaning",
        "severity",
        "severity_stated",
        "threshold",
        "expr",
        "for_",
        "for_s",
        "response_time",
        "response_time_s",
        "procedure",
    ):
        if getattr(existing, field) in (None, "") and getattr(alert, field) not in (None, ""):
            setattr(existing, field, getattr(alert, field))
    for source in alert.sources:
        if source not in existing.sources:
            existing.sources.append(source)
