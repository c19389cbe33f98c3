"""`--dry-run`: what a run would do, from the checks alone. Nothing is started,
injected or changed: the faults with what each touches and what reverts it, and the
route each expected alert takes through the target's Alertmanager."""

from __future__ import annotations

from gameday.engine.preflight import as_run
from gameday.engine.runner import Checked
from gameday.experiment import Experiment
from gameday.targets import Target


def describe_target(target: Target | None) -> list[str]:
    if target is None or target.is_lab:
        return ["target: the gameday lab"]
    lines = [
        f"target: {target.name} ({target.kind}, {target.source})",
        f"  prometheus    {target.prometheus_url}",
        f"  alertmanager  {target.alertmanager_url or '(none: routing and delivery unchecked)'}",
        f"  load host     {target.load_host or '(none)'}",
        f"  allow         {', '.join(target.allow)}",
    ]
    if target.sink_url:
        lines.append(f"  sink          {target.sink_url}")
    return lines


def describe_run(experiment: Experiment, checked: Checked) -> list[str]:
    """The plan of one experiment, as lines for the terminal."""
    lines = [f"experiment: {experiment.title} ({experiment.path})"]
    remediation = set(experiment.remediation_names())
    faults = [as_run(a, checked.configuration, checked.secrets) for a in experiment.faults()]
    if not faults:
        lines.append("  faults: none")
    for action in faults:
        role = "remediation" if action.name in remediation else "fault"
        lines.append(f"  {role}: {action.name}  touches {action.touches}")
        if action.is_gameday and role == "fault":
            lines.append("    reverted by: gameday's fault ledger (recorded before it is applied)")
    rollbacks = [
        as_run(a, checked.configuration, checked.secrets)
        for a in experiment.rollbacks
        if a.type == "action"
    ]
    for action in rollbacks:
        lines.append(f"  rollback: {action.name}  touches {action.touches}")
    if faults and not rollbacks and not all(a.is_gameday for a in faults):
        lines.append("  WARNING: no rollbacks: nothing reverts the plain faults above")
    for expectation in experiment.expectations():
        lines.append(f"  expects: {expectation.alert} {expectation.describe()}")
    shown: set[tuple[str, str]] = set()
    for check in checked.routes:
        if (check.receiver, check.describe()) in shown:
            continue  # a routed and a delivered probe of the same alert and receiver
        shown.add((check.receiver, check.describe()))
        verdict = "ok" if check.reachable else ("UNREACHABLE" if check.labels_known else "?")
        note = "" if check.labels_known else " (no rule found: labels unknown)"
        lines.append(f"  route [{verdict}]: {check.alert} {check.describe()}{note}")
    if checked.target is None:
        lines.append("  routes: not checked on the lab (its routes are gameday's own)")
    return lines
