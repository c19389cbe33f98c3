"""Durations, percentages and comparisons as runbooks write them.

"<5 min", "15-minute response", "1-hour", "30s", "2h", "Real-time", "99.9%",
"<100ms", "P95" … become numbers with units, or None when the text says no
number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Quantity", "parse_duration", "parse_quantile", "parse_quantity", "threshold_in"]

_UNIT_SECONDS: dict[str, float] = {
    "ms": 0.001,
    "msec": 0.001,
    "millisecond": 0.001,
    "milliseconds": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
    "w": 604800.0,
    "week": 604800.0,
    "weeks": 604800.0,
}

_DURATION = re.compile(
    r"(?P<num>\d+(?:\.\d+)?)\s*[-+]?\s*(?P<unit>milliseconds?|msec|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|hr|h|days?|d|weeks?|w)\b",
    re.IGNORECASE,
)
_PROM_DURATION = re.compile(r"^(?:\d+(?:ms|s|m|h|d|w|y))+$")
_PROM_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_COMPARATOR = r"(?P<cmp><=|>=|≤|≥|<|>|=)"
_QUANTITY = re.compile(_COMPARATOR + r"?\s*(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<unit>%|[a-zA-Zµμ]+)?")
_QUANTILE = re.compile(r"\bp(?P<q>\d{2,3}(?:\.\d+)?)\b", re.IGNORECASE)
_WORD_COMPARATOR = re.compile(
    r"\b(?P<word>below|under|less than|fewer than|above|over|more than|exceeds?|exceeded|"
    r"exceeding|greater than|threshold of)\s+(?:the\s+)?(?:safe\s+threshold\s+of\s+)?"
    r"(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<unit>%|[a-zA-Z]+)?",
    re.IGNORECASE,
)
_SIZE_UNITS = frozenset({"b", "kb", "mb", "gb", "tb", "pb", "kib", "mib", "gib", "tib"})
_SYMBOL_THRESHOLD = re.compile(r"(<=|>=|≤|≥|<|>)\s*\d")

_WORD_TO_SYMBOL = {
    "below": "<",
    "under": "<",
    "less than": "<",
    "fewer than": "<",
    "above": ">",
    "over": ">",
    "more than": ">",
    "exceed": ">",
    "exceeds": ">",
    "exceeded": ">",
    "exceeding": ">",
    "greater than": ">",
    "threshold of": ">",
}


@dataclass(frozen=True)
class Quantity:
    comparator: str | None
    value: float
    unit: str | None  # "ratio" for percentages, "s" for durations, else as written


def parse_duration(text: str | None) -> float | None:
    """Seconds in the first duration in `text` ("<5 min" → 300, "1-hour" → 3600, "5m" → 300).

    "real-time"/"immediate" → 0. None when no duration is stated.
    """
    if not text:
        return None
    stripped = text.strip().lower()
    if _PROM_DURATION.match(stripped):
        units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
        return float(sum(int(num) * units[unit] for num, unit in _PROM_PART.findall(stripped)))
    match = _DURATION.search(text)
    if match:
        return float(match.group("num")) * _UNIT_SECONDS[match.group("unit").lower()]
    if re.search(r"\b(real[- ]?time|immediate(ly)?|continuous)\b", stripped):
        return 0.0
    return None


def parse_quantity(text: str) -> Quantity | None:
    """The first comparison/number in `text`.

    "<100ms" → (<, 0.1, s); "99.9%" → (None, 0.999, ratio).
    """
    match = _QUANTITY.search(text)
    if not match:
        return None
    comparator = match.group("cmp")
    comparator = {"≤": "<=", "≥": ">="}.get(comparator or "", comparator)
    number = float(match.group("num").replace(",", ""))
    unit = match.group("unit")
    if unit == "%":
        return Quantity(comparator, round(number / 100.0, 10), "ratio")
    if unit and unit.lower() in _UNIT_SECONDS:
        return Quantity(comparator, number * _UNIT_SECONDS[unit.lower()], "s")
    return Quantity(comparator, number, unit)


def parse_quantile(text: str) -> float | None:
    """ "Latency (P95)" → 0.95, "p99.9" → 0.999."""
    match = _QUANTILE.search(text)
    if not match:
        return None
    digits = match.group("q")
    whole, _, fraction = digits.partition(".")
    return float(f"0.{whole}{fraction}")


def threshold_in(text: str) -> str | None:
    """The threshold a sentence states: the sentence itself when it has "> 95%"-style
    comparisons, "< 55" for "is below 55", None when it states none."""
    if not text:
        return None
    if _SYMBOL_THRESHOLD.search(text):
        return text.strip().rstrip(".")
    for match in _WORD_COMPARATOR.finditer(text):
        unit = match.group("unit") or ""
        before = text[: match.start()].rstrip().lower()
        if unit.lower() in _UNIT_SECONDS and before.endswith(("for", "since", "lasting")):
            continue  # "rebalancing for over 5 minutes" is how long, not a threshold
        symbol = _WORD_TO_SYMBOL[match.group("word").lower()]
        unit = match.group("unit") or ""
        unit = (
            unit
            if unit == "%" or (unit.lower() in _UNIT_SECONDS or unit.lower() in _SIZE_UNITS)
            else ""
        )
        return f"{symbol} {match.group('num')}{unit}"
    return None


_UNIT = (
    r"(?P<unit>milliseconds?|msec|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|hr|h|"
    r"days?|d|weeks?|w|минут[аы]?|мин|секунд[аы]?|сек|час(?:а|ов)?|minuten?|sekunden?|stunden?)"
)
_FOR = re.compile(
    r"\b(?:for|after|lasting|longer than|sustained(?: for)?|persists?(?: for)?|during|"
    r"länger als|für|pendant|durante|в течение|дольше|более)\s+"
    r"(?:at least\s+|more than\s+|over\s+|mindestens\s+|plus de\s+|más de\s+)?"
    r"(?P<num>\d+(?:\.\d+)?)\s*\+?\s*[-]?\s*" + _UNIT + r"(?!\w)",
    re.IGNORECASE,
)
_RESPONSE = re.compile(
    r"(?:respon\w*|acknowledge\w*|ack\w*|reagier\w*|répond\w*|responder|реагир\w*|"
    r"отреагир\w*)\s+(?:to\s+it\s+|to\s+the\s+page\s+)?(?:within|in|under|innerhalb|"
    r"von|dans|en|dentro de|в течение|за)\s+(?P<num>\d+(?:\.\d+)?)\s*[-]?\s*" + _UNIT + r"(?!\w)"
    r"|(?P<num2>\d+(?:\.\d+)?)\s*[-]?\s*" + _UNIT.replace("?P<unit>", "?P<unit2>") + r"\s+"
    r"(?:response|ack(?:nowledge(?:ment)?)?)\b",
    re.IGNORECASE,
)
_LOCAL_UNITS = {
    "мин": "m",
    "сек": "s",
    "час": "h",
    "minute": "m",
    "sekunde": "s",
    "stunde": "h",
}


def _seconds(num: str, unit: str) -> float | None:
    lowered = unit.lower()
    if lowered in _UNIT_SECONDS:
        return float(num) * _UNIT_SECONDS[lowered]
    for prefix, short in _LOCAL_UNITS.items():
        if lowered.startswith(prefix):
            return float(num) * _UNIT_SECONDS[short]
    return None


def prometheus_duration(seconds: float) -> str:
    """Seconds as Prometheus writes durations: 90 → "1m30s", 3600 → "1h"."""
    whole = round(seconds)
    if whole <= 0:
        return "0s"
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def for_in(text: str) -> tuple[str, float] | None:
    """How long a condition must hold, as prose says it ("fires after 1 minute",
    "for 15+ minutes", "for at least 10m") → ("1m", 60.0)."""
    if not text:
        return None
    match = _FOR.search(text)
    if not match:
        return None
    seconds = _seconds(match.group("num"), match.group("unit"))
    if seconds is None or seconds <= 0:
        return None
    return prometheus_duration(seconds), seconds


def response_in(text: str) -> str | None:
    """The response time prose gives ("respond within 15 minutes", "5-minute ack") as written."""
    if not text:
        return None
    match = _RESPONSE.search(text)
    if not match:
        return None
    if match.group("num") is not None:
        return f"{match.group('num')} {match.group('unit')}"
    return f"{match.group('num2')} {match.group('unit2')}"
