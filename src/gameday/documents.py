"""Reading the YAML (or JSON) documents users write, with errors that name the file and place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gameday.errors import InvalidInputError

MAX_BYTES = 5 * 1024 * 1024
# Anchors and aliases can make a few lines stand for billions of values ("YAML bombs");
# nothing a user writes for gameday needs more than this many.
MAX_VALUES = 200_000
MAX_DEPTH = 64


def read_yaml(path: Path) -> Any:
    """The parsed document; InvalidInputError (exit 2) with the line and column of a
    syntax error, or what is wrong with the file itself."""
    return read_yaml_and_text(path)[1]


def read_yaml_and_text(path: Path) -> tuple[str, Any]:
    """The file's text (to point at lines later) and its parsed document."""
    source = str(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InvalidInputError(
                f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB",
                source=source,
                hint="give the experiment, plan or rule file itself",
            )
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
        document = yaml.safe_load(text)
    except RecursionError:
        raise InvalidInputError(
            "the document is nested too deeply", source=source, hint="flatten the YAML"
        ) from None
    except (ValueError, OverflowError) as exc:  # e.g. a date like 2026-13-45
        raise InvalidInputError(
            f"not valid YAML: {exc}", source=source, hint="quote the value, or fix it"
        ) from None
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
    problem = _oversized(document)
    if problem:
        raise InvalidInputError(
            problem, source=source, hint="write the document out plainly, without such aliases"
        )
    return text, document


def _oversized(document: Any) -> str | None:
    """Why the document, with every alias expanded, is more than anything gameday reads
    needs: more than MAX_VALUES values, or nested deeper than MAX_DEPTH. Counting stops at
    the limit, so a bomb or a self-referencing alias costs no more."""
    count = 0
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            return f"the document expands to more than {MAX_VALUES} values (anchors and aliases?)"
        if depth > MAX_DEPTH:
            return f"the document is nested more than {MAX_DEPTH} levels deep"
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return None
