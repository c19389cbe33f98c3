"""What coverage and tabletop read from Chaos Toolkit experiments and game-day plans.

An experiment is a YAML (or JSON) file with `method:`; a plan has `experiments:`.
gameday's alert expectations are probes whose provider module starts with
`gameday.chaos` and whose arguments name an `alert`: func `alert_fires`
(positive), any func containing `not` (negative, e.g. `alert_does_not_fire`),
`notification_delivered` (positive, with a `receiver`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.documents import read_yaml
from gameday.errors import InvalidInputError

__all__ = [
    "Activity",
    "AlertExpectation",
    "Experiment",
    "Plan",
    "find_experiments",
    "is_negative_func",
    "load_experiment",
    "load_plan",
    "load_scenarios",
]

_EXPERIMENT_HINT = (
    "an experiment is Chaos Toolkit YAML with 'title' and a 'method:' list of "
    "activities; a plan has an 'experiments:' list of paths"
)


@dataclass(frozen=True)
class Activity:
    """One Chaos Toolkit activity (action or probe)."""

    type: str
    name: str
    provider_type: str = "python"
    module: str = ""
    func: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    pause_before: float = 0.0
    pause_after: float = 0.0

    @property
    def is_gameday(self) -> bool:
        return self.module.startswith("gameday.chaos")

    @property
    def alert(self) -> str | None:
        value = self.arguments.get("alert")
        return str(value) if value is not None and self.is_gameday else None

    def describe(self) -> str:
        """ "stop_service(service=redis)" or the provider's target for non-Python providers."""
        if self.func:
            args = ", ".join(f"{key}={value}" for key, value in self.arguments.items())
            return f"{self.func}({args})"
        return self.provider_type


@dataclass(frozen=True)
class AlertExpectation:
    """An experiment's expectation about an alert."""

    alert: str
    kind: str  # "fires", "does_not_fire" or "delivered"
    activity: str
    phase: str  # "steady-state", "method" or "rollbacks"
    receiver: str | None = None

    @property
    def positive(self) -> bool:
        return self.kind != "does_not_fire"

    def describe(self) -> str:
        if self.kind == "delivered":
            return f"delivered to {self.receiver}" if self.receiver else "delivered"
        return "must not fire" if self.kind == "does_not_fire" else "fires"


def is_negative_func(func: str) -> bool:
    """`alert_does_not_fire`, `alert_not_firing`, `alertNotFiring`: the func says "not"
    (as a word, so `notification_delivered` stays positive)."""
    words = re.split(r"[_\W]+|(?<=[a-z])(?=[A-Z])", func)
    return any(word.lower() == "not" for word in words)


@dataclass(frozen=True)
class Experiment:
    path: Path
    title: str
    description: str = ""
    tags: tuple[str, ...] = ()
    steady_state: tuple[Activity, ...] = ()
    method: tuple[Activity, ...] = ()
    rollbacks: tuple[Activity, ...] = ()
    overrides: dict[str, Any] = field(default_factory=dict)

    def expectations(self) -> list[AlertExpectation]:
        found: list[AlertExpectation] = []
        for phase, activities in (
            ("steady-state", self.steady_state),
            ("method", self.method),
            ("rollbacks", self.rollbacks),
        ):
            for activity in activities:
                alert = activity.alert
                if alert is None:
                    continue
                if activity.func == "notification_delivered":
                    kind = "delivered"
                elif is_negative_func(activity.func):
                    kind = "does_not_fire"
                else:
                    kind = "fires"
                receiver = activity.arguments.get("receiver")
                found.append(
                    AlertExpectation(
                        alert=alert,
                        kind=kind,
                        activity=activity.name,
                        phase=phase,
                        receiver=str(receiver) if receiver is not None else None,
                    )
                )
        return found

    def faults(self) -> list[Activity]:
        return [activity for activity in self.method if activity.type == "action"]


@dataclass(frozen=True)
class Plan:
    """A game day: experiments run in order against one target, with one runbook."""

    path: Path
    name: str
    description: str = ""
    runbook: Path | None = None
    experiments: tuple[Experiment, ...] = ()


def _mapping(value: object) -> dict[str, Any]:
    return {str(key): item for key, item in value.items()} if isinstance(value, dict) else {}


