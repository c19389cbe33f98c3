"""result.json: written atomically, read back with a clear error when it is not one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gameday.engine.redaction import Redactor
from gameday.errors import InvalidInputError
from gameday.model import RESULT_SCHEMA, RunResult, TimelineEvent

RESULT_NAME = "result.json"
JOURNAL_NAME = "journal.json"
EVENT_LOG_NAME = "events.jsonl"


class EventLog:
    """Appends each timeline event to a JSON-lines file as it happens (scrubbed of
    secrets), so what a run measured survives even if gameday itself is killed."""

    def __init__(self, path: Path, redactor: Redactor) -> None:
        self.path = path
        self._redactor = redactor

    def append(self, event: TimelineEvent) -> None:
        line = json.dumps(self._redactor.scrub_document(event), default=str)
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")


def write_json(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


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
    if not isinstance(document, dict) or document.get("schema") != RESULT_SCHEMA:
        raise InvalidInputError(
            f"not a gameday result (schema is not {RESULT_SCHEMA!r})", source=str(path)
        )
    result: RunResult = document  # type: ignore[assignment]
    return result
