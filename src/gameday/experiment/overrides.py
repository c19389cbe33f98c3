"""A plan's per-experiment overrides applied to an experiment document (pure).

Overrides (all optional):
  load:           arguments merged into the experiment's load control (users, spawn_rate,
                  workers, …)
  deadlines:      {ALERT: seconds} for its alert_fires / notification_delivered probes;
                  the key `recovery` sets the within_s of slo_restored / query_restored
                  (every deadline counts from the fault)
  configuration:  values merged into the experiment's configuration
  stop_conditions: a list added to the experiment's own (a plan's `stop_conditions:`
                  guard every experiment of the plan; see experiment.guardrails)
"""

from __future__ import annotations

import copy
from typing import Any

from gameday.errors import InvalidInputError
from gameday.experiment.extension import ALERT_DEADLINE_FUNCS, LOAD_MODULE, RESTORATION_PROBES
from gameday.experiment.guardrails import parse_stop_conditions

KNOWN = ("load", "deadlines", "configuration", "stop_conditions")
LISTS = ("stop_conditions",)
MAX_DEADLINE_S = 24 * 3600.0
RECOVERY = "recovery"


def check_overrides(overrides: Any, *, source: str, where: str) -> dict[str, Any]:
    if overrides is None:
        return {}
    if not isinstance(overrides, dict):
        raise InvalidInputError(
            "overrides must be a mapping", source=source, where=where, hint=f"use keys {KNOWN}"
        )
    for key, value in overrides.items():
        if key not in KNOWN:
            raise InvalidInputError(
                f"unknown override {key!r}",
                source=source,
                where=f"{where}.{key}",
                hint=f"overrides take: {', '.join(KNOWN)}",
            )
        if key in LISTS:
            parse_stop_conditions(value, source=source, where=f"{where}.{key}")
        elif not isinstance(value, dict):
            raise InvalidInputError(
                f"override {key!r} must be a mapping", source=source, where=f"{where}.{key}"
            )
    for alert, seconds in (overrides.get("deadlines") or {}).items():
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 < seconds <= MAX_DEADLINE_S
        ):
            raise InvalidInputError(
                f"deadline for {alert!r} must be a number of seconds from 0 to "
                f"{MAX_DEADLINE_S:g}, not {seconds!r}",
                source=source,
                where=f"{where}.deadlines.{alert}",
            )
    return overrides


def apply_overrides(document: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A copy of the experiment with the overrides applied. Raises InvalidInputError when a
    deadline names an alert the experiment does not check (a typo would be silent)."""
    result = copy.deepcopy(document)
    if overrides.get("configuration"):
        result.setdefault("configuration", {}).update(overrides["configuration"])
    if overrides.get("load"):
        for control in result.get("controls") or []:
            provider = control.get("provider") or {}
            if provider.get("module") == LOAD_MODULE:
                provider.setdefault("arguments", {}).update(overrides["load"])
    if overrides.get("stop_conditions"):
        _extension(result).setdefault("stop_conditions", []).extend(
            copy.deepcopy(overrides["stop_conditions"])
        )
    deadlines: dict[str, float] = dict(overrides.get("deadlines") or {})
    used: set[str] = set()
    for activity in result.get("method") or []:
        provider = activity.get("provider") or {}
        arguments = provider.setdefault("arguments", {}) if provider else {}
        func = provider.get("func")
        firing = arguments.get("status", "firing") == "firing"
        if func in ALERT_DEADLINE_FUNCS and firing and arguments.get("alert") in deadlines:
            arguments["within_s"] = deadlines[arguments["alert"]]
            used.add(arguments["alert"])
        elif (provider.get("module"), func) in RESTORATION_PROBES and RECOVERY in deadlines:
            arguments["within_s"] = deadlines[RECOVERY]
            used.add(RECOVERY)
    unused = sorted(set(deadlines) - used)
    if unused:
        raise InvalidInputError(
            f"deadlines for {', '.join(map(repr, unused))}: the experiment checks no such alert",
            where="overrides.deadlines",
            hint="name an alert its alert_fires/notification_delivered probes check, or recovery",
        )
    return result


def _extension(document: dict[str, Any]) -> dict[str, Any]:
    """The experiment's gameday extension block, added when it has none."""
    extensions = document.setdefault("extensions", [])
    if not isinstance(extensions, list):
        raise InvalidInputError(
            "'extensions' must be a list", where="extensions", hint="extensions: [{name: gameday}]"
        )
    for extension in extensions:
        if isinstance(extension, dict) and extension.get("name") == "gameday":
            return extension
    extensions.append({"name": "gameday"})
    found: dict[str, Any] = extensions[-1]
    return found
