"""Alertmanager's routing tree, evaluated offline: which receivers an alert reaches.

Mirrors Alertmanager 0.25 (config/config.go, dispatch/route.go, pkg/labels/parse.go) so a
game day can check the paging path before any fault is injected; the tests compare the
answers with `amtool config routes test`. Regexes are Go's RE2: the syntax both engines
share is translated to Python's `re`, and what cannot be mirrored is refused, not guessed.
Mute and active time intervals are not evaluated: routing, like amtool, ignores the clock.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gameday.errors import InvalidInputError

__all__ = [
    "OPERATORS",
    "AlertmanagerConfig",
    "InhibitRule",
    "Matcher",
    "Route",
    "RouteMatch",
    "load_config",
    "parse_config",
    "parse_matchers",
]

OPERATORS = ("=", "!=", "=~", "!~")

# model.LabelNameRE: the names `match`, `match_re` and `equal` accept (no ':').
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# pkg/labels/parse.go; Go's \s is [\t\n\f\r ], and '=~' is tried before '='.
_GO_SPACE = r"[\t\n\f\r ]*"
_MATCHER = re.compile(
    rf"{_GO_SPACE}([a-zA-Z_:][a-zA-Z0-9_:]*){_GO_SPACE}(=~|=|!=|!~){_GO_SPACE}(.*?){_GO_SPACE}",
    re.DOTALL,
)
_MATCHER_HINT = 'write it as name=value, name!=value, name=~regex or name!~regex, e.g. team="ops"'

_TOP_KEYS = frozenset(
    {
        "global",
        "route",
        "inhibit_rules",
        "receivers",
        "templates",
        "mute_time_intervals",
        "time_intervals",
        "tracing",  # newer Alertmanagers: accepted so their live configs still parse
    }
)
_ROUTE_KEYS = frozenset(
    {
        "receiver",
        "group_by",
        "match",
        "match_re",
        "matchers",
        "mute_time_intervals",
        "active_time_intervals",
        "continue",
        "routes",
        "group_wait",
        "group_interval",
        "repeat_interval",
    }
)
_INHIBIT_KEYS = frozenset(
    {
        "name",  # newer Alertmanagers
        "source_match",
        "source_match_re",
        "source_matchers",
        "target_match",
        "target_match_re",
        "target_matchers",
        "equal",
    }
)


# --------------------------------------------------------------------------- Go regexes

_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
_FLAG_GROUP = re.compile(r"\(\?([imsU]*)(?:-([imsU]*))?([:)])")
_POSIX_CLASS = re.compile(r"\[:(\^?)([a-z]+):\]")
# Go's POSIX classes are ASCII-only.
_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": r"\x00-\x7f",
    "blank": r"\t ",
    "cntrl": r"\x00-\x1f\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": r"!-/:-@\[-`{-~",
    "space": r"\t\n\v\f\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_OCTAL = "01234567"
_REGEX_HINT = "Alertmanager compiles it as Go RE2 syntax, anchored: ^(?:regex)$"


def _unsupported(pattern: str, what: str) -> InvalidInputError:
    return InvalidInputError(
        f"regex {pattern!r} uses {what}, which Alertmanager's Go (RE2) regexes do not support",
        hint="rewrite it without it; " + _REGEX_HINT,
    )


def _escape(pattern: str, i: int, in_class: bool, out: list[str]) -> int:
    """Translate the escape at pattern[i] ('\\'); return the index after it."""
    if i + 1 >= len(pattern):
        raise InvalidInputError(f"bad regex {pattern!r}: trailing backslash", hint=_REGEX_HINT)
    char = pattern[i + 1]
    if char == "Q":  # \Q...\E: literal text
        end = pattern.find("\\E", i + 2)
        stop = len(pattern) if end < 0 else end
        out.append(re.escape(pattern[i + 2 : stop]))
        return stop if end < 0 else end + 2
    if char in "pP":
        raise _unsupported(pattern, r"a Unicode class (\p)")
    if char in "89CZuUN":
        raise _unsupported(pattern, f"the escape \\{char}")
    if char in _OCTAL:
        # Go: \0 and \1..\7 followed by an octal digit are octal codes; a lone \1 is a
        # backreference, which RE2 refuses (Python would accept it).
        if char != "0" and (i + 2 >= len(pattern) or pattern[i + 2] not in _OCTAL):
            raise _unsupported(pattern, f"the backreference \\{char}")
        end = i + 2
        while end < min(i + 4, len(pattern)) and pattern[end] in _OCTAL:
            end += 1
        out.append(re.escape(chr(int(pattern[i + 1 : end], 8))))
        return end
    if char == "x" and pattern.startswith("{", i + 2):
        end = pattern.find("}", i + 3)
        digits = pattern[i + 3 : end] if end > 0 else ""
        if not re.fullmatch(r"[0-9A-Fa-f]{1,6}", digits) or int(digits, 16) > 0x10FFFF:
            raise InvalidInputError(f"bad regex {pattern!r}: bad \\x{{…}} escape", hint=_REGEX_HINT)
        out.append(re.escape(chr(int(digits, 16))))
        return end + 1
    if char == "z" and not in_class:
        out.append(r"\Z")
    else:
        out.append("\\" + char)
    return i + 2


def _translate(pattern: str) -> tuple[str, int]:
    """Go RE2 syntax -> Python `re` syntax and flags; raises what Python would misread."""
    flags = 0
    i = 0
    # Leading (?flags) apply to the whole pattern in Go; Python wants them global.
    while (lead := _FLAG_GROUP.match(pattern, i)) is not None and lead.group(3) == ")":
        if "U" in lead.group(1) + (lead.group(2) or ""):
            raise _unsupported(pattern, "the U (ungreedy) flag")
        for letter in lead.group(1):
            flags |= _FLAGS[letter]
        for letter in lead.group(2) or "":
            flags &= ~_FLAGS[letter]
        i = lead.end()
    out: list[str] = []
    in_class = False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i = _escape(pattern, i, in_class, out)
            continue
        if in_class:
            posix = _POSIX_CLASS.match(pattern, i)
            if posix is not None:
                if posix.group(1) or posix.group(2) not in _POSIX:
                    raise _unsupported(pattern, f"the class {posix.group(0)}")
                out.append(_POSIX[posix.group(2)])
                i = posix.end()
                continue
            if char == "]":
                in_class = False
            # Literal in Go, set operations (or warnings) in Python.
            out.append("\\" + char if char in "[&~|" else char)
            i += 1
            continue
        if char == "[":
            in_class = True
            start = i + 1
            if pattern.startswith("^", start):
                start += 1
            if pattern.startswith("]", start):  # a leading ']' is literal
                start += 1
            out.append(pattern[i:start].replace("]", r"\]"))
            i = start
            continue
        if char == "(" and pattern.startswith("?", i + 1):
            group = _FLAG_GROUP.match(pattern, i)
            if group is not None and group.group(3) == ":":
                if "U" in group.group(0):
                    raise _unsupported(pattern, "the U (ungreedy) flag")
                out.append(group.group(0))
                i = group.end()
                continue
            if group is not None:
                raise InvalidInputError(
                    f"regex {pattern!r} sets flags mid-pattern ({group.group(0)}), which this "
                    "evaluator cannot mirror",
                    hint="put the flags at the very start, e.g. (?i)warning|critical, "
                    "or scope them: (?i:warning)",
                )
            if not pattern.startswith(("(?:", "(?P<"), i):
                raise _unsupported(pattern, f"the group syntax {pattern[i : i + 3]}…")
        if char == "$" and not flags & re.MULTILINE:
            out.append(r"\Z")  # Go's $ is the end of the text; Python's also before a final \n
            i += 1
            continue
        if char == "{" and pattern.startswith(",", i + 1):
            out.append(r"\{")  # literal in Go; {,n} is a repetition in Python
            i += 1
            continue
        if char in "*+?" and pattern.startswith("+", i + 1):
            raise _unsupported(pattern, f"the possessive quantifier {char}+")
        out.append(char)
        i += 1
    return "".join(out), flags


def _compile(pattern: str) -> re.Pattern[str]:
    """Compile as Alertmanager does, ^(?:pattern)$, with Go's ASCII-only \\d, \\w, \\s, \\b."""
    translated, flags = _translate(pattern)
    try:
        return re.compile(rf"\A(?:{translated})\Z", flags | re.ASCII)
    except re.error as exc:
        raise InvalidInputError(f"bad regex {pattern!r}: {exc}", hint=_REGEX_HINT) from None


