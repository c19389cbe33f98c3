"""The fault ledger: every injected fault with its revert, written before the fault is applied.

Rollbacks in the experiment undo faults on the normal paths. The ledger is the
guarantee behind them: after a run (whatever its ending) and at the start of
the next one (after a crash), every fault still in the ledger is reverted.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

from gameday.record.files import write_json

logger = logging.getLogger("gameday.record.ledger")
_lock = threading.Lock()


class Revert(TypedDict):
    module: str
    func: str
    arguments: dict[str, Any]


class LedgerEntry(TypedDict):
    id: str
    fault: str
    applied_at: str
    revert: Revert


class FaultLedger:
    """A JSON file of faults not yet reverted; safe across threads and crashes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[LedgerEntry]:
        try:
            entries: list[LedgerEntry] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return []
        return entries

    def _write(self, entries: list[LedgerEntry]) -> None:
        write_json(self.path, entries)

    def add(self, fault: str, revert: Revert) -> str:
        entry = LedgerEntry(
            id=uuid.uuid4().hex[:12],
            fault=fault,
            applied_at=datetime.now(UTC).isoformat(),
            revert=revert,
        )
        with _lock:
            self._write([*self.entries(), entry])
        return entry["id"]

    def remove(self, entry_id: str) -> None:
        with _lock:
            self._write([e for e in self.entries() if e["id"] != entry_id])

    def clear_matching(self, revert: Revert) -> None:
        """Forget faults whose revert is this one: it was just performed."""
        with _lock:
            self._write([e for e in self.entries() if e["revert"] != revert])

    @contextmanager
    def applying(self, fault: str, revert: Revert) -> Iterator[str]:
        """Record the revert first; if applying the fault raises, revert at once."""
        entry_id = self.add(fault, revert)
        try:
            yield entry_id
        except BaseException:
            self.revert_one(self._entry(entry_id))
            raise

    def _entry(self, entry_id: str) -> LedgerEntry:
        return next(e for e in self.entries() if e["id"] == entry_id)

    def revert_one(self, entry: LedgerEntry) -> None:
        revert = entry["revert"]
        function = getattr(importlib.import_module(revert["module"]), revert["func"])
        function(**revert["arguments"])
        self.remove(entry["id"])

    def revert_all(self) -> list[tuple[LedgerEntry, str | None]]:
        """Revert every recorded fault, newest first; returns each with its error, if any."""
        outcomes: list[tuple[LedgerEntry, str | None]] = []
        for entry in reversed(self.entries()):
            try:
                self.revert_one(entry)
                outcomes.append((entry, None))
            except Exception as exc:
                logger.error("could not revert %s: %s", entry["fault"], exc)
                outcomes.append((entry, f"{type(exc).__name__}: {exc}"))
        return outcomes
