"""A runbook's Markdown as sections of blocks, built from markdown-it's syntax tree.

The extractors (alerts, targets, procedures, …) read this structure, never raw
lines: a heading is a heading because the parser says so, a `#` inside a code
block is a comment, a table is a table.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

__all__ = [
    "Document",
    "Fence",
    "ListBlock",
    "ListItem",
    "Paragraph",
    "Section",
    "Span",
    "Table",
    "Text",
    "parse_document",
    "slugify",
]

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(\n|\Z)", re.DOTALL)
_DECORATION = re.compile(r"^[\W_]+", re.UNICODE)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_SEPARATOR = re.compile(r"^\s*(?::|-|–|—|=)\s*")


@dataclass(frozen=True)
class Span:
    """A run of inline text with its formatting."""

    text: str
    strong: bool = False
    code: bool = False
    href: str | None = None

    @property
    def marked(self) -> bool:
        return self.strong or self.code or self.href is not None


@dataclass(frozen=True)
class Text:
    """Inline content: plain text plus the formatted spans it is made of."""

    spans: tuple[Span, ...]

    @property
    def plain(self) -> str:
        return "".join(span.text for span in self.spans).replace("\n", " ").strip()

    def lines(self) -> list[Text]:
        """The text split at its line breaks (a paragraph of "**Label:** value" lines)."""
        out: list[list[Span]] = [[]]
        for span in self.spans:
            parts = span.text.split("\n")
            for index, part in enumerate(parts):
                if index:
                    out.append([])
                if part:
                    out[-1].append(Span(part, span.strong, span.code, span.href))
        return [Text(tuple(spans)) for spans in out if any(s.text.strip() for s in spans)]

    def hrefs(self) -> list[str]:
        return [span.href for span in self.spans if span.href]

    def label(self) -> tuple[str, str, str | None] | None:
        """Split "**Label**: rest", "`Label` - rest", "[Label](href) rest" into (label, rest, href).

        The label is the leading strong, code or link text (a trailing colon
        inside it is dropped); None when the text does not start with one.
        """
        spans = list(self.spans)
        while spans and not spans[0].text.strip():
            spans.pop(0)
        if not spans or not spans[0].marked:
            return None
        first = spans[0]
        label_parts = [first.text]
        href = first.href
        index = 1
        # a label may be split into several marked spans ("**[Camera](x)**")
        while index < len(spans) and spans[index].marked and spans[index].strong == first.strong:
            label_parts.append(spans[index].text)
            href = href or spans[index].href
            index += 1
        label = "".join(label_parts).strip()
        rest = "".join(span.text for span in spans[index:]).replace("\n", " ")
        label = label.replace("\n", " ")
        if label.endswith(":"):
            label = label[:-1].strip()
        rest = _SEPARATOR.sub("", rest, count=1).strip()
        return (label, rest, href) if label else None

    def codes(self) -> list[str]:
        return [span.text for span in self.spans if span.code]


@dataclass
class Paragraph:
    text: Text
    line: int


@dataclass
class Fence:
    info: str
    content: str
    line: int

    @property
    def language(self) -> str:
        return self.info.split()[0].lower() if self.info.strip() else ""


@dataclass
class ListItem:
    text: Text
    line: int
    blocks: list[Block] = field(default_factory=list)

    def fences(self) -> Iterator[Fence]:
        for block in self.blocks:
            if isinstance(block, Fence):
                yield block
            elif isinstance(block, ListBlock):
                for item in block.items:
                    yield from item.fences()

    def sublists(self) -> Iterator[ListBlock]:
        for block in self.blocks:
            if isinstance(block, ListBlock):
                yield block


@dataclass
class ListBlock:
    ordered: bool
    items: list[ListItem]
    line: int


@dataclass
class Table:
    header: list[str]
    rows: list[list[Text]]
    line: int
    row_lines: list[int] = field(default_factory=list)

    def column(self, *keywords: str, exclude: tuple[str, ...] = ()) -> int | None:
        """Index of the first header cell containing one of `keywords` (lower-case)."""
        for index, cell in enumerate(self.header):
            lowered = cell.lower()
            if any(word in lowered for word in keywords) and not any(
                word in lowered for word in exclude
            ):
                return index
        return None

    def cell(self, row: list[Text], index: int | None) -> Text | None:
        if index is None or index >= len(row):
            return None
        return row[index]


Block = Paragraph | Fence | ListBlock | Table


@dataclass
class Section:
    """A heading and the blocks directly under it (up to the next heading of any level)."""

    title: str
    level: int
    line: int
    anchor: str = ""
    parent: Section | None = None
    heading: Text = field(default_factory=lambda: Text(()))
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)

    @property
    def bare_title(self) -> str:
        """The title without leading emoji, numbering or decoration ("📚 1.2 Foo" → "Foo")."""
        return bare(self.title)

    def ancestors(self) -> Iterator[Section]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def descendants(self) -> Iterator[Section]:
        for child in self.children:
            yield child
            yield from child.descendants()


@dataclass
class Document:
    source: str
    root: Section
    sections: list[Section]
    path: Path | None = None
    front_matter: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        for section in self.sections:
            if section.level == 1:
                return section.bare_title or section.title
        for section in self.sections:
            if section.level > 0:
                return section.bare_title or section.title
        return ""


def bare(title: str) -> str:
    text = unicodedata.normalize("NFC", title).replace("\ufe0f", "")
    text = _DECORATION.sub("", text)
    text = re.sub(r"^(\d+(\.\d+)*\.?)\s+", "", text)
    return text.strip()


def slugify(title: str) -> str:
    """GitHub-style heading anchor: lower-case, punctuation dropped, spaces to hyphens."""
    text = unicodedata.normalize("NFC", title).lower().strip()
    text = "".join(
        char
        for char in text
        if char.isalnum() or char in " -_" or unicodedata.category(char) == "Mn"
    )
    return text.replace(" ", "-")


def _line(node: SyntaxTreeNode) -> int:
    mapping = node.map
    return int(mapping[0]) + 1 if mapping else 0


def _spans(node: SyntaxTreeNode, strong: bool = False, href: str | None = None) -> Iterator[Span]:
    for child in node.children:
        kind = child.type
        if kind == "text":
            # "<br>" in a table cell (Confluence and wiki exports) is a line break
            for index, part in enumerate(_BREAK.split(child.content)):
                if index:
                    yield Span("\n", strong=strong, href=href)
                yield Span(part, strong=strong, href=href)
        elif kind == "code_inline":
            yield Span(child.content, strong=strong, code=True, href=href)
        elif kind in ("softbreak", "hardbreak"):
            yield Span("\n", strong=strong, href=href)
        elif kind == "strong":
            yield from _spans(child, True, href)
        elif kind == "link":
            target: Any = child.attrs.get("href")
            yield from _spans(child, strong, str(target) if target is not None else "")
        elif kind == "image":
            continue
        elif child.children:
            yield from _spans(child, strong, href)
        elif child.content:
            yield Span(child.content, strong=strong, href=href)


def _merge(spans: Iterator[Span]) -> tuple[Span, ...]:
    merged: list[Span] = []
    for span in spans:
        if not span.text:
            continue
        if merged:
            last = merged[-1]
            if (last.strong, last.code, last.href) == (span.strong, span.code, span.href):
                merged[-1] = Span(last.text + span.text, last.strong, last.code, last.href)
                continue
        merged.append(span)
    return tuple(merged)


def _inline_text(node: SyntaxTreeNode) -> Text:
    for child in node.children:
        if child.type == "inline":
            return Text(_merge(_spans(child)))
    return Text(())


def _blocks(node: SyntaxTreeNode) -> Iterator[Block | tuple[int, Text, int]]:
    """Blocks under `node`, flattening blockquotes; headings come out as (level, text, line)."""
    for child in node.children:
        kind = child.type
        if kind == "heading":
            level = int(str(child.tag)[1:]) if str(child.tag)[1:].isdigit() else 1
            yield (level, _inline_text(child), _line(child))
        elif kind == "paragraph":
            yield Paragraph(_inline_text(child), _line(child))
        elif kind in ("fence", "code_block"):
            yield Fence(str(child.info or ""), str(child.content or ""), _line(child))
        elif kind in ("bullet_list", "ordered_list"):
            yield ListBlock(
                kind == "ordered_list", [_item(item) for item in child.children], _line(child)
            )
        elif kind == "table":
            yield _table(child)
        elif kind == "blockquote":
            yield from _blocks(child)


def _item(node: SyntaxTreeNode) -> ListItem:
    text = Text(())
    blocks: list[Block] = []
    first = True
    for block in _blocks(node):
        if isinstance(block, tuple):
            continue
        if first and isinstance(block, Paragraph):
            text = block.text
        else:
            blocks.append(block)
        first = False
    return ListItem(text, _line(node), blocks)


def _table(node: SyntaxTreeNode) -> Table:
    header: list[str] = []
    rows: list[list[Text]] = []
    row_lines: list[int] = []
    for part in node.children:
        for row in part.children:
            cells = [
                Text(_merge(_spans(cell.children[0]))) if cell.children else Text(())
                for cell in row.children
            ]
            if part.type == "thead":
                header = [cell.plain for cell in cells]
            else:
                rows.append(cells)
                row_lines.append(_line(row))
    return Table(header, rows, _line(node), row_lines)


def _split_front_matter(text: str) -> tuple[str, dict[str, Any]]:
    """The page without its YAML front matter (as many empty lines, to keep line
    numbers), and the front matter's keys ({} when there is none or it is not a mapping)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, {}
    try:
        data = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError:
        data = None
    keys = {str(key): value for key, value in data.items()} if isinstance(data, dict) else {}
    return "\n" * match.group(0).count("\n") + text[match.end() :], keys


_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def parse_document(text: str, source: str) -> Document:
    """Parse Markdown into sections; content before the first heading lives in the root section."""
    body, front_matter = _split_front_matter(text)
    tokens = _MARKDOWN.parse(body)
    tree = SyntaxTreeNode(tokens)
    root = Section(title="", level=0, line=1)
    sections: list[Section] = []
    current = root
    anchors: dict[str, int] = {}
    for block in _blocks(tree):
        if isinstance(block, tuple):
            level, heading, line = block
            title = heading.plain
            parent = current
            while parent.level >= level and parent.parent is not None:
                parent = parent.parent
            if parent.level >= level:
                parent = root
            slug = slugify(title)
            count = anchors.get(slug, 0)
            anchors[slug] = count + 1
            anchor = f"{slug}-{count}" if count else slug
            section = Section(
                title=title, level=level, line=line, anchor=anchor, parent=parent, heading=heading
            )
            parent.children.append(section)
            sections.append(section)
            current = section
        else:
            current.blocks.append(block)
    return Document(source=source, root=root, sections=[root, *sections], front_matter=front_matter)