# --------------------------------------------------------------------------- matchers


@dataclass(frozen=True)
class Matcher:
    """One label matcher, applied as Alertmanager does: a missing label reads as ""."""

    name: str
    op: str
    value: str
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise InvalidInputError(
                f"unknown matcher operator {self.op!r}", hint="use one of =, !=, =~, !~"
            )
        if self.op in ("=~", "!~"):
            object.__setattr__(self, "_regex", _compile(self.value))

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.name, "")
        if self._regex is None:
            return (value == self.value) == (self.op == "=")
        return (self._regex.search(value) is not None) == (self.op == "=~")

    def __str__(self) -> str:
        # Go's openMetricsEscape: the form Alertmanager prints and parses back.
        escaped = self.value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


def _unquote(raw: str, whole: str) -> str:
    """ParseMatcher's value rules: optional surrounding quotes, \\" \\\\ \\n escapes."""
    quoted = raw.startswith('"')
    if quoted:
        raw = raw[1:]
    value: list[str] = []
    escaped = False
    for index, char in enumerate(raw):
        last = index == len(raw) - 1
        if escaped:
            escaped = False
            # A spurious escape keeps its backslash (Windows paths, regex escapes).
            value.append({"n": "\n", '"': '"', "\\": "\\"}.get(char, "\\" + char))
        elif char == "\\" and not last:
            escaped = True
        elif char == '"':
            if not quoted or not last:
                raise InvalidInputError(
                    f"matcher {whole.strip()!r}: the value contains an unescaped double quote",
                    hint='quote the whole value and escape inner quotes: name="say \\"hi\\""',
                )
            quoted = False
        else:
            value.append(char)
    if quoted:
        raise InvalidInputError(
            f"matcher {whole.strip()!r}: the value's opening quote is never closed",
            hint='close the quote, or escape a literal one as \\"',
        )
    return "".join(value)


