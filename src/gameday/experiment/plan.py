"""Game-day plans: several experiments in order against one target, with one runbook.

name: lab game day
description: …
target: lab                                      # or a target file, or its mapping inline
runbook: ../src/gameday/lab/assets/runbook.md   # relative to the plan
load: {users: 10, spawn_rate: 10, workers: 2}    # default load for every experiment
                                                 # (workers: Locust worker processes under a
                                                 # master; 0, the default, runs one process)
stop_conditions: [{alert: CustomerFacingOutage}]  # guard every experiment (guardrails)
experiments:
  - redis-down.yaml                              # relative to the plan
  - path: pod-kill.yaml
    overrides: {deadlines: {PodDown: 20}, load: {users: 20}}
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.documents import read_yaml
from gameday.errors import InvalidInputError
from gameday.experiment.document import EXPERIMENT_HINT, Experiment, read_experiment
from gameday.experiment.guardrails import parse_stop_conditions
from gameday.experiment.overrides import check_overrides

LAB = "lab"


@dataclass(frozen=True)
class PlanEntry:
    """One experiment of a plan, read with its overrides (the plan's load merged in)."""

    path: Path
    overrides: dict[str, Any]
    where: str
    experiment: Experiment

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.path.stem.lower()).strip("-") or "experiment"


@dataclass(frozen=True)
class Plan:
    path: Path
    name: str
    description: str = ""
    target: str | dict[str, Any] = LAB  # "lab", a target file's resolved path, or a mapping
    runbook: Path | None = None
    load: dict[str, Any] = field(default_factory=dict)
    entries: tuple[PlanEntry, ...] = ()

    @property
    def experiments(self) -> tuple[Experiment, ...]:
        return tuple(entry.experiment for entry in self.entries)


def is_plan(path: Path) -> bool:
    document = read_yaml(path)
    return isinstance(document, dict) and "experiments" in document


def load_plan(path: Path) -> Plan:
    source = str(path)
    document = read_yaml(path)
    if not isinstance(document, dict) or "experiments" not in document:
        raise InvalidInputError(
            "not a game-day plan (no 'experiments:')",
            source=source,
            hint=EXPERIMENT_HINT,
        )
    target = _target(document.get("target", LAB), path)
    load = document.get("load") or {}
    if not isinstance(load, dict):
        raise InvalidInputError("load must be a mapping", source=source, where="load")
    raw = document["experiments"]
    if not isinstance(raw, list) or not raw:
        raise InvalidInputError(
            "'experiments' must be a non-empty list", source=source, where="experiments"
        )
    guards = document.get("stop_conditions")
    parse_stop_conditions(guards, source=source, where="stop_conditions")
    entries = [_entry(item, index, path, load, guards or []) for index, item in enumerate(raw)]
    runbook = document.get("runbook")
    runbook_path = (path.parent / runbook).resolve() if isinstance(runbook, str) else None
    if runbook_path is not None and not runbook_path.is_file():
        raise InvalidInputError(
            f"runbook {runbook!r} not found (looked in {runbook_path})",
            source=source,
            where="runbook",
            hint="paths in a plan are relative to the plan file",
        )
    return Plan(
        path=path.resolve(),
        name=str(document.get("name") or path.stem),
        description=str(document.get("description") or ""),
        target=target,
        runbook=runbook_path,
        load=load,
        entries=tuple(entries),
    )


def _target(raw: Any, plan_path: Path) -> str | dict[str, Any]:
    """`lab`, a target file (its resolved path) or an inline target mapping; the target
    itself is read and checked by `gameday.targets` (per experiment: its secrets)."""
    if raw == LAB or isinstance(raw, dict):
        return raw if isinstance(raw, dict) else LAB
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInputError(
            "target must be 'lab', a target file or a target mapping",
            source=str(plan_path),
            where="target",
            hint="e.g. target: staging.yaml (relative to the plan), or target: {kind: external, …}",
        )
    found = (plan_path.parent / raw).resolve()
    if not found.is_file():
        raise InvalidInputError(
            f"target file {raw!r} not found (looked in {found})",
            source=str(plan_path),
            where="target",
            hint="paths in a plan are relative to the plan file",
        )
    return str(found)


def _entry(
    item: Any, index: int, plan_path: Path, load: dict[str, Any], guards: list[Any]
) -> PlanEntry:
    where = f"experiments[{index}]"
    if isinstance(item, str):
        relative, overrides = item, {}
    elif isinstance(item, dict) and isinstance(item.get("path"), str):
        relative = item["path"]
        overrides = check_overrides(
            item.get("overrides"), source=str(plan_path), where=f"{where}.overrides"
        )
    else:
        raise InvalidInputError(
            "an entry is neither a path nor {path, overrides}", source=str(plan_path), where=where
        )
    experiment = (plan_path.parent / relative).resolve()
    if not experiment.is_file():
        raise InvalidInputError(
            f"experiment {relative!r} not found (looked in {experiment})",
            source=str(plan_path),
            where=where,
            hint="paths in a plan are relative to the plan file",
        )
    merged = copy.deepcopy(overrides)
    if load:
        merged["load"] = {**load, **(overrides.get("load") or {})}
    if guards:
        merged["stop_conditions"] = [*guards, *(overrides.get("stop_conditions") or [])]
    try:
        loaded = read_experiment(experiment, merged)
    except InvalidInputError as exc:
        # The plan's place first: the experiment's own file and place are in the message.
        raise InvalidInputError(
            exc.message, source=str(plan_path), where=where, hint=exc.hint
        ) from None
    return PlanEntry(path=experiment, overrides=merged, where=where, experiment=loaded)
