"""What an alert name looks like, and how names written differently are matched.

Alert names are identifiers (CamelCase `KubePodCrashLooping`, UPPER_SNAKE
`DISK_FULL`, snake `disk_full`, dotted `db.replication.lag`) or, in places
that can only hold an alert name (an Alert column, an `**Alert:**` label), short
phrases ("Camera Offline"). Letters of any script count (`ДискЗаполнен`).
"""

from __future__ import annotations

import itertools
import re
import unicodedata

__all__ = [
    "clean_name",
    "is_identifier",
    "loose_key",
    "plausible_name",
]

_FILE_SUFFIX = re.compile(
    r"\.(md|markdown|ya?ml|json|sh|py|go|js|ts|html?|txt|conf|cfg|ini|log|toml|sql|tf|j2|csv)$",
    re.IGNORECASE,
)
_METRIC_SUFFIX = re.compile(
    r"_(total|seconds|bytes|count|sum|bucket|ratio|info|milliseconds|percent|created)$"
)
_TOKEN = re.compile(r"^[^\W\d][\w.:\-]*$")
_NOT_NAMES = frozenset(
    {
        "n/a",
        "na",
        "none",
        "tbd",
        "todo",
        "-",
        "—",
        "yes",
        "no",
        "true",
        "false",
        "alert",
        "alerts",
        "name",
    }
)


def _letters(text: str) -> list[str]:
    return [char for char in text if unicodedata.category(char).startswith("L")]


def is_identifier(name: str) -> bool:
    """A name shaped like an identifier, not like a word: CamelCase (two humps or an
    acronym then a word), UPPER_SNAKE, snake_case or dotted; file names, paths and
    metric names (`…_total`, `…_seconds`) are not."""
    if not name or len(name) > 100 or not _TOKEN.match(name) or "://" in name:
        return False
    if _FILE_SUFFIX.search(name):
        return False
    if "_" in name:
        parts = [part for part in re.split(r"[_.:]", name) if part]
        return len(parts) >= 2 and not _METRIC_SUFFIX.search(name)
    if "." in name:
        parts = name.split(".")
        return len(parts) >= 2 and all(part and _TOKEN.match(part) for part in parts)
    if "-" in name or ":" in name:
        return False
    # CamelCase: a lower→upper step, or an acronym followed by a word ("GPUOOMRisk")
    for before, after in itertools.pairwise(name):
        if before.islower() and after.isupper():
            return True
    return bool(re.search(r"[^\W\d_a-z]{2,}[^\W\d_A-Z]", name)) and any(
        char.isupper() for char in name[1:]
    )


def loose_key(name: str) -> str:
    """Case, spacing and punctuation dropped: "Kube Pod Crash-Looping" → "kubepodcrashlooping"."""
    return "".join(char for char in name.lower() if char.isalnum())


_PREFIX = re.compile(
    r"^(?:alert(?:\s*name)?|alarm|alerte|alerta|алерт|runbook|playbook)\s*[:\-–—]\s*",
    re.IGNORECASE,
)
_SUFFIX = re.compile(r"\s+(?:alert|alarm|is firing|firing|fires|fired)$", re.IGNORECASE)


def clean_name(text: str) -> str:
    """A name as written in a cell or label, without quotes, "Alert:" and a trailing "alert".

    "`HighErrorRate` (metering)" → "HighErrorRate"; "Alert: Camera Offline" → "Camera Offline".
    """
    name = " ".join(text.split()).strip()
    name = _PREFIX.sub("", name)
    name = name.strip("`*_\"'“”‘’[]<> ").rstrip(".:;,")
    name = _SUFFIX.sub("", name).strip("`*_\"' ")
    head = re.match(r"^([^\s(]+)\s*\(.*\)$", name)
    if head and is_identifier(head.group(1).strip("`")):
        name = head.group(1).strip("`")
    return name


def plausible_name(name: str) -> bool:
    """A name that can stand in an alert-name position: an identifier, or a short phrase
    without sentence punctuation, numbers with comparisons or a URL."""
    if not name or name.lower() in _NOT_NAMES or len(name) > 80:
        return False
    if is_identifier(name):
        return True
    if "://" in name or _FILE_SUFFIX.search(name):
        return False
    words = name.split()
    if not 1 <= len(words) <= 8 or not _letters(name):
        return False
    if re.search(r"[<>=≤≥]|[.!?;]\s|[.!?;]$", name):
        return False
    return bool(name[0].isupper() or name[0].isdigit() or not name[0].isalpha())