def _parse_matcher(text: str) -> Matcher:
    found = _MATCHER.fullmatch(text)
    if found is None:
        raise InvalidInputError(f"bad matcher {text.strip()!r}", hint=_MATCHER_HINT)
    name, op, raw = found.groups()
    return Matcher(name, op, _unquote(raw, text))


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """Alertmanager's ParseMatchers: comma-separated matchers, optionally in {braces}.

    Commas inside quoted values do not split; a trailing comma is allowed.
    """
    text = text.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    token: list[str] = []
    inside_quotes = escaped = False
    for char in text:
        if char == "," and not inside_quotes:
            tokens.append("".join(token))
            token = []
            continue
        if char == '"':
            if escaped:
                escaped = False
            else:
                inside_quotes = not inside_quotes
        elif char == "\\":
            escaped = not escaped
        else:
            escaped = False
        token.append(char)
    if last := "".join(token).strip():
        tokens.append(last)
    return tuple(_parse_matcher(part) for part in tokens)


# --------------------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Route:
    """One node of the routing tree; `receiver` is already inherited from the parent."""

    receiver: str
    matchers: tuple[Matcher, ...]
    continue_: bool
    routes: tuple[Route, ...]
    where: str

    def match(self, labels: Mapping[str, str]) -> list[Route] | None:
        """dispatch/route.go Match(): depth-first; a matching child stops its siblings
        unless that child has `continue`; a node no child matched is itself the match."""
        if not all(matcher.matches(labels) for matcher in self.matchers):
            return None
        found: list[Route] = []
        for child in self.routes:
            matched = child.match(labels)
            if matched is not None:
                found.extend(matched)
                if not child.continue_:
                    break
        return found or [self]


