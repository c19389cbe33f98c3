"""The record of acknowledged configuration writes, for the data-reconciliation check.

`write_config_keys` appends each write the gateway acknowledged (HTTP 200 with
a revision) to ``data/acknowledged_writes.jsonl`` in the lab directory (wiped
with the rest of the lab's data at `gameday lab up`, like etcd's own data);
`acknowledged_writes_readable` reads every one back.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TypedDict

from gameday.lab.config import LabConfig

RECORD_FILE = "acknowledged_writes.jsonl"
_lock = threading.Lock()


class AcknowledgedWrite(TypedDict):
    key: str
    value: str
    revision: int
    at: str


def record_file(lab: LabConfig) -> Path:
    return lab.data / RECORD_FILE


def append(path: Path, write: AcknowledgedWrite) -> None:
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as record:
            record.write(json.dumps(write) + "\n")


def latest_per_key(path: Path, prefix: str | None = None) -> dict[str, AcknowledgedWrite]:
    """The last acknowledged write of each key (optionally only keys starting with `prefix`)."""
    latest: dict[str, AcknowledgedWrite] = {}
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return latest
    for line in lines:
        try:
            write: AcknowledgedWrite = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        if prefix is None or write["key"].startswith(prefix):
            current = latest.get(write["key"])
            if current is None or write["revision"] >= current["revision"]:
                latest[write["key"]] = write
    return latest
