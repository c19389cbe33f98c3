"""Verdicts the journal holds that no gameday probe recorded: failed steady-state probes,
failed user probes and remediation (exit 1), and failed faults (errors, exit 3)."""

from __future__ import annotations

from typing import Any

from gameday.model import Expectation


def journal_expectations(
    journal: dict[str, Any], judged: set[str]
) -> tuple[list[Expectation], list[str]]:
    """Failed activities that did not judge themselves (`judged`: the activities that
    recorded an expectation): user probes fail the run (exit 1); failed remediation
    fails it; a failed fault is an error (exit 3)."""
    remediation = set()
    for extension in journal.get("experiment", {}).get("extensions") or []:
        if isinstance(extension, dict) and extension.get("name") == "gameday":
            remediation = set(extension.get("remediation") or [])
    expectations: list[Expectation] = []
    errors: list[str] = []
    for when, label in (("before", "before the fault"), ("after", "after the method")):
        hypothesis = (journal.get("steady_states") or {}).get(when) or {}
        for run in hypothesis.get("probes") or []:
            activity = run.get("activity", {})
            if run.get("tolerance_met", True) or activity.get("name") in judged:
                continue
            expectations.append(
                Expectation(
                    name=f"steady state {label}: {activity.get('name')}",
                    kind="steady_state",
                    alert=None,
                    receiver=None,
                    passed=False,
                    measured_s=None,
                    budget_s=None,
                    message=f"{activity.get('name')} was not within its tolerance ({label})",
                    activity=str(activity.get("name")),
                )
            )
    for run in journal.get("run") or []:
        activity = run.get("activity", {})
        if run.get("status") != "failed" or activity.get("name") in judged:
            continue
        reason = "".join(run.get("exception") or []).strip().splitlines()[-1:] or ["failed"]
        name = str(activity.get("name"))
        if activity.get("name") in remediation or activity.get("type") == "probe":
            expectations.append(
                Expectation(
                    name=f"{name} succeeds",
                    kind="remediation" if activity.get("name") in remediation else "probe",
                    alert=None,
                    receiver=None,
                    passed=False,
                    measured_s=None,
                    budget_s=None,
                    message=f"{name} failed: {reason[0]}",
                    activity=name,
                )
            )
        else:
            errors.append(f"action {name!r} failed: {reason[0]}")
    return expectations, errors