@dataclass(frozen=True)
class RouteMatch:
    """A route an alert ends on: the receiver it is sent to, and why."""

    receiver: str
    where: str
    matchers: tuple[Matcher, ...]


@dataclass(frozen=True)
class InhibitRule:
    """Mutes alerts matching `target_matchers` while one matching `source_matchers`
    fires with the same values for the `equal` labels."""

    source_matchers: tuple[Matcher, ...]
    target_matchers: tuple[Matcher, ...]
    equal: tuple[str, ...]
    where: str


@dataclass(frozen=True)
class AlertmanagerConfig:
    """The routing part of an Alertmanager configuration."""

    route: Route
    receivers: dict[str, tuple[str, ...]]
    inhibit_rules: tuple[InhibitRule, ...] = ()
    source: str = ""

    def routes_for(self, labels: Mapping[str, str]) -> list[RouteMatch]:
        """Every route the alert is sent through, in Alertmanager's order (what amtool prints)."""
        matched = self.route.match(labels) or [self.route]
        return [RouteMatch(route.receiver, route.where, route.matchers) for route in matched]

    def integrations(self, receiver: str) -> tuple[str, ...]:
        """The receiver's integrations ("webhook", "email", …), each once, in config order."""
        try:
            return self.receivers[receiver]
        except KeyError:
            raise InvalidInputError(
                f"no receiver {receiver!r}",
                source=self.source or None,
                hint=f"receivers defined: {', '.join(self.receivers) or 'none'}",
            ) from None


# --------------------------------------------------------------------------- YAML


class _Text(str):
    """A plain scalar YAML 1.1 types (true, 500, 2024-01-01): Go's decoder keeps its text for
    string fields, so `code: 500` matches code="500" and `on: yes` matches on="yes"."""

    typed: object = None


