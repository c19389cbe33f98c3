"""PromQL text from a `promql_parser` AST, with its durations and label values rewritten.

`promql_parser` parses PromQL for real, but its `str()` of a tree loses what the
rewrite must keep: backslashes and quotes inside label values and strings
(`path=~"/a\\"b"` comes back as `"/a"b"`) and a subquery's default step
(`x[1h:]` comes back as the range selector `x[1h]`). So the tree is rendered here,
node by node; every rewritten expression is parsed again before it is used.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import promql_parser as pp

__all__ = ["Rewriter", "duration_text", "render"]

# Characters that make a regular expression more than a literal string (RE2 syntax).
_REGEX_SPECIAL = frozenset("\\.+*?()[]{}^$|")


def duration_text(delta: timedelta) -> str:
    """A duration as PromQL writes it (`1m30s`, `500ms`, `-1m` for a negative offset)."""
    if delta < timedelta(0):
        return "-" + pp.display_duration(-delta)
    if delta == timedelta(0):
        return "0s"
    return pp.display_duration(delta)


def _string(value: str) -> str:
    """A double-quoted PromQL string: Go's escapes, which JSON's are a subset of."""
    return json.dumps(value, ensure_ascii=False)


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


@dataclass
class Rewriter:
    """What to change while rendering: each duration, and each matcher's value.

    :param duration: called with (kind, duration) for every range, subquery range and
        step, and offset; returns the duration to write. Kinds: `range`, `subquery range`,
        `subquery step`, `offset`.
    :param value: called with (label, op, value) for every matcher; returns the value.
    """

    duration: Callable[[str, timedelta], timedelta] = lambda _kind, delta: delta
    value: Callable[[str, str, str], str] = lambda _label, _op, value: value


def _modifiers(offset: timedelta | None, at: pp.AtModifier | None, rewriter: Rewriter) -> str:
    text = ""
    if at is not None:
        if at.type == pp.AtModifierType.Start:
            text += " @ start()"
        elif at.type == pp.AtModifierType.End:
            text += " @ end()"
        elif at.at is not None:
            text += f" @ {at.at.timestamp():.3f}"
    if offset is not None:
        text += " offset " + duration_text(rewriter.duration("offset", offset))
    return text


_OPS = (
    (pp.MatchOp.Equal, "="),
    (pp.MatchOp.NotEqual, "!="),
    (pp.MatchOp.Re, "=~"),
    (pp.MatchOp.NotRe, "!~"),
)


def _op(op: pp.MatchOp) -> str:
    # MatchOp is not hashable: looked up by equality
    for known, text in _OPS:
        if op == known:
            return text
    raise ValueError(f"unknown matcher operator {op!r}")


def _matchers(matchers: list[pp.Matcher], rewriter: Rewriter) -> str:
    parts = []
    for matcher in matchers:
        op = _op(matcher.op)
        value = rewriter.value(matcher.name, op, matcher.value)
        parts.append(f"{matcher.name}{op}{_string(value)}")
    return ",".join(parts)


def _selector(node: pp.VectorSelector, rewriter: Rewriter, range_: timedelta | None) -> str:
    groups = [node.matchers.matchers, *node.matchers.or_matchers]
    inner = " or ".join(_matchers(group, rewriter) for group in groups if group)
    text = f"{node.name}{{{inner}}}" if inner and node.name else node.name or f"{{{inner}}}"
    if range_ is not None:
        text += f"[{duration_text(rewriter.duration('range', range_))}]"
    return text + _modifiers(node.offset, node.at, rewriter)


def _labels(labels: list[str]) -> str:
    return "(" + ", ".join(labels) + ")"


def _binary_modifier(modifier: pp.BinModifier | None) -> str:
    if modifier is None:
        return ""
    text = " bool" if modifier.return_bool else ""
    if modifier.matching is not None:
        keyword = "on" if modifier.matching.type == pp.LabelModifierType.Include else "ignoring"
        text += f" {keyword} {_labels(modifier.matching.labels)}"
    if modifier.card == pp.VectorMatchCardinality.ManyToOne:
        text += f" group_left {_labels(modifier.group_labels or [])}"
    elif modifier.card == pp.VectorMatchCardinality.OneToMany:
        text += f" group_right {_labels(modifier.group_labels or [])}"
    return text


def render(node: pp.Expr, rewriter: Rewriter | None = None) -> str:
    """The PromQL text of a parsed expression, rewritten by `rewriter` (if any)."""
    rw = rewriter or Rewriter()
    if isinstance(node, pp.MatrixSelector):
        return _selector(node.vector_selector, rw, node.range)
    if isinstance(node, pp.VectorSelector):
        return _selector(node, rw, None)
    if isinstance(node, pp.SubqueryExpr):
        window = duration_text(rw.duration("subquery range", node.range or timedelta(0)))
        step = "" if node.step is None else duration_text(rw.duration("subquery step", node.step))
        return f"{render(node.expr, rw)}[{window}:{step}]" + _modifiers(node.offset, node.at, rw)
    if isinstance(node, pp.Call):
        return f"{node.func.name}({', '.join(render(arg, rw) for arg in node.args)})"
    if isinstance(node, pp.AggregateExpr):
        grouping = ""
        if node.modifier is not None:
            keyword = "by" if node.modifier.type == pp.AggModifierType.By else "without"
            grouping = f" {keyword} {_labels(node.modifier.labels)}"
        param = f"{render(node.param, rw)}, " if node.param is not None else ""
        space = " " if grouping else ""
        return f"{node.op}{grouping}{space}({param}{render(node.expr, rw)})"
    if isinstance(node, pp.BinaryExpr):
        modifier = _binary_modifier(node.modifier)
        return f"{render(node.lhs, rw)} {node.op}{modifier} {render(node.rhs, rw)}"
    if isinstance(node, pp.ParenExpr):
        return f"({render(node.expr, rw)})"
    if isinstance(node, pp.UnaryExpr):
        return f"-{render(node.expr, rw)}"
    if isinstance(node, pp.NumberLiteral):
        return _number(node.val)
    if isinstance(node, pp.StringLiteral):
        return _string(node.val)
    raise ValueError(f"unsupported PromQL node {type(node).__name__}")


def is_literal_regex(value: str) -> bool:
    """Whether a regular expression matches exactly its own text (no special character)."""
    return not _REGEX_SPECIAL.intersection(value)


def regex_literal(value: str) -> str:
    """`value` escaped so that, as a regular expression, it matches exactly itself."""
    return "".join("\\" + char if char in _REGEX_SPECIAL else char for char in value)
