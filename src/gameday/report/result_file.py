"""result.json: written atomically, read back with a clear error when it is not one."""

from __future__ import annotations

import json
from pathlib import Path

from gameday.errors import InvalidInputError
from gameday.model import READABLE_RESULT_SCHEMAS, RunResult
from gameday.record.files import write_json

RESULT_NAME = "result.json"
JOURNAL_NAME = "journal.json"


def write_result(directory: Path, result: RunResult) -> Path:
    return write_json(directory / RESULT_NAME, result)


def read_result(path: Path) -> RunResult:
    if path.is_dir():
        path = path / RESULT_NAME
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError("no result.json here", source=str(path)) from None
    except ValueError as exc:
        raise InvalidInputError(f"not valid JSON: {exc}", source=str(path)) from None
    if not isinstance(document, dict) or document.get("schema") not in READABLE_RESULT_SCHEMAS:
        raise InvalidInputError(
            f"not a gameday result (schema is not one of {', '.join(READABLE_RESULT_SCHEMAS)})",
            source=str(path),
        )
    result: RunResult = document  # type: ignore[assignment]
    return result
