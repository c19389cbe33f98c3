"""Reading the YAML (or JSON) documents users write, with errors that name the file and place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gameday.errors import InvalidInputError


def read_yaml(path: Path) -> Any:
    """The parsed document; InvalidInputError (exit 2) with the line and column of a
    syntax error, or what is wrong with the file itself."""
    return read_yaml_and_text(path)[1]


def read_yaml_and_text(path: Path) -> tuple[str, Any]:
    """The file's text (to point at lines later) and its parsed document."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError("file not found", source=source, hint="check the path") from None
    except IsADirectoryError:
        raise InvalidInputError(
            "this is a directory", source=source, hint="give an experiment or plan YAML file"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"cannot read the file ({exc})", source=source, hint="give a UTF-8 YAML file"
        ) from None
    try:
        return text, yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidInputError(
            f"not valid YAML: {problem}",
            source=source,
            where=where,
            hint="fix the YAML syntax at that place",
        ) from None
