"""Simulated parts a run touched: every report must say so (DESIGN, principle 1).

The check is generic: any mention of "simulated" in the run's timeline,
expectations or series names (a `backend="simulated"` label, a simulated GPU
fault) makes the report carry a visible note.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from gameday.model import RunResult

__all__ = ["SimulatedPart", "simulated_part"]

_WORD = "simulated"


@dataclass(frozen=True)
class SimulatedPart:
    """What the note says: a headline ("simulated GPU") and the evidence that triggered it."""

    headline: str
    evidence: list[str]


def _mentions(value: object) -> bool:
    return _WORD in json.dumps(value, default=str).lower()


def simulated_part(result: RunResult) -> SimulatedPart | None:
    """The simulated part this run used, or None when nothing in it says "simulated"."""
    evidence: list[str] = []
    for event in result["timeline"]:
        if _mentions(event):
            evidence.append(f"+{event['elapsed_s']:.1f}s {event['kind']}: {event['detail']}")
    for expectation in result["expectations"]:
        if _mentions(expectation):
            evidence.append(f"expectation: {expectation['name']}")
    evidence.extend(f"series: {name}" for name in result["series"] if _WORD in name.lower())
    if not evidence and not _mentions(result["experiment"]):
        return None
    if not evidence:
        evidence.append(f"experiment: {result['experiment']['title']}")
    mentions_gpu = "gpu" in json.dumps(result["timeline"], default=str).lower() or any(
        "gpu" in line.lower() for line in evidence
    )
    headline = "simulated GPU" if mentions_gpu else "simulated part"
    return SimulatedPart(headline, evidence[:8])
