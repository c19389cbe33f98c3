"""An experiment with its remediation left to people (`gameday run --manual`)."""

from __future__ import annotations

import copy
from typing import Any

from gameday.errors import InvalidInputError
from gameday.experiment.document import Experiment
from gameday.experiment.extension import REMEDIATION_MODULE, RESTORATION_PROBES

DEFAULT_MANUAL_TIMEOUT_S = 600.0


def for_manual_remediation(
    experiment: Experiment, timeout_s: float = DEFAULT_MANUAL_TIMEOUT_S
) -> dict[str, Any]:
    """The experiment with its remediation actions left to people.

    Each remediation action becomes a probe that announces what people must do;
    the restoration probes after it (SLO, PromQL) wait up to `timeout_s` seconds
    from the fault for them to do it.
    """
    document = copy.deepcopy(experiment.document)
    remediation = set(experiment.remediation_names())
    if not remediation:
        raise InvalidInputError(
            "--manual needs the experiment to name its remediation",
            source=str(experiment.path),
            where="extensions",
            hint="add: extensions: [{name: gameday, remediation: [<action name>]}]",
        )
    method: list[dict[str, Any]] = []
    for activity in document["method"]:
        if activity.get("name") in remediation:
            method.append(
                {
                    "type": "probe",
                    "name": f"people remediate: {activity['name']}",
                    "provider": {
                        "type": "python",
                        "module": REMEDIATION_MODULE,
                        "func": "await_people",
                        "arguments": {
                            "instructions": activity.get("description") or activity["name"],
                            "timeout_s": timeout_s,
                        },
                    },
                }
            )
            continue
        provider = activity.get("provider") or {}
        if (provider.get("module"), provider.get("func")) in RESTORATION_PROBES:
            arguments = provider.setdefault("arguments", {})
            arguments["within_s"] = max(float(arguments.get("within_s", 0)), timeout_s)
        method.append(activity)
    document["method"] = method
    return document
