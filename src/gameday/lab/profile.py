"""Lab profiles: a team's production rules, and how the lab runs them (`lab up --profile`).

    system: creto                      # shown in reports
    rules: [rules.yml]                 # rule files as written (relative to this file)
    time_scale: 60                     # every duration divided by 60
    labels: {namespace: {creto-enablement: lab}}   # label values mapped in every matcher
    replace_lab_rules: true            # load only these rules, not the lab's own
    deployments: [gateway]             # the lab parts playing the system's deployments
                                       # (kube-state-metrics names show only these)
    adapted:                           # rules whose expression is replaced, and why
      HighErrorRate:
        expr: 'sum(rate(gateway_requests_total{code=~"5.."}[5m])) > 0'
        why: gRPC error counters answered by the gateway's HTTP counters
    not_exercised:                     # alerts the lab cannot produce, and why
      QuotaCheckSlow: no lab part exports metering_quota_check_duration_seconds

`adapted` expressions are written at production speed, like the rules: they are
scaled and mapped like the rest. Every key is checked; a mistake is an
InvalidInputError (exit 2) naming the file, the key and the fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import promql_parser

from gameday.documents import read_yaml
from gameday.errors import InvalidInputError
from gameday.lab.config import LabConfig, LabPorts
from gameday.lab.time_scale import ScaleSettings

__all__ = ["PROFILE_KEYS", "Adaptation", "LabProfile", "read_profile"]

PROFILE_KEYS = (
    "system",
    "rules",
    "time_scale",
    "labels",
    "replace_lab_rules",
    "deployments",
    "adapted",
    "not_exercised",
)
ADAPTATION_KEYS = ("expr", "why")


@dataclass(frozen=True)
class Adaptation:
    """An alert whose expression the lab replaces: the new expression, and why."""

    expr: str
    why: str


@dataclass(frozen=True)
class LabProfile:
    """A lab profile as read: paths resolved, every value checked."""

    system: str | None
    rule_files: tuple[Path, ...]
    time_scale: float
    labels: dict[str, dict[str, str]]
    replace_lab_rules: bool
    deployments: tuple[str, ...] = ()
    adapted: dict[str, Adaptation] = field(default_factory=dict)
    not_exercised: dict[str, str] = field(default_factory=dict)
    source: Path | None = None

    def scale_settings(self, time_scale: float | None = None) -> ScaleSettings:
        """How the rules are rewritten (`time_scale` overrides the profile's)."""
        return ScaleSettings(
            time_scale=self.time_scale if time_scale is None else time_scale,
            labels=self.labels,
            adapted={name: adaptation.expr for name, adaptation in self.adapted.items()},
        )

    def lab_config(
        self, directory: Path, ports: LabPorts, *, time_scale: float | None = None
    ) -> LabConfig:
        """The lab that runs this profile's rules (`time_scale` overrides the profile's)."""
        settings = self.scale_settings(time_scale)
        return LabConfig(
            directory=directory,
            ports=ports,
            extra_rule_files=self.rule_files,
            time_scale=settings.time_scale,
            system=self.system,
            replace_lab_rules=self.replace_lab_rules,
            deployments=self.deployments,
            label_values=self.labels,
            adapted_exprs=dict(settings.adapted),
        )


class _Reader:
    def __init__(self, path: Path) -> None:
        self.source = str(path)
        self.base = path.resolve().parent

    def fail(self, message: str, where: str, hint: str) -> InvalidInputError:
        return InvalidInputError(message, source=self.source, where=where, hint=hint)

    def mapping(self, value: Any, where: str, hint: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"must be a mapping, not {type(value).__name__}", where, hint)
        for key in value:
            if not isinstance(key, str) or not key.strip():
                raise self.fail(f"key {key!r} is not a name", where, hint)
        return value

    def text(self, value: Any, where: str, hint: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail("must be a string", where, hint)
        text = str(value).strip()
        if not text:
            raise self.fail("must not be empty", where, hint)
        return text

    def rule_files(self, value: Any) -> tuple[Path, ...]:
        hint = "rules: [rules.yml] — Prometheus rule files, relative to the profile"
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail("must be a non-empty list of rule files", "rules", hint)
        files = []
        for index, item in enumerate(value):
            where = f"rules[{index}]"
            path = (self.base / self.text(item, where, hint)).resolve()
            if path.suffix.lower() in {".md", ".markdown"}:
                raise self.fail(
                    f"{item!r} is a runbook, not a rule file",
                    where,
                    f"write its rules out first: gameday runbook rules {item} -o rules.yml",
                )
            if not path.is_file():
                raise self.fail(f"rule file {item!r} not found (looked in {path})", where, hint)
            files.append(path)
        return tuple(files)

    def time_scale(self, value: Any) -> float:
        hint = "time_scale: 60 divides every duration by 60 (5m windows become 5s)"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{value!r} is not a number", "time_scale", hint)
        if not math.isfinite(value) or value < 1:
            raise self.fail(f"{value!r} is under 1", "time_scale", hint)
        return float(value)

    def labels(self, value: Any) -> dict[str, dict[str, str]]:
        hint = "labels: {namespace: {creto-enablement: lab}} — label: {production: lab}"
        labels: dict[str, dict[str, str]] = {}
        for label, values in self.mapping(value, "labels", hint).items():
            where = f"labels.{label}"
            labels[label] = {
                self.text(old, where, hint): self.text(new, f"{where}.{old}", hint)
                for old, new in self.mapping(values, where, hint).items()
            }
        return labels

    def deployments(self, value: Any) -> tuple[str, ...]:
        hint = "deployments: [gateway] (the lab parts that play the system's deployments)"
        if not isinstance(value, list):
            raise self.fail("must be a list of lab parts", "deployments", hint)
        known = ("gateway", "redis", "etcd", "camera", "vision", "peer-proxy")
        for index, item in enumerate(value):
            if item not in known:
                raise self.fail(
                    f"{item!r} is not a lab part", f"deployments[{index}]", f"one of {known}"
                )
        return tuple(value)

    def flag(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(f"{value!r} is not true or false", where, f"{where}: true")
        return value

    def adapted(self, value: Any) -> dict[str, Adaptation]:
        hint = "adapted: {ALERT: {expr: 'PROMQL at production speed', why: 'the reason'}}"
        adapted: dict[str, Adaptation] = {}
        for name, entry in self.mapping(value, "adapted", hint).items():
            where = f"adapted.{name}"
            entry = self.mapping(entry, where, hint)
            unknown = [key for key in entry if key not in ADAPTATION_KEYS]
            if unknown:
                raise self.fail(
                    f"unknown key {unknown[0]!r}",
                    f"{where}.{unknown[0]}",
                    f"known keys here: {', '.join(ADAPTATION_KEYS)}",
                )
            for key in ADAPTATION_KEYS:
                if key not in entry:
                    raise self.fail(f"'{key}' is missing", where, hint)
            expr = self.text(entry["expr"], f"{where}.expr", hint)
            try:
                promql_parser.parse(expr)
            except ValueError as exc:
                raise self.fail(
                    f"the expression is not PromQL ({exc})", f"{where}.expr", hint
                ) from None
            adapted[name] = Adaptation(expr=expr, why=self.text(entry["why"], f"{where}.why", hint))
        return adapted

    def reasons(self, value: Any) -> dict[str, str]:
        hint = "not_exercised: {ALERT: why the lab cannot produce it}"
        return {
            name: self.text(why, f"not_exercised.{name}", hint)
            for name, why in self.mapping(value, "not_exercised", hint).items()
        }


def read_profile(path: str | Path) -> LabProfile:
    """Read and check a lab profile; InvalidInputError (exit 2) naming the file and key."""
    path = Path(path)
    reader = _Reader(path)
    document = read_yaml(path)
    top_hint = f"a lab profile's keys: {', '.join(PROFILE_KEYS)}"
    if document is None:
        raise reader.fail("the profile is empty", "line 1", top_hint)
    document = reader.mapping(document, "top level", top_hint)
    unknown = [key for key in document if key not in PROFILE_KEYS]
    if unknown:
        raise reader.fail(f"unknown key {unknown[0]!r}", unknown[0], top_hint)
    if "rules" not in document:
        raise reader.fail("'rules' is missing", "rules", "rules: [rules.yml]")
    system = document.get("system")
    return LabProfile(
        system=None if system is None else reader.text(system, "system", "system: creto"),
        rule_files=reader.rule_files(document["rules"]),
        time_scale=reader.time_scale(document.get("time_scale", 1)),
        labels=reader.labels(document.get("labels") or {}),
        replace_lab_rules=reader.flag(
            document.get("replace_lab_rules", False), "replace_lab_rules"
        ),
        deployments=reader.deployments(document.get("deployments") or []),
        adapted=reader.adapted(document.get("adapted") or {}),
        not_exercised=reader.reasons(document.get("not_exercised") or {}),
        source=path.resolve(),
    )
