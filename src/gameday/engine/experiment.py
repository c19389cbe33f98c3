"""Loading and checking a Chaos Toolkit experiment before anything is injected."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaoslib.exceptions import ChaosException
from chaoslib.experiment import ensure_experiment_is_valid

from gameday.documents import read_yaml
from gameday.errors import InvalidInputError

REMEDIATION_MODULE = "gameday.chaos.remediation.probes"
SLO_MODULE = "gameday.chaos.slo.probes"
LOAD_MODULE = "gameday.chaos.load.control"
DEFAULT_LOCUSTFILE = "loadtests/lab_api.py"
DEFAULT_MANUAL_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class LoadedExperiment:
    path: Path
    document: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.document.get("title", self.path.stem))

    def gameday_extension(self) -> dict[str, Any]:
        for extension in self.document.get("extensions") or []:
            if isinstance(extension, dict) and extension.get("name") == "gameday":
                return extension
        return {}

    def remediation_names(self) -> list[str]:
        names = self.gameday_extension().get("remediation") or []
        return [str(name) for name in names]


def load_experiment(path: Path) -> LoadedExperiment:
    """Parse and validate an experiment with chaoslib's own rules plus gameday's."""
    document = read_yaml(path)
    if not isinstance(document, dict) or "method" not in document:
        raise InvalidInputError(
            "not a Chaos Toolkit experiment (no 'method')",
            source=str(path),
            hint="an experiment has title, description, steady-state-hypothesis, method, rollbacks",
        )
    return checked(path, document)


def checked(path: Path, document: dict[str, Any]) -> LoadedExperiment:
    """The experiment document, checked by chaoslib's rules and gameday's."""
    try:
        ensure_experiment_is_valid(copy.deepcopy(document))
    except ChaosException as exc:
        raise InvalidInputError(
            f"invalid experiment: {exc}",
            source=str(path),
            where=_locate(document, str(exc)),
            hint="see the Chaos Toolkit experiment format; `gameday validate` re-checks",
        ) from None
    loaded = LoadedExperiment(path=path.resolve(), document=document)
    _check_remediation(loaded)
    _check_load(loaded)
    return loaded


def _check_load(experiment: LoadedExperiment) -> None:
    from gameday.chaos.load.control import find_locustfile

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


def _check_remediation(experiment: LoadedExperiment) -> None:
    names = {a.get("name") for a in experiment.document.get("method") or [] if isinstance(a, dict)}
    for index, name in enumerate(experiment.remediation_names()):
        if name not in names:
            raise InvalidInputError(
                f"remediation {name!r} is not an activity of the method",
                source=str(experiment.path),
                where=f"extensions[gameday].remediation[{index}]",
                hint="name the method's remediation action exactly as in its 'name'",
            )


def for_manual_remediation(
    experiment: LoadedExperiment, timeout_s: float = DEFAULT_MANUAL_TIMEOUT_S
) -> dict[str, Any]:
    """The experiment with its remediation actions left to people.

    Each remediation action becomes a probe that announces what people must do;
    the SLO-restored probes after it wait up to `timeout_s` for them to do it.
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
        if provider.get("module") == SLO_MODULE and provider.get("func") == "slo_restored":
            arguments = provider.setdefault("arguments", {})
            arguments["within_s"] = max(float(arguments.get("within_s", 0)), timeout_s)
        method.append(activity)
    document["method"] = method
    return document
