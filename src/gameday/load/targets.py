"""Tell Prometheus where the load generator's metrics are, through file-based discovery."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def announce(path: Path, port: int, **labels: str) -> None:
    """Add the load generator at 127.0.0.1:port as a scrape target."""
    document = [{"targets": [f"127.0.0.1:{port}"], "labels": labels}]
    _write(path, document)


def withdraw(path: Path) -> None:
    """No load generator: an empty target list, so no target is reported down."""
    _write(path, [])


def _write(path: Path, document: list[dict[str, Any]]) -> None:
    # Atomic replace: Prometheus must never read a half-written file.
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document) + "\n")
    temporary.replace(path)
