"""Procedures (ordered steps and their commands) and rollback triggers.

A section is a procedure when it says what to do: an ordered list (each item
a step, code blocks inside an item are its commands), bold labels followed by
command blocks ("**Step 1: Check the pool**" + ```bash), or command blocks
whose comments number the steps ("# Step 1: Deploy green"). In a section that
says what to do (an alert's own, one an alert links to, a Mitigation) each
sentence of a paragraph that is an instruction ("Inspect the DLQ: `aws sqs …`",
"If lag grows, page the team") is a step too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gameday.runbook.commands import (
    COMMAND_LANGUAGES,
    commands_in,
    inline_commands,
    looks_like_command_line,
    plain_commands,
)
from gameday.runbook.commands import labelled_commands as _labelled_commands
from gameday.runbook.document import Document, Fence, ListBlock, Paragraph, Section, Table, Text
from gameday.runbook.model import Command, Procedure, RollbackTrigger, Step
from gameday.runbook.vocabulary import procedure_rank

__all__ = [
    "COMMAND_LANGUAGES",
    "cell_steps",
    "commands_in",
    "extract_procedures",
    "extract_rollback_triggers",
    "is_instruction",
    "owning_procedure",
    "pure_label",
]

_ROLLBACK = re.compile(r"\broll[- ]?back\b", re.IGNORECASE)
_ROLLBACK_IF = re.compile(
    r"\broll[- ]?back\b[^()]*\((?:only\s+)?(?:if|when)\s+([^)]+)\)", re.IGNORECASE
)
_ROLLBACK_SENTENCE = re.compile(r"\broll[- ]?back\b.*?\b(?:if|when)\b\s+(.+)", re.IGNORECASE)
_IF_THEN_ROLLBACK = re.compile(
    r"^\s*(?:if|when)\s+(.+?),?\s+(?:then\s+)?roll[- ]?back\b", re.IGNORECASE
)


_PLAIN_INTRO = re.compile(r"^([^\W\d][^:.!?]{0,60}?)\s*[:：]$")


def pure_label(text: Text) -> str | None:
    """The label of a paragraph that is only a label: a bold one ("**Step 1: Do X**:") or
    a short line ending with a colon ("Steps:", "What to do:") that introduces what follows."""
    parts = text.label()
    if parts is not None and not parts[1] and any(span.strong for span in text.spans):
        return parts[0]
    plain = text.plain
    match = _PLAIN_INTRO.match(plain)
    if match and len(plain.split()) <= 6 and not text.codes():
        return match.group(1).strip()
    return None


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


_NOT_STEPS = re.compile(
    r"trigger|criteria|condition|when to|schedule|history|contact|owner|symptom|cause",
    re.IGNORECASE,
)


_PROCEDURES_PARENT = re.compile(
    r"^(procedures|playbooks?|runbooks?|remediation|mitigation|response procedures)$",
    re.IGNORECASE,
)


def _definitions(block: ListBlock) -> bool:
    """A bullet list of "**Label:** value" items describes; it does not say what to do."""
    return all((parts := item.text.label()) is not None and bool(parts[1]) for item in block.items)


_IMPERATIVE_WORDS = """
    check inspect look verify confirm ensure make run execute exec restart reboot scale stop
    start pause resume drain cordon uncordon fail failover switch roll revert redeploy deploy
    delete remove clear purge flush increase decrease raise lower bump add open page notify
    escalate contact call ping tell inform post file create wait watch monitor review compare
    identify find locate search grep tail kill disable enable block unblock throttle rotate
    renew reload apply patch update upgrade downgrade free expand resize reset reindex rebuild
    replay retry requeue rerun re-run move migrate promote demote isolate silence acknowledge
    ack capture collect gather take dump export note record follow go use try test validate
    communicate declare mark set edit change adjust tune investigate examine determine query
    list describe get fetch download upload copy sync trigger kick bounce cycle terminate
    shut bring put keep leave do don't never avoid hand assign schedule vacuum compact truncate
    rollback reroute redirect route shift evict mute snooze unmute inspect reconcile replace
    re-enable re-deploy restore recover repair prune cancel abort skip reduce limit cap allow
    deny ask loop escalate sign log login ssh connect attach open close
    prüfe prüfen starte starten stoppe vérifiez vérifier redémarrez relancez arrêtez
    revisa revise reinicia reinicie detén escala проверьте перезапустите остановите
