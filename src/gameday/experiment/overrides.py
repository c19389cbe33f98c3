"""A plan's per-experiment overrides applied to an experiment document (pure).

Overrides (all optional):
  load:           arguments merged into the experiment's load control (users, spawn_rate, …)
  deadlines:      {ALERT: seconds} for its alert_fires / notification_delivered probes;
                  the key `recovery` sets the within_s of slo_restored / query_restored
                  (every deadline counts from the fault)
  configuration:  values merged into the experiment's configuration
"""

from __future__ import annotations

import copy
from typing import Any

from gameday.errors import InvalidInputError
from gameday.experiment.extension import ALERT_DEADLINE_FUNCS, LOAD_MODULE, RESTORATION_PROBES

KNOWN = ("load", "deadlines", "configuration")
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
        if not isinstance(value, dict):
            raise InvalidInputError(
                f"override {key!r} must be a mapping", source=source, where=f"{where}.{key}"
            )
    for alert, seconds in (overrides.get("deadlines") or {}).items():
        if not isinstance(seconds, int | float) or seconds <= 0:
            raise InvalidInputError(
                f"deadline for {alert!r} must be a positive number of seconds, not {seconds!r}",
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
