"""Production rules in compressed time: every duration of a rule file divided by K.

Real rules say `for: 5m` and `rate(…[5m])` and are evaluated every 30 s; the lab
scrapes and evaluates every second. Run at time scale K, a rule's `for:`,
`keep_firing_for:`, its group's `interval:`, and in its expression every range,
subquery range and step and `offset` are divided by K: what takes five minutes in
production takes five seconds at K=60. Expressions are parsed (`promql_parser`)
and written back from the tree (`promql_render`); label values can be mapped in
every matcher on the way (`namespace: {creto-enablement: lab}`), and an alert's
expression replaced (a lab profile's `adapted:`).

What the lab cannot honour is said, not hidden: a group interval under the lab's
evaluation interval is raised to it (a note), and a range left with fewer than 4
scrapes is refused, naming the rule and the largest K that works for it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import promql_parser as pp
import yaml

from gameday.errors import InvalidInputError
from gameday.lab.promql_render import (
    Rewriter,
    duration_text,
    is_literal_regex,
    regex_literal,
    render,
)

__all__ = [
    "MIN_SAMPLES",
    "LabClock",
    "ScaleSettings",
    "ScaledExpr",
    "ScaledRules",
    "describe",
    "dump_rules",
    "largest_time_scale",
    "parse_duration_field",
    "scale_duration",
    "scale_expr",
    "scale_rules",
]

MIN_SAMPLES = 4  # a range must hold this many scrapes to be resolved at all


@dataclass(frozen=True)
class LabClock:
    """How often the lab scrapes and evaluates (seconds)."""

    scrape_s: float = 1.0
    evaluation_s: float = 1.0


@dataclass(frozen=True)
class ScaleSettings:
    """How a team's rules are rewritten for the lab.

    :param time_scale: K: every duration is divided by it (1: real time)
    :param labels: label → {production value: lab value}, applied in every matcher
    :param adapted: alert name → the expression that replaces its own (written at
        production speed: it is scaled and mapped like the rest)
    """

    time_scale: float = 1.0
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    adapted: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.time_scale) and self.time_scale >= 1):
            raise InvalidInputError(
                f"time scale {self.time_scale!r} is not a number of at least 1",
                hint="K divides every duration: e.g. 60 runs 5m windows in 5s",
            )

    @property
    def rewrites(self) -> bool:
        """Whether rule files come out different from how they went in."""
        return self.time_scale != 1 or bool(self.labels) or bool(self.adapted)


def scale_duration(delta: timedelta, time_scale: float) -> timedelta:
    """`delta` ÷ K, to the millisecond (never rounded down to nothing)."""
    if time_scale == 1:
        return delta
    milliseconds = round(delta / timedelta(milliseconds=1) / time_scale)
    if milliseconds == 0 and delta != timedelta(0):
        milliseconds = 1 if delta > timedelta(0) else -1
    return timedelta(milliseconds=milliseconds)


def largest_time_scale(window: timedelta, clock: LabClock) -> int:
    """The largest whole K that leaves `window` at least MIN_SAMPLES scrapes long."""
    return math.floor(window.total_seconds() / (MIN_SAMPLES * clock.scrape_s))


@dataclass(frozen=True)
class ScaledExpr:
    """A rewritten expression, the ranges it had (kind, as written) and what was not mapped."""

    text: str
    ranges: tuple[tuple[str, timedelta], ...]
    unmapped: tuple[str, ...]


def _map_value(
    mapping: Mapping[str, str], label: str, op: str, value: str, unmapped: list[str]
) -> str:
    if op in ("=", "!="):
        return mapping.get(value, value)
    alternatives = value.split("|")
    if all(is_literal_regex(part) for part in alternatives):
        return "|".join(
            regex_literal(mapping[part]) if part in mapping else part for part in alternatives
        )
    unmapped.append(f"{label}{op}{value!r}")
    return value


def scale_expr(text: str, settings: ScaleSettings) -> ScaledExpr:
    """`text` with its durations divided by K and its label values mapped.

    Raises ValueError when `text` (or, which would be a bug, the rewrite) is not PromQL.
    """
    tree = pp.parse(text)
    ranges: list[tuple[str, timedelta]] = []
    unmapped: list[str] = []

    def duration(kind: str, delta: timedelta) -> timedelta:
        if kind in ("range", "subquery range"):
            ranges.append((kind, delta))
        return scale_duration(delta, settings.time_scale)

    def value(label: str, op: str, value: str) -> str:
        mapping = settings.labels.get(label)
        return value if mapping is None else _map_value(mapping, label, op, value, unmapped)

    rewritten = render(tree, Rewriter(duration=duration, value=value))
    try:
        pp.parse(rewritten)
    except ValueError as exc:  # the renderer's fault, not the user's: say so
        raise ValueError(f"gameday wrote {rewritten!r}, which does not parse: {exc}") from exc
    return ScaledExpr(rewritten, tuple(ranges), tuple(unmapped))


def parse_duration_field(value: object, *, source: str, where: str) -> timedelta:
    """A rule file's duration field (`for:`, `interval:`…), read by PromQL's own rules."""
    text = str(value).strip()
    try:
        return pp.parse_duration(text)
    except ValueError as exc:
        if text and set(text) <= set("0smhdwy") and "0" in text:
            return timedelta(0)  # `for: 0s`: valid, but the parser wants > 0
        raise InvalidInputError(
            f"{text!r} is not a duration ({exc})",
            source=source,
            where=where,
            hint="write it as Prometheus does, e.g. 30s, 5m, 1h30m",
        ) from None


@dataclass
class ScaledRules:
    """A rewritten rule document, what the lab changed beyond scaling, and which
    adapted alerts it held."""

    document: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    adapted: set[str] = field(default_factory=set)


class _RuleScaler:
    def __init__(self, source: str, settings: ScaleSettings, clock: LabClock) -> None:
        self.source = source
        self.settings = settings
        self.clock = clock
        self.k = f"{settings.time_scale:g}"
        self.result = ScaledRules(document={})

    def fail(self, message: str, where: str, hint: str | None = None) -> InvalidInputError:
        return InvalidInputError(message, source=self.source, where=where, hint=hint)

    def duration(self, raw: object, where: str) -> str:
        delta = parse_duration_field(raw, source=self.source, where=where)
        return duration_text(scale_duration(delta, self.settings.time_scale))

    def group(self, group: Any, index: int) -> Any:
        if not isinstance(group, dict):
            raise self.fail("a group is not a mapping", f"groups[{index}]")
        name = str(group.get("name") or "")
        where = f"groups[{index}] ({name})" if name else f"groups[{index}]"
        scaled = dict(group)
        if group.get("interval") is not None:
            written = parse_duration_field(
                group["interval"], source=self.source, where=f"{where}.interval"
            )
            interval = scale_duration(written, self.settings.time_scale)
            floor = timedelta(seconds=self.clock.evaluation_s)
            if interval < floor:
                self.result.notes.append(
                    f"group {name!r}: interval {duration_text(written)} ÷ {self.k} = "
                    f"{duration_text(interval)} is under the lab's evaluation interval; "
                    f"raised to {duration_text(floor)}"
                )
                interval = floor
            scaled["interval"] = duration_text(interval)
        rules = group.get("rules") or []
        if not isinstance(rules, list):
            raise self.fail("'rules' is not a list", f"{where}.rules")
        scaled["rules"] = [
            self.rule(rule, f"{where}.rules[{position}]") for position, rule in enumerate(rules)
        ]
        return scaled

    def rule(self, rule: Any, where: str) -> Any:
        if not isinstance(rule, dict):
            raise self.fail("a rule is not a mapping", where)
        alert = rule.get("alert")
        name = str(alert if alert is not None else rule.get("record") or "")
        kind = "alert" if alert is not None else "record"
        where = f"{where} ({kind} {name})"
        scaled = dict(rule)
        expr = str(rule.get("expr") or "").strip()
        if alert is not None and name in self.settings.adapted:
            expr = self.settings.adapted[name].strip()
            self.result.adapted.add(name)
        try:
            rewritten = scale_expr(expr, self.settings)
        except ValueError as exc:
            raise self.fail(
                f"{kind} {name!r}: the expression is not PromQL ({exc})",
                f"{where}.expr",
                "fix the expression; `promtool check rules FILE` shows the same",
            ) from None
        self.check_ranges(kind, name, rewritten, where)
        scaled["expr"] = rewritten.text
        self.result.notes.extend(
            f"{kind} {name!r}: regex matcher {matcher} not mapped (only literal values are); "
            "check that it matches the lab's series"
            for matcher in rewritten.unmapped
        )
        for key in ("for", "keep_firing_for"):
            if rule.get(key) is not None:
                scaled[key] = self.duration(rule[key], f"{where}.{key}")
        return scaled

    def check_ranges(self, kind: str, name: str, scaled: ScaledExpr, where: str) -> None:
        if self.settings.time_scale == 1 or not scaled.ranges:
            return
        shortest_s = MIN_SAMPLES * self.clock.scrape_s
        too_short = [
            (what, window)
            for what, window in scaled.ranges
            if scale_duration(window, self.settings.time_scale).total_seconds() < shortest_s
        ]
        if not too_short:
            return
        what, window = too_short[0]
        largest = min(largest_time_scale(window, self.clock) for _, window in scaled.ranges)
        fix = (
            f"the largest time scale that works for {name!r} is {largest}: run at "
            f"--time-scale {largest} (profile: time_scale: {largest})"
            if largest >= 1
            else f"no time scale works for {name!r}: its {what} is under {MIN_SAMPLES} "
            "scrapes even in real time"
        )
        raise self.fail(
            f"{kind} {name!r}: the {what} [{duration_text(window)}] becomes "
            f"[{duration_text(scale_duration(window, self.settings.time_scale))}] at time "
            f"scale {self.k}, fewer than {MIN_SAMPLES} scrapes of the lab's "
            f"{self.clock.scrape_s:g}s",
            f"{where}.expr",
            f"{fix}; or replace its expression under 'adapted:' in a lab profile",
        )


def scale_rules(
    document: Any,
    *,
    source: str,
    settings: ScaleSettings,
    clock: LabClock | None = None,
) -> ScaledRules:
    """A rule document (`{groups: […]}`) rewritten for the lab; InvalidInputError (exit 2)
    naming the file and rule when it is malformed or a range would become too short."""
    if not isinstance(document, dict) or not isinstance(document.get("groups"), list):
        raise InvalidInputError(
            "not a rule file: no top-level 'groups:' list",
            source=source,
            hint="a rule file is Prometheus' format: groups: [{name, rules: [...]}]",
        )
    scaler = _RuleScaler(source, settings, clock or LabClock())
    scaled = dict(document)
    scaled["groups"] = [
        scaler.group(group, index) for index, group in enumerate(document["groups"])
    ]
    scaler.result.document = scaled
    return scaler.result


def describe(settings: ScaleSettings) -> str:
    """One line saying what a rewrite changed, for headers and status."""
    parts = []
    if settings.time_scale != 1:
        parts.append(
            f"time scale {settings.time_scale:g}: every for:, keep_firing_for:, group "
            f"interval:, range, subquery range and step, and offset divided by "
            f"{settings.time_scale:g}"
        )
    for label, mapping in settings.labels.items():
        pairs = ", ".join(f"{old}→{new}" for old, new in mapping.items())
        parts.append(f"label {label} mapped in every matcher ({pairs})")
    if settings.adapted:
        parts.append("expressions replaced: " + ", ".join(sorted(settings.adapted)))
    return "; ".join(parts) or "unchanged"


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (annotations, expressions) as `|` blocks, as people write them."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump_rules(document: Mapping[str, Any], header: list[str]) -> str:
    """A rule file's text: a `#` comment header, then the YAML."""
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header)
    body = yaml.dump(
        dict(document), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096
    )
    return comment + body
