"""Stop conditions (guardrails): when the system degrades beyond what a game day allows,
the run stops and every fault is reverted at once.

Declared in an experiment's gameday extension, or at the top of a plan (then they
guard every experiment of it)::

    stop_conditions:
      - {name: checkout error budget, query: 'sum(rate(errors[1m]))', max: 0.05, for_s: 10}
      - {alert: CustomerFacingOutage}

A query condition trips when its worst series stays outside `min`/`max` for `for_s`
seconds (0: at once); no data never trips it. An alert condition trips as soon as
the alert fires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gameday.errors import InvalidInputError

__all__ = ["StopCondition", "parse_stop_conditions"]
MAX_FOR_S = 24 * 3600.0
KEYS = {"name", "query", "min", "max", "for_s", "alert"}
HINT = (
    "a stop condition is {query: PROMQL, max: N (and/or min: N), for_s: S, name: TEXT} "
    "or {alert: NAME}"
)


@dataclass(frozen=True)
class StopCondition:
    """One guardrail: a PromQL query with bounds held for `for_s`, or an alert name."""

    name: str
    query: str | None = None
    low: float | None = None
    high: float | None = None
    for_s: float = 0.0
    alert: str | None = None

    def violated_by(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return (self.high is not None and value > self.high) or (
            self.low is not None and value < self.low
        )

    def worst_of(self) -> str:
        """The PromQL of the value judged: the worst series for the bound."""
        assert self.query is not None
        return f"max({self.query})" if self.high is not None else f"min({self.query})"

    def describe(self) -> str:
        if self.alert is not None:
            return f"{self.name} (alert {self.alert} must not fire)"
        bounds = [f">= {self.low:g}" if self.low is not None else ""]
        bounds.append(f"<= {self.high:g}" if self.high is not None else "")
        held = f" for {self.for_s:g}s" if self.for_s else ""
        return f"{self.name} (must stay {' and '.join(b for b in bounds if b)}{held})"


def _number(value: Any, *, source: str, where: str, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(
            f"{key} must be a finite number, not {value!r}", source=source, where=where, hint=HINT
        )
    return float(value)


def _condition(item: Any, *, source: str, where: str) -> StopCondition:
    if not isinstance(item, dict):
        raise InvalidInputError("a stop condition must be a mapping", source=source, where=where)
    unknown = sorted(str(key) for key in item if key not in KEYS)
    if unknown:
        raise InvalidInputError(
            f"unknown key {unknown[0]!r} in a stop condition",
            source=source,
            where=where,
            hint=HINT,
        )
    alert, query = item.get("alert"), item.get("query")
    if (alert is None) == (query is None):
        raise InvalidInputError(
            "a stop condition names either a 'query' or an 'alert'",
            source=source,
            where=where,
            hint=HINT,
        )
    for_s = _number(item.get("for_s", 0), source=source, where=where, key="for_s") or 0.0
    if not 0 <= for_s <= MAX_FOR_S:
        raise InvalidInputError(
            f"for_s must be between 0 and {MAX_FOR_S:g} seconds, not {for_s:g}",
            source=source,
            where=where,
        )
    if alert is not None:
        if not isinstance(alert, str) or not alert.strip():
            raise InvalidInputError(
                f"alert must be an alert name, not {alert!r}", source=source, where=where
            )
        return StopCondition(name=str(item.get("name") or alert), alert=alert.strip(), for_s=for_s)
    if not isinstance(query, str) or not query.strip():
        raise InvalidInputError(
            f"query must be PromQL text, not {query!r}", source=source, where=where, hint=HINT
        )
    low = _number(item.get("min"), source=source, where=where, key="min")
    high = _number(item.get("max"), source=source, where=where, key="max")
    if low is None and high is None:
        raise InvalidInputError(
            "a query stop condition needs 'max', 'min' or both", source=source, where=where
        )
    if low is not None and high is not None and low > high:
        raise InvalidInputError(
            f"min {low:g} is above max {high:g}: the condition would always trip",
            source=source,
            where=where,
        )
    return StopCondition(
        name=str(item.get("name") or query.strip()),
        query=query.strip(),
        low=low,
        high=high,
        for_s=for_s,
    )


def parse_stop_conditions(raw: Any, *, source: str, where: str) -> tuple[StopCondition, ...]:
    """The stop conditions of an experiment or a plan; InvalidInputError (exit 2)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidInputError(
            "stop_conditions must be a list", source=source, where=where, hint=HINT
        )
    return tuple(
        _condition(item, source=source, where=f"{where}[{index}]") for index, item in enumerate(raw)
    )