"""
_IMPERATIVE = frozenset(_IMPERATIVE_WORDS.split())
_LEAD_IN = re.compile(
    r"^(?:(?:first|then|next|finally|afterwards|otherwise|also|now|immediately)\b,?\s*|"
    r"(?:if|when|once|after|before|while|until|unless|as soon as)\b[^,]{1,120},\s*(?:then\s+)?)+",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^\W\d_])")


def is_instruction(sentence: str) -> bool:
    """A sentence that tells the reader to do something: it starts (after "If …," or
    "Then") with an imperative verb ("Inspect the DLQ", "If lag grows, page the team")."""
    text = _LEAD_IN.sub("", sentence.strip(" -*>")).strip()
    word = re.match(r"[^\W\d_][\w'-]*", text)
    return word is not None and word.group(0).lower() in _IMPERATIVE


def _paragraph_steps(text: Text, line: int, label_section: str) -> list[Step]:
    """The steps a paragraph gives: its sentences that are instructions, each with the
    inline commands written in it; a paragraph with commands and one instruction at most
    stays one step."""
    commands = inline_commands(text, line)
    sentences = [
        (part.strip(), offset)
        for offset, piece in enumerate(text.lines())
        for part in _SENTENCE_END.split(piece.plain)
        if part.strip()
    ]
    instructions = [
        (sentence, offset) for sentence, offset in sentences if is_instruction(sentence)
    ]
    stray = [
        command
        for command in commands
        if not any(command.text in sentence for sentence, _ in instructions)
    ]
    if stray or (len(instructions) == len(sentences) == 1 and commands):
        # a command outside any instruction: the paragraph as a whole is the step
        lenient = inline_commands(text, line, instruction=bool(instructions))
        return [Step(text.plain, tuple(lenient), line, label_section)]
    steps: list[Step] = []
    codes = text.codes()
    for sentence, offset in instructions:
        own = [
            Command(code.strip().removeprefix("$ "), "shell", line + offset)
            for code in codes
            if code in sentence and looks_like_command_line(code)
        ]
        steps.append(Step(sentence, tuple(own), line + offset, label_section))
    return steps


_NUMBERING = re.compile(r"^\s*(?:\(?\d{1,2}[.)]|[-*•·])\s+")


def cell_steps(text: Text, line: int) -> list[Step]:
    """The steps a table cell spells out ("1. Check X<br>2. Fail over: `payctl use b`"):
    each line (numbering dropped) a step, or the instructions of a one-line cell;
    [] for a cell that only names a procedure ("Failover", "[link](#failover)")."""
    if text.hrefs():
        return []
    lines = text.lines()
    if len(lines) <= 1:
        if _NUMBERING.match(text.plain):
            lines = [text]
        else:
            return _paragraph_steps(text, line, "")
    steps: list[Step] = []
    for part in lines:
        plain = _NUMBERING.sub("", part.plain)
        if not plain:
            continue
        commands = [
            *inline_commands(part, line, instruction=True),
            *plain_commands(part, line),
        ]
        steps.append(Step(plain, tuple(commands), line))
    return steps


def _steps(
    section: Section, label_section: str = "", *, home: bool = False
) -> tuple[list[Step], list[Command]]:
    """The steps and commands of a section's own blocks.

    Ordered lists are steps; so are unordered lists in a section whose title says
    what to do ("Mitigation", "Steps", "Устранение"). Code in a step (a block
    inside the item, or inline `code` that is a command) is the step's commands.
    """
    steps: list[Step] = []
    commands: list[Command] = []
    label: tuple[str, int] | None = None
    doing = not _NOT_STEPS.search(section.bare_title) and (
        home
        or procedure_rank(section.bare_title) > 0
        or any(_PROCEDURES_PARENT.search(node.bare_title) for node in section.ancestors())
    )
    for block in section.blocks:
        if isinstance(block, Paragraph):
            pure = pure_label(block.text)
            label = (pure, block.line) if pure else None
            if label is None and doing:
                for step in _paragraph_steps(block.text, block.line, label_section):
                    steps.append(step)
                    commands.extend(step.commands)
        elif isinstance(block, ListBlock):
            listed = (
                block.ordered
                or doing
                or (
                    label is not None
                    and procedure_rank(label[0]) > 0
                    and not _NOT_STEPS.search(label[0])
                )
            )
            if listed and not _is_index(block) and not (not block.ordered and _definitions(block)):
                for item in block.items:
                    codes = item.text.codes()
                    instruction = is_instruction(item.text.plain) or (
                        len(codes) == 1 and item.text.plain == codes[0].strip()
                    )
                    item_commands = [
                        *inline_commands(item.text, item.line, instruction=instruction),
                        *plain_commands(item.text, item.line),
                        *(cmd for fence in item.fences() for cmd in commands_in(fence)),
                    ]
                    for sub in item.sublists():
                        for sub_item in sub.items:
                            item_commands.extend(inline_commands(sub_item.text, sub_item.line))
                    if not item.text.plain and not item_commands:
                        continue
                    steps.append(
                        Step(item.text.plain, tuple(item_commands), item.line, label_section)
                    )
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
                steps.extend(
                    Step(key, tuple(cmds), lines[key], label_section)
                    for key, cmds in grouped.items()
                )
            elif label is not None:
                steps.append(
                    Step(
                        label[0],
                        tuple(item.command for item in labelled),
                        label[1],
                        label_section,
                    )
                )
            label = None
        else:
            label = None
    return steps, commands


def _procedure(section: Section, steps: list[Step], commands: list[Command]) -> Procedure | None:
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


def extract_procedures(
    document: Document, alert_homes: Sequence[Section] = ()
) -> dict[int, Procedure]:
    """Procedures by the id() of their section, in document order.

    The home section of an alert (its heading, its page) becomes one procedure
    holding its own steps and those of its subsections (Diagnosis, Mitigation…),
    each step naming the subsection it came from.
    """
    homes = {id(home) for home in alert_homes}
    covered: set[int] = set()
    found: dict[int, Procedure] = {}
    for section in document.sections:
        if section.level == 0 and id(section) not in homes:
            continue
        if id(section) in covered or _NOT_PROCEDURE.search(section.bare_title):
            continue
        steps, commands = _steps(section, home=id(section) in homes)
        if id(section) in homes:
            for child in section.descendants():
                if id(child) in homes or any(
                    id(node) in homes for node in _between(child, section)
                ):
                    continue
                if _NOT_PROCEDURE.search(child.bare_title):
                    continue
                covered.add(id(child))
                child_steps, child_commands = _steps(child, child.bare_title)
                steps.extend(child_steps)
                commands.extend(child_commands)
        procedure = _procedure(section, steps, commands)
        if procedure is not None:
            found[id(section)] = procedure
    return found


def _between(node: Section, top: Section) -> list[Section]:
    """Sections strictly between `node` and its ancestor `top`."""
    out: list[Section] = []
    for ancestor in node.ancestors():
        if ancestor is top:
            break
        out.append(ancestor)
    return out


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
    document: Document, procedures: dict[int, Procedure], owners: dict[int, str] | None = None
) -> list[RollbackTrigger]:
    """Conditions the runbook gives for rolling back.

    Read from: items of a "Rollback triggers/criteria" section; "Rollback (if
    X)" labels; "roll back if X" / "if X, roll back" sentences; table rows
    whose remedy is a rollback (the row's cause is the trigger). `owners` maps
    sections (by id) to the alert they are about.
    """
    owners = owners or {}
    triggers: list[RollbackTrigger] = []

    def add(condition: str, section: Section, line: int) -> None:
        condition = " ".join(condition.split()).rstrip(":.;,")
        if not condition or any(t.condition == condition for t in triggers):
            return
        procedure = owning_procedure(section, procedures)
        triggers.append(
            RollbackTrigger(
                condition, procedure.title if procedure else None, line, owners.get(id(section))
            )
        )

    for section in document.sections:
        title = section.bare_title.lower()
        trigger_section = bool(_ROLLBACK.search(title)) and bool(
            re.search(r"trigger|criteria|when|condition|if\b", title)
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
