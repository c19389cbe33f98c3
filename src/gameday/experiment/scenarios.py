"""What coverage and tabletop take: a plan or a single experiment, or every experiment
in a directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from gameday.documents import read_yaml
from gameday.errors import InvalidInputError
from gameday.experiment.document import EXPERIMENT_HINT, Experiment, read_experiment
from gameday.experiment.plan import Plan, PlanEntry, load_plan


def load_scenarios(path: str | Path) -> Plan:
    """A plan, or a single experiment as a one-experiment plan (a file with `method:`)."""
    path = Path(path)
    data = read_yaml(path)
    if isinstance(data, dict) and "experiments" in data:
        return load_plan(path)
    if isinstance(data, dict) and "method" in data:
        experiment = read_experiment(path, document=data)
        return Plan(
            path=experiment.path,
            name=experiment.title,
            description=experiment.description,
            entries=(
                PlanEntry(path=experiment.path, overrides={}, where="", experiment=experiment),
            ),
        )
    raise InvalidInputError(
        "neither a plan ('experiments:') nor an experiment ('method:')",
        source=str(path),
        hint=EXPERIMENT_HINT,
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
            experiments.append(read_experiment(path, document=data))
    return experiments
