"""Production estimates: lab times scaled back when the lab ran the rules in compressed time.

A lab started with `--time-scale K` divides every duration in the rules by K. What
it measures is not all rule time, though: the lab's own scrape and evaluation
delays (about a second) are the same at any K. So the estimate scales back only
what compressed time shortened:

- MTTD and time to notify of an alert whose `for:` is known (the rule the lab
  loaded): measured + (K − 1) × its `for:` on the lab, i.e. the rule's production
  `for:` plus the lab's own detection and delivery delays as measured. Production
  adds its own scrape and evaluation intervals on top.
- Anything else (alerts of unknown rules, MTTR, budgets): × K, an upper bound,
  since the lab's fixed delays are multiplied too.

The measured times stay what they are (lab seconds, judged against the experiment's
budgets, which are lab budgets too). At K = 1 there is no estimate, and results
without one (older runs) read the same as real-time runs.
"""

from __future__ import annotations

from collections.abc import Mapping

from gameday.model import Budgets, Measurements, ProductionEstimate

__all__ = [
    "LAB_BUDGETS",
    "REAL_TIME",
    "estimate_of",
    "estimate_parts",
    "estimate_seconds",
    "scale_text",
    "with_production_estimate",
]

REAL_TIME = 1.0
# How every report says what the budgets in an estimate are.
LAB_BUDGETS = "the experiment's budgets are lab budgets, shown"


def _times(value: float, time_scale: float) -> float:
    return round(value * time_scale, 3)


def _scaled(figures: dict[str, float], time_scale: float) -> dict[str, float]:
    return {name: _times(seconds, time_scale) for name, seconds in figures.items()}


def _detection(
    figures: dict[str, float], time_scale: float, for_s: Mapping[str, float]
) -> dict[str, float]:
    """Per alert: its `for:` scaled back when known (measured + (K − 1) × for), else × K."""
    return {
        alert: round(seconds + (time_scale - 1) * for_s[alert], 3)
        if alert in for_s
        else _times(seconds, time_scale)
        for alert, seconds in figures.items()
    }


def with_production_estimate(
    measured: Measurements, time_scale: float, for_s: Mapping[str, float] | None = None
) -> Measurements:
    """`measured` with `time_scale` (K) and `production_estimate_s` when K is not 1;
    unchanged at K = 1. `for_s`: each alert's `for:` as the lab ran it (seconds), which
    makes its detection estimate exact up to production's own intervals. Raises
    ValueError for K <= 0."""
    if time_scale <= 0:
        raise ValueError(f"time scale must be above 0, not {time_scale!r}")
    if time_scale == REAL_TIME:
        return measured
    known = dict(for_s or {})
    mttr = measured["mttr_s"]
    estimate = ProductionEstimate(
        mttd_s=_detection(measured["mttd_s"], time_scale, known),
        time_to_notify_s=_detection(measured["time_to_notify_s"], time_scale, known),
        mttr_s=None if mttr is None else _times(mttr, time_scale),
    )
    budgets = measured.get("budgets_s")
    if budgets is not None:
        limit = budgets["mttr_s"]
        estimate["budgets_s"] = Budgets(
            mttd_s=_scaled(budgets["mttd_s"], time_scale),
            time_to_notify_s=_scaled(budgets["time_to_notify_s"], time_scale),
            mttr_s=None if limit is None else _times(limit, time_scale),
        )
    scaled = Measurements(**measured)
    scaled["time_scale"] = float(time_scale)
    scaled["production_estimate_s"] = estimate
    return scaled


def estimate_of(measured: Measurements) -> tuple[float, ProductionEstimate] | None:
    """K and the production estimate a result holds; None for a real-time run or a result
    written before time scales existed (no `time_scale`, or K = 1)."""
    time_scale = measured.get("time_scale")
    estimate = measured.get("production_estimate_s")
    if time_scale is None or estimate is None or float(time_scale) == REAL_TIME:
        return None
    return float(time_scale), estimate


def scale_text(time_scale: float) -> str:
    """K as reports write it: `60×`, `2.5×`."""
    return f"{time_scale:g}×"


def estimate_seconds(seconds: float) -> str:
    """A production estimate for people: 7.5s, 72s, 15m 00s, 2h 05m."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes}m {rest:02d}s"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours}h {minutes:02d}m"


def _with_budget(text: str, budget: float | None) -> str:
    return text if budget is None else f"{text} (budget {estimate_seconds(budget)})"


def estimate_parts(estimate: ProductionEstimate) -> list[str]:
    """`MTTD RedisDown 72s (budget 120s)`, `notify …`, `MTTR …`: the estimate as the
    terminal and the Markdown summary list it ("nothing measured" when it is empty)."""
    budgets = estimate.get("budgets_s")
    parts = [
        _with_budget(
            f"MTTD {alert} {estimate_seconds(value)}",
            budgets["mttd_s"].get(alert) if budgets else None,
        )
        for alert, value in estimate["mttd_s"].items()
    ]
    parts += [
        _with_budget(
            f"notify {alert} {estimate_seconds(value)}",
            budgets["time_to_notify_s"].get(alert) if budgets else None,
        )
        for alert, value in estimate["time_to_notify_s"].items()
    ]
    mttr = estimate["mttr_s"]
    if mttr is not None:
        parts.append(
            _with_budget(f"MTTR {estimate_seconds(mttr)}", budgets["mttr_s"] if budgets else None)
        )
    return parts or ["nothing measured"]
