"""The stand-in for a remediation action when people remediate (`gameday run --manual`)."""

from __future__ import annotations

from typing import Any

from chaoslib.types import Configuration, Secrets

from gameday.context import run_context

__all__ = ["await_people"]


def await_people(
    instructions: str,
    timeout_s: float = 600,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Hand the remediation to people: record and announce what they must do.

    The probes that follow (SLO restored) wait up to `timeout_s` seconds for the
    result of their work and measure it.
    """
    run_context(configuration).record(
        "remediation_started",
        f"waiting for people to remediate: {instructions} (up to {timeout_s:g}s)",
        manual=True,
    )
    return {"instructions": instructions, "timeout_s": timeout_s}
