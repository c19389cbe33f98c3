"""Procedures (ordered steps and their commands) and rollback triggers.

A section is a procedure when it says what to do: an ordered list (each item
a step, code blocks inside an item are its commands), bold labels followed by
command blocks ("**Step 1: Check the pool**" + ```bash), or command blocks
whose comments number the steps ("# Step 1: Deploy green").
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from gameday.runbook.document import Document, Fence, ListBlock, Paragraph, Section, Table, Text
from gameday.runbook.model import Command, Procedure, RollbackTrigger, Step

__all__ = ["COMMAND_LANGUAGES", "commands_in", "extract_procedures", "extract_rollback_triggers"]

SHELL_LANGUAGES = frozenset(
    {"bash", "sh", "shell", "console", "zsh", "shell-session", "shellsession"}
)
QUERY_LANGUAGES = frozenset({"sql", "psql"})
COMMAND_LANGUAGES = SHELL_LANGUAGES | QUERY_LANGUAGES

_STEP_COMMENT = re.compile(r"^#+\s*(step\s*\d+\s*[:.)-]\s*.+)$", re.IGNORECASE)
_HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")
_ROLLBACK = re.compile(r"\broll[- ]?back\b", re.IGNORECASE)
_ROLLBACK_IF = re.compile(
    r"\broll[- ]?back\b[^()]*\((?:only\s+)?(?:if|when)\s+([^)]+)\)", re.IGNORECASE
)
_ROLLBACK_SENTENCE = re.compile(r"\broll[- ]?back\b.*?\b(?:if|when)\b\s+(.+)", re.IGNORECASE)
_IF_THEN_ROLLBACK = re.compile(
    r"^\s*(?:if|when)\s+(.+?),?\s+(?:then\s+)?roll[- ]?back\b", re.IGNORECASE
)


@dataclass(frozen=True)
class _Labelled:
    label: str | None
    command: Command


def _shell_commands(fence: Fence) -> list[_Labelled]:
    lines = textwrap.dedent(fence.content).splitlines()
    out: list[_Labelled] = []
    label: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        line_no = fence.line + 1 + index
        index += 1
        if not stripped:
            continue
        if stripped.startswith("#"):
            match = _STEP_COMMENT.match(stripped)
            if match:
                label = match.group(1).strip()
            continue
        parts = [line.rstrip()]
        while parts[-1].endswith("\\") and index < len(lines):
            parts.append(lines[index].rstrip())
            index += 1
        heredoc = _HEREDOC.search(" ".join(parts))
        if heredoc:
            delimiter = heredoc.group(1)
            while index < len(lines):
                parts.append(lines[index].rstrip())
                index += 1
                if parts[-1].strip() == delimiter:
                    break
        text = "\n".join(parts).strip()
        if stripped.startswith("$ "):
            text = text[2:]
        out.append(_Labelled(label, Command(text, fence.language, line_no)))
    return out


def _query_commands(fence: Fence) -> list[_Labelled]:
    comment = "--" if fence.language in ("sql", "psql") else "#"
    out: list[_Labelled] = []
    current: list[str] = []
    start = 0

    def flush() -> None:
        text = "\n".join(current).strip()
        if text:
            out.append(_Labelled(None, Command(text, fence.language, start)))
        current.clear()

    for offset, line in enumerate(fence.content.splitlines()):
        stripped = line.strip()
        if not stripped or stripped.startswith(comment):
            flush()
            continue
        if not current:
            start = fence.line + 1 + offset
        current.append(line.rstrip())
        if stripped.endswith(";"):
            flush()
    flush()
    return out


def _labelled_commands(fence: Fence) -> list[_Labelled]:
    if fence.language in SHELL_LANGUAGES:
        return _shell_commands(fence)
    if fence.language in QUERY_LANGUAGES:
        return _query_commands(fence)
    return []


def commands_in(fence: Fence) -> list[Command]:
    """The commands of a code block in a command language (shell, SQL); [] otherwise.

    PromQL/LogQL blocks are queries to look at, not actions, and are left out.
    """
    return [item.command for item in _labelled_commands(fence)]


def _pure_label(text: Text) -> str | None:
    """The label of a paragraph that is only a bold label ("**Step 1: Do X**:")."""
    parts = text.label()
    if parts is None or parts[1] or not any(span.strong for span in text.spans):
        return None
    return parts[0]


_LEVEL_ITEM = re.compile(r"^(level|tier)\s*\d+\b", re.IGNORECASE)


def _is_index(block: ListBlock) -> bool:
    """An ordered list of links (a table of contents, a runbook index) or of escalation
    levels is not a procedure."""
    if all(_LEVEL_ITEM.match(item.text.plain) for item in block.items):
        return True
    for item in block.items:
        parts = item.text.label()
        if parts is None or parts[2] is None:
            return False
    return True


_NOT_PROCEDURE = re.compile(
    r"\b(table of contents|contents|toc|template|revision history)\b", re.IGNORECASE
)


def _procedure(section: Section) -> Procedure | None:
    if _NOT_PROCEDURE.search(section.bare_title):
        return None
    steps: list[Step] = []
    commands: list[Command] = []
    label: tuple[str, int] | None = None
    for block in section.blocks:
        if isinstance(block, Paragraph):
            pure = _pure_label(block.text)
            label = (pure, block.line) if pure else None
        elif isinstance(block, ListBlock):
            if block.ordered and not _is_index(block):
                for item in block.items:
                    item_commands = [cmd for fence in item.fences() for cmd in commands_in(fence)]
                    steps.append(Step(item.text.plain, tuple(item_commands), item.line))
                    commands.extend(item_commands)
            label = None
        elif isinstance(block, Fence):
            labelled = _labelled_commands(block)
            if not labelled:
                label = None
                continue
            commands.extend(item.command for item in labelled)
            if any(item.label for item in labelled):
                grouped: dict[str, list[Command]] = {}
                lines: dict[str, int] = {}
                for entry in labelled:
                    key = entry.label or (label[0] if label else section.bare_title)
                    grouped.setdefault(key, []).append(entry.command)
                    lines.setdefault(key, entry.command.line or block.line)
                steps.extend(Step(key, tuple(cmds), lines[key]) for key, cmds in grouped.items())
            elif label is not None:
                steps.append(Step(label[0], tuple(item.command for item in labelled), label[1]))
            label = None
        else:
            label = None
    if not steps and not commands:
        return None
    return Procedure(
        title=section.title,
        steps=tuple(steps),
        commands=tuple(commands),
        anchor=section.anchor,
        is_rollback=bool(_ROLLBACK.search(section.title)),
        line=section.line,
    )


def extract_procedures(document: Document) -> dict[int, Procedure]:
    """Procedures by the id() of their section, in document order."""
    found: dict[int, Procedure] = {}
    for section in document.sections:
        if section.level == 0:
            continue
        procedure = _procedure(section)
        if procedure is not None:
            found[id(section)] = procedure
    return found


def owning_procedure(section: Section, procedures: dict[int, Procedure]) -> Procedure | None:
    """The procedure of `section` or, failing that, of its nearest ancestor."""
    for node in (section, *section.ancestors()):
        if id(node) in procedures:
            return procedures[id(node)]
    return None


def _trigger_sentence(text: str) -> str | None:
    match = _ROLLBACK_IF.search(text)
    if match:
        return match.group(1).strip()
    match = _IF_THEN_ROLLBACK.search(text)
    if match:
        return match.group(1).strip()
    match = _ROLLBACK_SENTENCE.search(text)
    if match:
        return match.group(1).strip().rstrip(".")
    return None


def extract_rollback_triggers(
    document: Document, procedures: dict[int, Procedure]
) -> list[RollbackTrigger]:
    """Conditions the runbook gives for rolling back.

    Read from: items of a "Rollback triggers/criteria" section; "Rollback (if
    X)" labels; "roll back if X" / "if X, roll back" sentences; table rows
    whose remedy is a rollback (the row's cause is the trigger).
    """
    triggers: list[RollbackTrigger] = []

    def add(condition: str, section: Section, line: int) -> None:
        condition = " ".join(condition.split()).rstrip(":.;,")
        if not condition or any(t.condition == condition for t in triggers):
            return
        procedure = owning_procedure(section, procedures)
        triggers.append(RollbackTrigger(condition, procedure.title if procedure else None, line))

    for section in document.sections:
        title = section.bare_title.lower()
        trigger_section = bool(_ROLLBACK.search(title)) and bool(
            re.search(r"trigger|criteria|when|condition", title)
        )
        for block in section.blocks:
            if isinstance(block, ListBlock):
                for item in block.items:
                    text = item.text.plain
                    if trigger_section:
                        add(text, section, item.line)
                    elif (condition := _trigger_sentence(text)) is not None:
                        add(condition, section, item.line)
            elif isinstance(block, Paragraph):
                condition = _trigger_sentence(block.text.plain)
                if condition is not None:
                    add(condition, section, block.line)
            elif isinstance(block, Table):
                for row, line in zip(block.rows, block.row_lines, strict=False):
                    cells = [cell.plain for cell in row]
                    if any(_ROLLBACK.match(cell) for cell in cells[1:]):
                        cause = [cell for cell in cells if not _ROLLBACK.match(cell)]
                        add(": ".join(cause[:2]), section, line)
    return triggers
