"""The quiet baseline: before the fault, none of the alerts an experiment checks may be
active, or the fault could be credited with an alert it did not cause. gameday adds the
check to the steady state of every run (the experiment can opt out with
`quiet_baseline: false` in its gameday extension)."""

from __future__ import annotations

from typing import Any

from gameday.experiment.document import Experiment
from gameday.experiment.extension import QUIET_PROBE

QUIET_PROBE_NAME = "quiet baseline: the experiment's alerts are not active before the fault"


def with_quiet_baseline(experiment: Experiment, document: dict[str, Any]) -> dict[str, Any]:
    """`document` (a copy of the experiment's, adapted for the run) with the quiet-baseline
    probe first in its steady-state hypothesis; unchanged when the experiment opts out or
    checks no alert."""
    alerts = experiment.alert_names()
    if not experiment.quiet_baseline or not alerts:
        return document
    module, func = QUIET_PROBE
    probe = {
        "type": "probe",
        "name": QUIET_PROBE_NAME,
        "tolerance": True,
        "provider": {
            "type": "python",
            "module": module,
            "func": func,
            "arguments": {"alerts": alerts, "wait_s": experiment.quiet_wait_s},
        },
    }
    hypothesis = document.get("steady-state-hypothesis")
    if not isinstance(hypothesis, dict):
        hypothesis = document["steady-state-hypothesis"] = {"title": "quiet baseline"}
    hypothesis["probes"] = [probe, *(hypothesis.get("probes") or [])]
    return document
