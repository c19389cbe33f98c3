"""Evaluating objectives against Prometheus, and waiting for them to hold again:
shared by the SLO probes (the gateway's and Locust's series) and the PromQL probes
(any series)."""

from __future__ import annotations

import math

from gameday.engine import timeline
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import Prometheus
from gameday.verify.slo import Objective

POLL_S = 0.5
Values = list[tuple[Objective, float | None]]


def evaluate(prometheus: Prometheus, wanted: list[Objective], window_s: float) -> Values:
    """Each objective's worst value over the last `window_s` seconds (None: no data)."""
    return [(o, prometheus.query_value(o.over_window(window_s))) for o in wanted]


def violations(values: Values) -> list[str]:
    """The objectives that do not hold; no data (or NaN: no traffic) never holds."""
    return [
        objective.describe(value)
        for objective, value in values
        if value is None or math.isnan(value) or not objective.met_by(value)
    ]


def shown(values: Values) -> str:
    return "; ".join(objective.describe(value) for objective, value in values)


def wait_until_held(
    prometheus: Prometheus, wanted: list[Objective], *, window_s: float, within_s: float, what: str
) -> tuple[Values | None, list[str]]:
    """Poll until every objective holds over `window_s`, for at most `within_s`.

    Returns the values when they hold (None when the deadline passed first) and
    the violations seen last.
    """
    last: list[Values] = []

    def held() -> Values | None:
        values = evaluate(prometheus, wanted, window_s)
        last[:] = [values]
        return None if violations(values) else values

    polled = poll_until(
        held,
        timeout_s=within_s,
        interval_s=POLL_S,
        on_wait=lambda left: timeline.waiting(f"{what} to be restored", left),
    )
    return polled.value, violations(last[0]) if last else ["not evaluated"]
