"""Durable run records: JSON files written atomically, and the event log appended as
events happen, so a run killed at any moment leaves whole files and loses nothing measured."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gameday.record.redaction import Redactor

EVENT_LOG_NAME = "events.jsonl"
EXPECTATION_LOG_NAME = "expectations.jsonl"


def write_text(path: Path, text: str) -> Path:
    """Write `text` through a temporary file and a rename: a reader (or a run killed at
    any moment) never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return path


def write_json(path: Path, document: Any) -> Path:
    """Write `document` as JSON, atomically (see `write_text`)."""
    return write_text(path, json.dumps(document, indent=2, default=str) + "\n")


class JsonLines:
    """Appends each record (a timeline event, an expectation) to a JSON-lines file as it
    happens, scrubbed of secrets, so what a run measured survives even if gameday itself
    is killed (`gameday recover` reads it back)."""

    def __init__(self, path: Path, redactor: Redactor) -> None:
        self.path = path
        self._redactor = redactor

    def append(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(self._redactor.scrub_document(record), default=str)
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    """Every whole record of a JSON-lines file (a torn last line is skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    records: list[dict[str, Any]] = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
