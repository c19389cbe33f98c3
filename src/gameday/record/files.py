"""Durable run records: JSON files written atomically, and the event log appended as
events happen, so a run killed at any moment leaves whole files and loses nothing measured."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gameday.model import TimelineEvent
from gameday.record.redaction import Redactor

EVENT_LOG_NAME = "events.jsonl"


def write_json(path: Path, document: Any) -> Path:
    """Write `document` as JSON through a temporary file and a rename: never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


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
