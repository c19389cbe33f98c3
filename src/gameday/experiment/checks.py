"""What a run needs on top of reading: chaoslib's own validation of the experiment
(which imports each activity's module and checks its arguments) and the load's
locustfile. InvalidInputError (exit 2) before anything is injected."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from chaoslib.exceptions import ChaosException
from chaoslib.experiment import ensure_experiment_is_valid

from gameday.errors import InvalidInputError
from gameday.experiment.document import Experiment
from gameday.experiment.extension import LOAD_MODULE
from gameday.load.locustfile import DEFAULT_LOCUSTFILE, find_locustfile


def check_experiment(experiment: Experiment) -> Experiment:
    """The experiment, checked by chaoslib's rules and gameday's run-time ones."""
    document = experiment.document
    try:
        ensure_experiment_is_valid(copy.deepcopy(document))
    except ChaosException as exc:
        raise InvalidInputError(
            f"invalid experiment: {exc}",
            source=str(experiment.path),
            where=_locate(document, str(exc)),
            hint="see the Chaos Toolkit experiment format; `gameday validate` re-checks",
        ) from None
    _check_load(experiment)
    return experiment


def _check_load(experiment: Experiment) -> None:
    for index, control in enumerate(experiment.document.get("controls") or []):
        provider = (control.get("provider") or {}) if isinstance(control, dict) else {}
        if provider.get("module") != LOAD_MODULE:
            continue
        locustfile = (provider.get("arguments") or {}).get("locustfile", DEFAULT_LOCUSTFILE)
        try:
            find_locustfile(str(locustfile), experiment.path.parent)
        except InvalidInputError as exc:
            raise InvalidInputError(
                exc.message,
                source=str(experiment.path),
                where=f"controls[{index}].provider.arguments.locustfile",
                hint=exc.hint,
            ) from None


def _activities(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    probes = (document.get("steady-state-hypothesis") or {}).get("probes") or []
    places = [("steady-state-hypothesis.probes", probes)]
    places += [(section, document.get(section) or []) for section in ("method", "rollbacks")]
    for section, activities in places:
        for index, activity in enumerate(activities):
            if isinstance(activity, dict):
                yield f"{section}[{index}] ({activity.get('name')})", activity


def _locate(document: dict[str, Any], message: str) -> str | None:
    """The activity a chaoslib message is about: by its name, or by the bad argument
    and function it names (chaoslib names the function, not the activity)."""
    argument = re.search(r"argument '([^']+)'", message)
    for place, activity in _activities(document):
        provider = activity.get("provider") or {}
        if f"'{activity.get('name')}'" in message:
            return place
        names_func = f"'{provider.get('func')}'" in message
        if argument and names_func and argument.group(1) in (provider.get("arguments") or {}):
            return place
    for place, activity in _activities(document):
        if f"'{(activity.get('provider') or {}).get('func')}'" in message:
            return place
    return None
