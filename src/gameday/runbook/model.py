"""The typed runbook model: what gameday understood from a runbook.

Every element records the line it came from (1-based) so that messages and
reports can point back into the Markdown. `Runbook.to_dict()` is the JSON form
(`gameday runbook show --json`), schema `gameday.runbook/1`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "RUNBOOK_SCHEMA",
    "Alert",
    "Command",
    "Contact",
    "Dashboard",
    "EscalationLevel",
    "Procedure",
    "RollbackTrigger",
    "Rule",
    "Runbook",
    "Service",
    "SeverityLevel",
    "SloTarget",
    "Step",
    "normalise_name",
]

RUNBOOK_SCHEMA = "gameday.runbook/1"

_SPACES = re.compile(r"\s+")


def normalise_name(name: str) -> str:
    """The key alert names are matched on: case kept, whitespace collapsed and trimmed."""
    return _SPACES.sub(" ", name).strip()


@dataclass(frozen=True)
class Service:
    """A service or component the runbook describes (`kind`: component or dependency)."""

    name: str
    description: str = ""
    kind: str = "component"
    line: int | None = None


@dataclass(frozen=True)
class Command:
    """One command (a shell line, a SQL or PromQL statement) from a code block."""

    text: str
    language: str
    line: int | None = None


@dataclass(frozen=True)
class Step:
    """One ordered step of a procedure, with the commands that carry it out."""

    text: str
    commands: tuple[Command, ...] = ()
    line: int | None = None
    section: str = ""


@dataclass(frozen=True)
class Procedure:
    """A runbook section that says what to do: ordered steps and/or commands."""

    title: str
    steps: tuple[Step, ...] = ()
    commands: tuple[Command, ...] = ()
    anchor: str = ""
    is_rollback: bool = False
    line: int | None = None


@dataclass(frozen=True)
class Rule:
    """A Prometheus alerting rule, from a rule file or a YAML block in a runbook.

    `group_interval` is its group's `interval:` as written (None: the global one).
    """

    name: str
    expr: str
    for_: str | None = None
    severity: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    group: str = ""
    source: str = ""
    line: int | None = None
    keep_firing_for: str | None = None
    group_interval: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["for"] = data.pop("for_")
        return data


@dataclass
class Alert:
    """An alert the runbook names, with what the runbook says about it.

    `sources` says where it was found: `table`, `list`, `heading`, `page` (the
    page's title), `field` (an `**Alert:**` label), `mention`, `rule` (an
    embedded Prometheus rule), `rules` (a rule file given with `--rules`, named
    in the runbook), `front matter` (the page's YAML front matter). `severity`
    is normalised (critical, warning, info); `severity_stated` is the text the
    runbook wrote. `inferred` names the
    fields gameday inferred (a procedure tied by section or name, a severity
    from a heading) rather than read from a label or a column.
    """

    name: str
    meaning: str = ""
    severity: str | None = None
    threshold: str | None = None
    expr: str | None = None
    for_: str | None = None
    response_time: str | None = None
    response_time_s: float | None = None
    procedure: str | None = None
    dashboards: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    line: int | None = None
    severity_stated: str | None = None
    for_s: float | None = None
    escalation: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    inferred: list[str] = field(default_factory=list)
    page: str | None = None

    @property
    def key(self) -> str:
        return normalise_name(self.name)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["for"] = data.pop("for_")
        return data


@dataclass(frozen=True)
class SloTarget:
    """A service-level target: availability, latency quantile, error rate, MTTD, MTTR, RTO, RPO.

    `value` is in the unit given by `unit`: `ratio` (99.9% → 0.999), `s`
    (durations and latencies, in seconds) or the unit as written.
    """

    name: str
    kind: str
    target: str
    comparator: str | None = None
    value: float | None = None
    unit: str | None = None
    quantile: float | None = None
    scope: str | None = None
    measurement: str = ""
    line: int | None = None


@dataclass(frozen=True)
class SeverityLevel:
    """A row of the runbook's severity classification (SEV-1 … with response times)."""

    name: str
    definition: str = ""
    response_time: str | None = None
    response_time_s: float | None = None
    line: int | None = None


@dataclass(frozen=True)
class EscalationLevel:
    """One level of the escalation path."""

    level: int
    name: str
    contact: str = ""
    response_time: str | None = None
    response_time_s: float | None = None
    condition: str = ""
    line: int | None = None


@dataclass(frozen=True)
class Contact:
    """An on-call or contact entry (role → how to reach it)."""

    role: str
    value: str
    line: int | None = None


@dataclass(frozen=True)
class Dashboard:
    """A dashboard the runbook points responders to."""

    name: str
    url: str = ""
    line: int | None = None


@dataclass(frozen=True)
class RollbackTrigger:
    """A condition the runbook gives for rolling back, and where it says so."""

    condition: str
    procedure: str | None = None
    line: int | None = None
    alert: str | None = None


@dataclass
class Runbook:
    """Everything gameday understood from one runbook."""

    source: str
    title: str
    services: list[Service] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    slos: list[SloTarget] = field(default_factory=list)
    severity_levels: list[SeverityLevel] = field(default_factory=list)
    procedures: list[Procedure] = field(default_factory=list)
    escalation: list[EscalationLevel] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    dashboards: list[Dashboard] = field(default_factory=list)
    rollback_triggers: list[RollbackTrigger] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)

    def alert(self, name: str) -> Alert | None:
        """The alert called `name` (whitespace-normalised, case-sensitive), if named here."""
        key = normalise_name(name)
        found = next((alert for alert in self.alerts if alert.key == key), None)
        if found is None:  # a name the runbook also uses ("GPU Saturation" for GpuSaturation)
            found = next((alert for alert in self.alerts if key in alert.aliases), None)
        return found

    def alert_names(self) -> list[str]:
        return [alert.name for alert in self.alerts]

    def procedure(self, title: str | None) -> Procedure | None:
        """The procedure with this title or anchor (as an alert's `procedure` names it)."""
        if not title:
            return None
        wanted = title.lstrip("#")
        for procedure in self.procedures:
            if wanted in (procedure.title, procedure.anchor):
                return procedure
        return None

    def slo(self, kind: str) -> list[SloTarget]:
        return [slo for slo in self.slos if slo.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": RUNBOOK_SCHEMA,
            "source": self.source,
            "title": self.title,
            "services": [dataclasses.asdict(item) for item in self.services],
            "alerts": [alert.to_dict() for alert in self.alerts],
            "slos": [dataclasses.asdict(item) for item in self.slos],
            "severity_levels": [dataclasses.asdict(item) for item in self.severity_levels],
            "procedures": [dataclasses.asdict(item) for item in self.procedures],
            "escalation": [dataclasses.asdict(item) for item in self.escalation],
            "contacts": [dataclasses.asdict(item) for item in self.contacts],
            "dashboards": [dataclasses.asdict(item) for item in self.dashboards],
            "rollback_triggers": [dataclasses.asdict(item) for item in self.rollback_triggers],
            "rules": [rule.to_dict() for rule in self.rules],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "pages": list(self.pages),
        }
