"""Alerts gathered from every place a runbook names them, merged by name.

Mentions of the same name (whitespace-normalised, case kept) merge into one
alert; the first source to state a field wins, and a stated value replaces an
inferred one. Each alert remembers its *home*: the section that is about it
(its heading, its page, the section holding its `**Alert:**` label), where its
procedure, thresholds and escalation conditions are looked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gameday.runbook.document import Section
from gameday.runbook.model import Alert, Procedure, normalise_name
from gameday.runbook.quantities import parse_duration, prometheus_duration
from gameday.runbook.severity import normalise_severity

__all__ = ["AlertCollector"]

_PROMETHEUS = re.compile(r"(?:\d+(?:ms|s|m|h|d|w|y))+")


class AlertCollector:
    """Accumulates alerts by normalised name, merging fields from every place they appear."""

    def __init__(self, page: str | None = None) -> None:
        self._alerts: dict[str, Alert] = {}
        self.homes: dict[str, Section] = {}
        self.places: dict[str, list[Section]] = {}
        # procedures written inside an alert's table row rather than in a section
        self.procedures: list[Procedure] = []
        self.page = page

    def __contains__(self, name: str) -> bool:
        return normalise_name(name) in self._alerts

    def get(self, name: str) -> Alert | None:
        return self._alerts.get(normalise_name(name))

    def add(
        self,
        name: str,
        source: str,
        line: int | None,
        *,
        home: Section | None = None,
        where: Section | None = None,
        inferred: Iterable[str] = (),
        **fields: object,
    ) -> Alert | None:
        name = normalise_name(name.strip("`*_ "))
        if not name or len(name) > 120:
            return None
        alert = self._alerts.get(name)
        if alert is None:
            alert = Alert(name=name, line=line, page=self.page)
            self._alerts[name] = alert
        elif line is not None and (alert.line is None or line < alert.line):
            alert.line = line
        if source not in alert.sources:
            alert.sources.append(source)
        if home is not None:
            self.homes.setdefault(name, home)
        place = where or home
        if place is not None:
            places = self.places.setdefault(name, [])
            if all(place is not known for known in places):
                places.append(place)
        guessed = set(inferred)
        for key, value in fields.items():
            if value in (None, "", []):
                continue
            self.set(alert, key, value, inferred=key in guessed)
        return alert

    def set(self, alert: Alert, key: str, value: object, *, inferred: bool = False) -> None:
        """Set one field unless already stated; a stated value replaces an inferred one."""
        if key == "dashboards" and isinstance(value, list):
            alert.dashboards.extend(str(v) for v in value if str(v) not in alert.dashboards)
            return
        if key == "escalation" and isinstance(value, list):
            alert.escalation.extend(str(v) for v in value if str(v) not in alert.escalation)
            return
        attribute = "severity" if key == "severity" else key
        current = getattr(alert, attribute)
        replace = current in (None, "") or (attribute in alert.inferred and not inferred)
        if not replace:
            return
        if key == "severity":
            stated = " ".join(str(value).split())
            normalised = normalise_severity(stated)
            if normalised is None and current is not None:
                return
            alert.severity = normalised
            alert.severity_stated = stated
        elif key == "for_":
            text = str(value).strip()
            seconds = parse_duration(text)
            alert.for_ = text
            alert.for_s = seconds
            if seconds is not None and not _PROMETHEUS.fullmatch(text):
                alert.for_ = prometheus_duration(seconds)
        elif key == "response_time":
            alert.response_time = str(value).strip()
            alert.response_time_s = parse_duration(alert.response_time)
        else:
            setattr(alert, attribute, value)
        if inferred:
            if attribute not in alert.inferred:
                alert.inferred.append(attribute)
        elif attribute in alert.inferred:
            alert.inferred.remove(attribute)

    def rename(self, old: str, new: str) -> None:
        """Give an alert the name a rule uses; the runbook's spelling becomes an alias."""
        old, new = normalise_name(old), normalise_name(new)
        alert = self._alerts.pop(old, None)
        if alert is None or old == new:
            if alert is not None:
                self._alerts[old] = alert
            return
        if old not in alert.aliases:
            alert.aliases.append(old)
        alert.name = new
        existing = self._alerts.get(new)
        if existing is None:
            self._alerts[new] = alert
        if old in self.homes:
            self.homes.setdefault(new, self.homes.pop(old))
        if old in self.places:
            self.places.setdefault(new, []).extend(self.places.pop(old))

    def alerts(self) -> list[Alert]:
        return sorted(self._alerts.values(), key=lambda alert: alert.line or 0)
