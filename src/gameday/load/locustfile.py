"""Finding the locustfile an experiment names."""

from __future__ import annotations

from pathlib import Path

from gameday.errors import InvalidInputError

DEFAULT_LOCUSTFILE = "loadtests/lab_api.py"


def find_locustfile(locustfile: str, experiment_dir: Path | None = None) -> Path:
    """The locustfile, from the working directory, else the experiment's directory and
    its parent."""
    candidate = Path(locustfile)
    places = [Path.cwd()]
    if experiment_dir is not None:
        places += [experiment_dir, experiment_dir.parent]
    for place in places:
        path = candidate if candidate.is_absolute() else place / candidate
        if path.is_file():
            return path.resolve()
    raise InvalidInputError(
        f"locustfile {locustfile!r} not found (looked in {', '.join(map(str, places))})",
        where="controls.load.provider.arguments.locustfile",
        hint="give a path relative to where you run gameday, or an absolute one",
    )