def _seconds(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def _activities(raw: object, source: str, where: str) -> tuple[Activity, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidInputError(
            f"'{where}' is not a list", source=source, where=where, hint=_EXPERIMENT_HINT
        )
    named: dict[str, Activity] = {}
    out: list[Activity] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidInputError(
                "an activity is not a mapping",
                source=source,
                where=f"{where}[{index}]",
                hint=_EXPERIMENT_HINT,
            )
        if "ref" in item and str(item["ref"]) in named:
            out.append(named[str(item["ref"])])
            continue
        provider = _mapping(item.get("provider"))
        arguments = _mapping(provider.get("arguments"))
        pauses = _mapping(item.get("pauses"))
        activity = Activity(
            type=str(item.get("type") or "action"),
            name=str(item.get("name") or f"{where}[{index}]"),
            provider_type=str(provider.get("type") or ""),
            module=str(provider.get("module") or ""),
            func=str(provider.get("func") or ""),
            arguments=arguments,
            pause_before=_seconds(pauses.get("before")),
            pause_after=_seconds(pauses.get("after")),
        )
        named[activity.name] = activity
        out.append(activity)
    return tuple(out)


def _experiment(
    data: dict[str, Any], path: Path, overrides: dict[str, Any] | None = None
) -> Experiment:
    source = str(path)
    steady = data.get("steady-state-hypothesis")
    probes = steady.get("probes") if isinstance(steady, dict) else None
    tags = data.get("tags")
    return Experiment(
        path=path,
        title=str(data.get("title") or path.stem),
        description=str(data.get("description") or ""),
        tags=tuple(str(tag) for tag in tags) if isinstance(tags, list) else (),
        steady_state=_activities(probes, source, "steady-state-hypothesis.probes"),
        method=_activities(data.get("method"), source, "method"),
        rollbacks=_activities(data.get("rollbacks"), source, "rollbacks"),
        overrides=dict(overrides or {}),
    )


def load_experiment(path: str | Path, overrides: dict[str, Any] | None = None) -> Experiment:
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict) or "method" not in data:
        raise InvalidInputError(
            "not a Chaos Toolkit experiment (no 'method:')", source=str(path), hint=_EXPERIMENT_HINT
        )
    return _experiment(data, path, overrides)


def _plan(data: dict[str, Any], path: Path) -> Plan:
    source = str(path)
    entries = data.get("experiments")
    if not isinstance(entries, list) or not entries:
        raise InvalidInputError(
            "'experiments' must be a non-empty list",
            source=source,
            where="experiments",
            hint=_EXPERIMENT_HINT,
        )
    experiments: list[Experiment] = []
    for index, entry in enumerate(entries):
        where = f"experiments[{index}]"
        overrides: dict[str, Any] = {}
        if isinstance(entry, str):
            relative = entry
        elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
            relative = entry["path"]
            if isinstance(entry.get("overrides"), dict):
                overrides = entry["overrides"]
        else:
            raise InvalidInputError(
                "an entry is neither a path nor {path, overrides}",
                source=source,
                where=where,
                hint=_EXPERIMENT_HINT,
            )
        target = (path.parent / relative).resolve()
        if not target.is_file():
            raise InvalidInputError(
                f"experiment '{relative}' not found (looked in {target})",
                source=source,
                where=where,
                hint="paths in a plan are relative to the plan file",
            )
        experiments.append(load_experiment(target, overrides))
    runbook = data.get("runbook")
    return Plan(
        path=path,
        name=str(data.get("name") or path.stem),
        description=str(data.get("description") or ""),
        runbook=(path.parent / runbook).resolve() if isinstance(runbook, str) and runbook else None,
        experiments=tuple(experiments),
    )


def load_plan(path: str | Path) -> Plan:
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict) or "experiments" not in data:
        raise InvalidInputError(
            "not a game-day plan (no 'experiments:')", source=str(path), hint=_EXPERIMENT_HINT
        )
    return _plan(data, path)


def load_scenarios(path: str | Path) -> Plan:
    """A plan, or a single experiment as a one-experiment plan (a file with `method:`)."""
    path = Path(path)
    data = read_yaml(path)
    if isinstance(data, dict) and "experiments" in data:
        return _plan(data, path)
    if isinstance(data, dict) and "method" in data:
        experiment = _experiment(data, path)
        return Plan(
            path=path,
            name=experiment.title,
            description=experiment.description,
            experiments=(experiment,),
        )
    raise InvalidInputError(
        "neither a plan ('experiments:') nor an experiment ('method:')",
        source=str(path),
        hint=_EXPERIMENT_HINT,
    )


def _yaml_files(directory: Path) -> Iterator[Path]:
    for pattern in ("*.yaml", "*.yml", "*.json"):
        yield from directory.rglob(pattern)


def find_experiments(directory: str | Path) -> list[Experiment]:
    """Every experiment (file with `method:`) under `directory`; other YAML files are skipped."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InvalidInputError(
            "not a directory",
            source=str(directory),
            hint="--experiments takes the directory holding experiments",
        )
    experiments: list[Experiment] = []
    for path in sorted(set(_yaml_files(directory))):
        if path.name == "result.json":
            continue
        data = read_yaml(path)
        if isinstance(data, dict) and "method" in data:
            experiments.append(_experiment(data, path))
    return experiments
