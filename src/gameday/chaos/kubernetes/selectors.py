"""Label selectors as a NetworkPolicy's podSelector needs them."""

from __future__ import annotations

import re

from chaoslib.exceptions import ActivityFailed

TERM = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*==?\s*([A-Za-z0-9._-]*)\s*$")


def equality_labels(label_selector: str) -> dict[str, str]:
    """`app=gateway,tier=web` as matchLabels; set-based terms (`in`, `!=`, `!key`) are
    refused with the reason, since the policy must select exactly what was asked."""
    labels: dict[str, str] = {}
    for term in label_selector.split(","):
        if not term.strip():
            continue
        match = TERM.match(term)
        if match is None:
            raise ActivityFailed(
                f"label selector term {term.strip()!r} is not key=value: a partition "
                "selects pods by equality terms only (e.g. app=redis,tier=cache)"
            )
        labels[match.group(1)] = match.group(2)
    if not labels:
        raise ActivityFailed("a partition needs a label selector (e.g. app=redis)")
    return labels
