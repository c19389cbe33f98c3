"""Severities as teams write them, normalised to critical / warning / info.

Schemes seen in runbooks: words (critical, high, warning, minor, info …, also
in German, French, Spanish and Russian), numbered levels (S1–S4, SEV-1, P0–P5,
"Priority 2"), paging words (page, ticket) and coloured circles.

The rule: numbered levels 0–2 → critical, 3 → warning, 4–5 → info. P1/SEV1
(and SEV0/P0) are critical pages everywhere; P2/SEV2 is, in PagerDuty's,
Atlassian's and Google SRE's practice alike, a high-urgency major incident
that someone answers now, so it is critical too; P3 is worked in hours
(warning); P4/P5 are informational. Words follow the same line: high, major,
urgent, page → critical; medium, minor, ticket → warning; low → info. The
text as written is kept next to the normalised value (`Alert.severity_stated`).
"""

from __future__ import annotations

import re

__all__ = ["SEVERITIES", "normalise_severity", "stated_severity"]

SEVERITIES = ("critical", "warning", "info")

_NUMBERED = re.compile(
    r"(?<![\w-])(?:sev(?:erity)?|s|p|pri(?:ority)?|prio|level|lvl)[\s\-_.]?([0-5])(?!\d)",
    re.IGNORECASE,
)
_WORDS: tuple[tuple[str, str], ...] = (
    (
        "critical",
        r"critical|crit|fatal|emergency|emerg|disaster|blocker|urgent|page|paging|pager|"
        r"major|high|highest|kritisch|hoch|critique|[ée]lev[ée]e?|haute?|cr[ií]tic[oa]|alta|"
        r"критич\w*|авари\w*|высок\w*|срочн\w*",
    ),
    (
        "warning",
        r"warning|warn|minor|medium|moderate|average|ticket|error|warnung|mittel|"
        r"avertissement|moyenne?|advertencia|media|medio|предупрежд\w*|средн\w*",
    ),
    (
        "info",
        r"info|informational|information|notice|low|lowest|none|debug|niedrig|faible|"
        r"basse?|baja|bajo|информ\w*|низк\w*",
    ),
)
_WORD = re.compile(
    "|".join(f"(?P<{name}>(?<!\\w)(?:{pattern})(?!\\w))" for name, pattern in _WORDS),
    re.IGNORECASE,
)
_CIRCLES = {"🔴": "critical", "🟠": "critical", "🟡": "warning", "🔵": "info", "🟢": "info"}


def _numbered(level: int) -> str:
    if level <= 2:
        return "critical"
    return "warning" if level == 3 else "info"


def stated_severity(text: str | None) -> str | None:
    """The severity as a sentence writes it ("P2 - respond within 30 minutes" → "P2"),
    the earliest level or word that names one; None when the text names none."""
    if not text:
        return None
    found: list[tuple[int, str]] = []
    number = _NUMBERED.search(text)
    if number:
        found.append((number.start(), number.group(0)))
    word = _WORD.search(text)
    if word:
        found.append((word.start(), word.group(0)))
    if found:
        return min(found)[1].strip()
    return next((circle for circle in _CIRCLES if circle in text), None)


def normalise_severity(text: str | None) -> str | None:
    """critical / warning / info for a severity as written, None when it names none.

    The earliest severity word or level in the text decides ("P1 – critical" and
    "Critical (15-minute response)" are critical).
    """
    if not text:
        return None
    found: list[tuple[int, str]] = []
    number = _NUMBERED.search(text)
    if number:
        found.append((number.start(), _numbered(int(number.group(1)))))
    word = _WORD.search(text)
    if word and word.lastgroup:
        found.append((word.start(), word.lastgroup))
    if found:
        return min(found)[1]
    for circle, severity in _CIRCLES.items():
        if circle in text:
            return severity
    return None