class _Loader(yaml.SafeLoader):
    """Safe YAML read the way Alertmanager's strict Go decoder reads it."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key_node.value!r} is given twice", key_node.start_mark
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


def _typed_scalar(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> _Text:
    text = _Text(node.value)
    text.typed = yaml.SafeLoader.yaml_constructors[node.tag](loader, node)
    return text


for _tag in ("bool", "int", "float", "timestamp"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _typed_scalar)


def _kind(value: object) -> str:
    if isinstance(value, _Text):
        return f"{type(value.typed).__name__} {str(value)!r}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__


class _Parser:
    """Turns the YAML document into the tree; every refusal names its place."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str | None, message: str, hint: str) -> InvalidInputError:
        return InvalidInputError(message, source=self.source, where=where, hint=hint)

    def relocate(self, error: InvalidInputError, where: str) -> InvalidInputError:
        return self.fail(where, error.message, error.hint or "")

    def mapping(self, value: object, where: str, what: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(
                where,
                f"{what} must be a mapping, not {_kind(value)}",
                f"write {what} as key: value lines",
            )
        for key in value:
            if not isinstance(key, str):
                raise self.fail(where, f"key {key!r} is not a string", "quote the key")
        return value

    def sequence(self, value: object, where: str, what: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(
                where, f"{what} must be a list, not {_kind(value)}", f"write {what} as - items"
            )
        return value

    def string(self, value: object, where: str, what: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(where, f"{what} must be a string, not {_kind(value)}", "quote it: '…'")
        return str(value)

    def boolean(self, value: object, where: str) -> bool:
        if value is None:
            return False
        if isinstance(value, _Text) and isinstance(value.typed, bool):
            return value.typed
        raise self.fail(
            where, f"continue must be true or false, not {_kind(value)}", "write continue: true"
        )

    def known(self, mapping: Mapping[str, Any], where: str, keys: frozenset[str]) -> None:
        for key in mapping:
            if key not in keys:
                close = difflib.get_close_matches(key, keys, n=1)
                hint = (
                    f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(keys))}"
                )
                place = f"{where}.{key}" if where else key
                raise self.fail(place, f"unknown field {key!r}", hint)

    def label_name(self, name: str, where: str) -> str:
        if not _LABEL_NAME.fullmatch(name):
            raise self.fail(
                where,
                f"invalid label name {name!r}",
                "label names are ASCII letters, digits and _, not starting with a digit",
            )
        return name

    def label_map(self, value: object, where: str, op: str) -> list[Matcher]:
        """`match:` (op "=") or `match_re:` (op "=~"): label name -> value or regex."""
        result: list[Matcher] = []
        for name, raw in self.mapping(value, where, where.rsplit(".", 1)[-1]).items():
            place = f"{where}.{name}"
            self.label_name(str(name), place)
            try:
                result.append(
                    Matcher(str(name), op, self.string(raw, place, f"the value of {name}"))
                )
            except InvalidInputError as exc:
                raise self.relocate(exc, place) from None
        return result

    def matcher_lines(self, value: object, where: str) -> list[Matcher]:
        """`matchers:`: a list of strings, each one or more comma-separated matchers."""
        if isinstance(value, str):
            raise self.fail(
                where,
                "matchers must be a list of strings, not a single string",
                f"write matchers: ['{value}']",
            )
        result: list[Matcher] = []
        for index, line in enumerate(self.sequence(value, where, "matchers")):
            place = f"{where}[{index}]"
            if not isinstance(line, str):
                raise self.fail(
                    place,
                    f'a matcher must be a string like team="ops", not {_kind(line)}',
                    "write - 'name=value' (a matcher string), not - name: value",
                )
            try:
                result.extend(parse_matchers(line))
            except InvalidInputError as exc:
                raise self.relocate(exc, place) from None
        return result

    def matchers(
        self, mapping: Mapping[str, Any], where: str, prefix: str = ""
    ) -> tuple[Matcher, ...]:
        """The three forms Alertmanager merges: match, match_re, matchers."""
        here = f"{where}.{prefix}" if where else prefix
        return (
            *self.label_map(mapping.get(f"{prefix}match"), f"{here}match", "="),
            *self.label_map(mapping.get(f"{prefix}match_re"), f"{here}match_re", "=~"),
            *self.matcher_lines(mapping.get(f"{prefix}matchers"), f"{here}matchers"),
        )

    def route(self, value: object, where: str, inherited: str) -> Route:
        node = self.mapping(value, where, "a route")
        self.known(node, where, _ROUTE_KEYS)
        for key in ("group_by", "mute_time_intervals", "active_time_intervals"):
            self.sequence(node.get(key), f"{where}.{key}", key)
        receiver = self.string(node.get("receiver"), f"{where}.receiver", "receiver")
        receiver = receiver or inherited
        matchers = self.matchers(node, where)
        children = self.sequence(node.get("routes"), f"{where}.routes", "routes")
        return Route(
            receiver=receiver,
            matchers=matchers,
            continue_=self.boolean(node.get("continue"), f"{where}.continue"),
            routes=tuple(
                self.route(child, f"{where}.routes[{index}]", receiver)
                for index, child in enumerate(children)
            ),
            where=where,
        )

    def root(self, value: object) -> Route:
        if value is None:
            raise self.fail(
                "route",
                "no route provided",
                "add route: with receiver: <default receiver> (and routes: for the rest)",
            )
        node = self.mapping(value, "route", "route")
        route = self.route(node, "route", "")
        if not route.receiver:
            raise self.fail(
                "route.receiver",
                "the root route has no receiver",
                "set route.receiver: the default receiver for alerts no child route matches",
            )
        if route.matchers:
            raise self.fail(
                "route",
                "the root route must not have matchers",
                "it is the fallback for every alert: move them to a child under route.routes",
            )
        if route.continue_:
            raise self.fail(
                "route.continue", "the root route cannot have continue", "remove continue: true"
            )
        for key in ("mute_time_intervals", "active_time_intervals"):
            if node.get(key):
                raise self.fail(
                    f"route.{key}",
                    f"the root route cannot have {key}",
                    "set them on a child route",
                )
        return route

    def receivers(self, value: object) -> dict[str, tuple[str, ...]]:
        result: dict[str, tuple[str, ...]] = {}
        for index, item in enumerate(self.sequence(value, "receivers", "receivers")):
            where = f"receivers[{index}]"
            node = self.mapping(item, where, "a receiver")
            name = self.string(node.get("name"), f"{where}.name", "a receiver's name")
            if not name:
                raise self.fail(where, "receiver has no name", "add name: <receiver name>")
            if name in result:
                raise self.fail(
                    f"{where}.name",
                    f"receiver {name!r} is defined twice",
                    "receiver names must be unique: rename or merge one",
                )
            kinds: list[str] = []
            for key, configs in node.items():
                if key == "name":
                    continue
                if not key.endswith("_configs"):
                    raise self.fail(
                        f"{where}.{key}",
                        f"unknown receiver field {key!r}",
                        "a receiver has name: and <integration>_configs: lists "
                        "(webhook_configs, email_configs, pagerduty_configs, …)",
                    )
                kind = key.removesuffix("_configs")
                if self.sequence(configs, f"{where}.{key}", key) and kind not in kinds:
                    kinds.append(kind)
            result[name] = tuple(kinds)
        return result

    def check_receivers(self, route: Route, receivers: Mapping[str, object]) -> None:
        if route.receiver not in receivers:
            close = difflib.get_close_matches(route.receiver, list(receivers), n=1)
            known = ", ".join(receivers) or "none"
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise self.fail(
                f"{route.where}.receiver",
                f"the route sends to receiver {route.receiver!r}, which is not defined",
                f"{hint}define it under receivers: (defined: {known}) or fix the name",
            )
        for child in route.routes:
            self.check_receivers(child, receivers)

    def inhibit_rules(self, value: object) -> tuple[InhibitRule, ...]:
        rules: list[InhibitRule] = []
        for index, item in enumerate(self.sequence(value, "inhibit_rules", "inhibit_rules")):
            where = f"inhibit_rules[{index}]"
            node = self.mapping(item, where, "an inhibit rule")
            self.known(node, where, _INHIBIT_KEYS)
            equal: list[str] = []
            names = self.sequence(node.get("equal"), f"{where}.equal", "equal")
            for place, name in ((f"{where}.equal[{i}]", name) for i, name in enumerate(names)):
                equal.append(self.label_name(self.string(name, place, "a label name"), place))
            rules.append(
                InhibitRule(
                    source_matchers=self.matchers(node, where, "source_"),
                    target_matchers=self.matchers(node, where, "target_"),
                    equal=tuple(equal),
                    where=where,
                )
            )
        return tuple(rules)


def parse_config(text: str, *, source: str) -> AlertmanagerConfig:
    """Read an Alertmanager configuration (YAML text); refuse what Alertmanager would."""
    parser = _Parser(source)
    try:
        document = yaml.load(text, Loader=_Loader)  # a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise parser.fail(
            f"line {mark.line + 1}" if mark else None,
            f"not valid YAML: {exc.problem or exc.context}",
            "fix the YAML there (indentation, quotes, duplicate keys)",
        ) from None
    except yaml.YAMLError as exc:
        raise parser.fail(None, f"not valid YAML: {exc}", "fix the YAML syntax") from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise parser.fail(
            None,
            f"an Alertmanager configuration is a mapping, not {_kind(document)}",
            "start it with route: and receivers:",
        )
    parser.mapping(document, "", "the configuration")
    parser.known(document, "", _TOP_KEYS)
    receivers = parser.receivers(document.get("receivers"))
    route = parser.root(document.get("route"))
    parser.check_receivers(route, receivers)
    return AlertmanagerConfig(
        route=route,
        receivers=receivers,
        inhibit_rules=parser.inhibit_rules(document.get("inhibit_rules")),
        source=source,
    )


def load_config(path: Path) -> AlertmanagerConfig:
    """Read an Alertmanager configuration file (alertmanager.yml)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"cannot read the Alertmanager configuration: {exc}",
            source=str(path),
            hint="check the path (the file Alertmanager runs with, e.g. alertmanager.yml)",
        ) from None
    return parse_config(text, source=str(path))
