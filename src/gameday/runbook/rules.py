"""Prometheus alerting rules: rule files, and rule groups embedded in runbooks.

The format is Prometheus' own (`groups: [{name, rules: [{alert, expr, for,
labels, annotations}]}]`). Recording rules (`record:`) are skipped: gameday
verifies alerts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gameday.documents import read_yaml_and_text
from gameday.errors import InvalidInputError
from gameday.runbook.model import Rule

__all__ = [
    "RuleShapeError",
    "load_rule_file",
    "looks_like_rules",
    "parse_rule_groups",
    "rule_file_document",
]

_HINT = (
    "a rule file is Prometheus' format: 'groups:' → a list of {name, rules: "
    "[{alert, expr, for, labels, annotations}]}"
)


class RuleShapeError(ValueError):
    """The YAML parsed but is not shaped like Prometheus rule groups."""

    def __init__(self, message: str, where: str) -> None:
        super().__init__(message)
        self.where = where


def looks_like_rules(data: object) -> bool:
    return isinstance(data, dict) and "groups" in data


def _strings(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(key): "" if item is None else str(item) for key, item in value.items()}


def parse_rule_groups(
    data: object, *, source: str = "", line_offset: int = 0, text: str | None = None
) -> list[Rule]:
    """Rules from parsed YAML shaped `{groups: [...]}`; raises RuleShapeError otherwise.

    `text` (the YAML source) and `line_offset` let each rule carry the line of
    its `alert:` key in the enclosing file.
    """
    if not isinstance(data, dict) or "groups" not in data:
        raise RuleShapeError("no top-level 'groups:' key", "top level")
    groups = data["groups"]
    if groups is None:
        return []
    if not isinstance(groups, list):
        raise RuleShapeError(f"'groups' is a {type(groups).__name__}, not a list", "groups")
    lines = text.splitlines() if text is not None else []
    rules: list[Rule] = []
    for group_index, group in enumerate(groups):
        if not isinstance(group, dict):
            raise RuleShapeError("a group is not a mapping", f"groups[{group_index}]")
        group_name = str(group.get("name") or "")
        interval = group.get("interval")
        group_rules = group.get("rules") or []
        if not isinstance(group_rules, list):
            raise RuleShapeError("'rules' is not a list", f"groups[{group_index}].rules")
        for rule_index, raw in enumerate(group_rules):
            where = f"groups[{group_index}].rules[{rule_index}]"
            if not isinstance(raw, dict):
                raise RuleShapeError("a rule is not a mapping", where)
            if "alert" not in raw:
                if "record" in raw:
                    continue
                raise RuleShapeError("a rule has neither 'alert' nor 'record'", where)
            name = str(raw.get("alert") or "").strip()
            if not name:
                raise RuleShapeError("an alert rule has an empty name", where)
            labels = _strings(raw.get("labels"))
            for_value = raw.get("for")
            keep_firing = raw.get("keep_firing_for")
            rules.append(
                Rule(
                    name=name,
                    expr=str(raw.get("expr") or "").strip(),
                    for_=str(for_value) if for_value is not None else None,
                    severity=labels.get("severity"),
                    labels=labels,
                    annotations=_strings(raw.get("annotations")),
                    group=group_name,
                    source=source,
                    line=_line_of(lines, name, line_offset),
                    keep_firing_for=str(keep_firing) if keep_firing is not None else None,
                    group_interval=str(interval) if interval is not None else None,
                )
            )
    return rules


def _line_of(lines: list[str], name: str, offset: int) -> int | None:
    for index, line in enumerate(lines):
        stripped = line.strip().lstrip("-").strip()
        if stripped.startswith("alert:") and stripped[len("alert:") :].strip().strip("'\"") == name:
            return offset + index + 1
    return None


def load_rule_file(path: str | Path) -> list[Rule]:
    """Read a Prometheus rule file; InvalidInputError (exit 2) naming the place when it is bad."""
    path = Path(path)
    source = str(path)
    text, data = read_yaml_and_text(path)
    if data is None:
        raise InvalidInputError("the rule file is empty", source=source, where="line 1", hint=_HINT)
    try:
        return parse_rule_groups(data, source=source, text=text)
    except RuleShapeError as exc:
        raise InvalidInputError(str(exc), source=source, where=exc.where, hint=_HINT) from None


def rule_file_document(rules: Sequence[Rule], *, default_group: str = "rules") -> dict[str, Any]:
    """Rules written back as one Prometheus rule file (`{groups: [...]}`), in their order:
    groups (with their `interval:`), `for:`, `keep_firing_for:`, labels and annotations as
    written. Rules without a group go to `default_group`; groups of the same name from
    different pages are kept apart (`name-2`), as Prometheus wants names unique."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    names: set[str] = set()
    for rule in rules:
        key = (rule.source, rule.group)
        group = groups.get(key)
        if group is None:
            base = rule.group or default_group
            name, number = base, 1
            while name in names:
                number += 1
                name = f"{base}-{number}"
            names.add(name)
            group = {"name": name}
            if rule.group_interval is not None:
                group["interval"] = rule.group_interval
            group["rules"] = []
            groups[key] = group
        written: dict[str, Any] = {"alert": rule.name, "expr": rule.expr}
        if rule.for_ is not None:
            written["for"] = rule.for_
        if rule.keep_firing_for is not None:
            written["keep_firing_for"] = rule.keep_firing_for
        if rule.labels:
            written["labels"] = dict(rule.labels)
        if rule.annotations:
            written["annotations"] = dict(rule.annotations)
        group["rules"].append(written)
    return {"groups": list(groups.values())}
