"""What a run needs on top of reading: chaoslib's own validation of the experiment
(which imports each activity's module and checks its arguments) and the load's
locustfile and workers (how many, and where: `workers_in`, `master_host`, `worker_image`).
InvalidInputError (exit 2) before anything is injected."""

from __future__ import annotations

import copy
import importlib
import re
from collections.abc import Iterator
from typing import Any

from chaoslib.exceptions import ChaosException
from chaoslib.experiment import ensure_experiment_is_valid

from gameday.errors import InvalidInputError
from gameday.experiment.document import Experiment, as_mapping
from gameday.experiment.extension import LOAD_MODULE
from gameday.load.locust_workers import parse_workers
from gameday.load.locustfile import DEFAULT_LOCUSTFILE, find_locustfile
from gameday.load.placement import parse_placement


def check_experiment(experiment: Experiment) -> Experiment:
    """The experiment, checked by chaoslib's rules and gameday's run-time ones."""
    document = experiment.document
    _check_shapes(experiment)
    try:
        ensure_experiment_is_valid(copy.deepcopy(document))
    except ChaosException as exc:
        raise InvalidInputError(
            f"invalid experiment: {exc}",
            source=str(experiment.path),
            where=_locate(document, str(exc)),
            hint="see the Chaos Toolkit experiment format; `gameday validate` re-checks",
        ) from None
    except Exception as exc:  # chaoslib trusts shapes it does not check: never a traceback
        raise InvalidInputError(
            f"invalid experiment ({type(exc).__name__}: {exc})",
            source=str(experiment.path),
            hint="see the Chaos Toolkit experiment format; `gameday validate` re-checks",
        ) from None
    _check_load(experiment)
    _check_arguments(experiment)
    return experiment


def _check_arguments(experiment: Experiment) -> None:
    """An activity's module may name checks of its arguments' values (not only their
    names, which chaoslib checks): `ARGUMENT_CHECKS = {"fill_disk": check_fill}`, each
    raising ValueError with what is wrong and how to fix it. Values given as `${...}`
    substitutions are checked at run time instead."""
    for place, activity in _activities(experiment.document):
        provider = as_mapping(activity.get("provider"))
        module, func = provider.get("module"), provider.get("func")
        if provider.get("type") != "python" or not isinstance(module, str):
            continue
        try:
            checks = getattr(importlib.import_module(module), "ARGUMENT_CHECKS", {})
        except ImportError:
            continue  # chaoslib's validation has named a module that does not import
        check = checks.get(func) if isinstance(checks, dict) else None
        arguments = as_mapping(provider.get("arguments"))
        if check is None or any(
            isinstance(value, str) and "${" in value for value in arguments.values()
        ):
            continue
        try:
            check(arguments)
        except ValueError as exc:
            raise InvalidInputError(
                f"{func}: {exc}",
                source=str(experiment.path),
                where=f"{place}.provider.arguments",
                hint="fix the argument's value; `gameday validate` re-checks",
            ) from None


SECTIONS: dict[str, type] = {
    "title": str,
    "description": str,
    "configuration": dict,
    "secrets": dict,
    "steady-state-hypothesis": dict,
    "method": list,
    "rollbacks": list,
    "controls": list,
    "extensions": list,
    "tags": list,
}
TYPE_NAMES: dict[type, str] = {str: "text", dict: "a mapping", list: "a list"}


def _check_shapes(experiment: Experiment) -> None:
    """The top-level sections have the types Chaos Toolkit expects, and so does every
    configuration and secrets entry: chaoslib assumes them."""
    source = str(experiment.path)
    document = experiment.document
    for key, expected in SECTIONS.items():
        if key in document and not isinstance(document[key], expected):
            raise InvalidInputError(
                f"{key!r} must be {TYPE_NAMES[expected]}, not {type(document[key]).__name__}",
                source=source,
                where=key,
            )
    for key, value in (document.get("secrets") or {}).items():
        if not isinstance(value, dict):
            raise InvalidInputError(
                "a secrets scope must be a mapping of names to values",
                source=source,
                where=f"secrets.{key}",
            )
    for section in ("controls", "extensions"):
        for index, item in enumerate(document.get(section) or []):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise InvalidInputError(
                    f"each of {section} must be a mapping with a 'name'",
                    source=source,
                    where=f"{section}[{index}]",
                )


def _check_load(experiment: Experiment) -> None:
    for index, control in enumerate(experiment.document.get("controls") or []):
        provider = as_mapping(as_mapping(control).get("provider"))
        if provider.get("module") != LOAD_MODULE:
            continue
        arguments = as_mapping(provider.get("arguments"))
        where = f"controls[{index}].provider.arguments"
        locustfile = arguments.get("locustfile", DEFAULT_LOCUSTFILE)
        try:
            find_locustfile(str(locustfile), experiment.path.parent)
            parse_placement(
                workers=parse_workers(arguments.get("workers", 0)),
                workers_in=arguments.get("workers_in", "local"),
                master_host=arguments.get("master_host"),
                worker_image=arguments.get("worker_image"),
            )
        except InvalidInputError as exc:
            # Re-placed in this file: the control's own place named the argument only.
            argument = (exc.where or "").rsplit(".", 1)[-1]
            raise InvalidInputError(
                exc.message.removeprefix(f"{exc.where}: "),
                source=str(experiment.path),
                where=f"{where}.{argument}",
                hint=exc.hint,
            ) from None


def _activities(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    probes = as_mapping(document.get("steady-state-hypothesis")).get("probes") or []
    places = [("steady-state-hypothesis.probes", probes)]
    places += [(section, document.get(section) or []) for section in ("method", "rollbacks")]
    for section, activities in places:
        for index, activity in enumerate(activities if isinstance(activities, list) else []):
            if isinstance(activity, dict):
                yield f"{section}[{index}] ({activity.get('name')})", activity


def _locate(document: dict[str, Any], message: str) -> str | None:
    """The activity a chaoslib message is about: by its name, or by the bad argument
    and function it names (chaoslib names the function, not the activity)."""
    argument = re.search(r"argument '([^']+)'", message)
    for place, activity in _activities(document):
        provider = as_mapping(activity.get("provider"))
        if f"'{activity.get('name')}'" in message:
            return place
        names_func = f"'{provider.get('func')}'" in message
        if argument and names_func and argument.group(1) in as_mapping(provider.get("arguments")):
            return place
    for place, activity in _activities(document):
        if f"'{as_mapping(activity.get('provider')).get('func')}'" in message:
            return place
    return None
