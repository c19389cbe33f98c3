"""The gateway's release switch: which release the replicas serve, and how a bad one fails.

A deploy writes the release into ``run/release.json``; every gateway replica reads it
(at most every `CHECK_INTERVAL_S`, by the file's modification time), as a rolling
update would swap the code each replica runs. A bad release fails a share of the API
requests with HTTP 500. Rolling back writes the last good release again. With no file
the replicas serve the baseline release, `BASELINE`.

The gateway exports ``gateway_release_info{release}`` and
``gateway_release_deployed_timestamp_seconds``, so a rule can say "error rate above X
for Y **after a deploy**", the shape of a runbook's rollback trigger.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily

RELEASE_FILE = "release.json"
BASELINE = "v1"
CHECK_INTERVAL_S = 0.25


@dataclass(frozen=True)
class Release:
    """A release the gateway serves: its name, the share of API requests it fails, when
    it was deployed (Unix time; 0 for the baseline the lab starts with), and the release
    it replaced (what a rollback goes back to)."""

    name: str = BASELINE
    error_ratio: float = 0.0
    deployed_at: float = 0.0
    previous: str | None = None


def release_file(run_dir: Path) -> Path:
    return run_dir / RELEASE_FILE


def write_release(path: Path, release: Release) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(asdict(release)))
    temporary.replace(path)


def read_release(path: Path) -> Release:
    """The release deployed, or the baseline when none was (or the file is unreadable:
    a replica keeps serving rather than failing on a half-written deploy)."""
    try:
        document = json.loads(path.read_text())
        return Release(
            name=str(document["name"]),
            error_ratio=float(document["error_ratio"]),
            deployed_at=float(document["deployed_at"]),
            previous=document.get("previous"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return Release()


class ReleaseSwitch:
    """A replica's view of the deployed release, re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._checked_at = float("-inf")
        self._stamp: float | None = None
        self._release = Release()
        self._served = 0

    def current(self, now: float | None = None) -> Release:
        now = time.monotonic() if now is None else now
        if now - self._checked_at >= CHECK_INTERVAL_S:
            self._checked_at = now
            try:
                stamp: float | None = self._path.stat().st_mtime
            except OSError:
                stamp = None
            if stamp != self._stamp:
                self._stamp = stamp
                self._release = read_release(self._path) if stamp is not None else Release()
        return self._release

    def fails_next(self, now: float | None = None) -> bool:
        """Whether this request is one the bad release fails: evenly spread, so a
        ratio r fails r of the requests of any long enough stretch."""
        ratio = self.current(now).error_ratio
        if ratio <= 0:
            return False
        self._served += 1
        return int(self._served * ratio) != int((self._served - 1) * ratio)


class ReleaseCollector:
    """``gateway_release_info{release}`` and the deploy time, read at each scrape."""

    def __init__(self, switch: ReleaseSwitch) -> None:
        self._switch = switch

    def collect(self) -> Iterator[GaugeMetricFamily]:
        release = self._switch.current()
        info = GaugeMetricFamily(
            "gateway_release_info", "The release this replica serves.", labels=["release"]
        )
        info.add_metric([release.name], 1.0)
        yield info
        yield GaugeMetricFamily(
            "gateway_release_deployed_timestamp_seconds",
            "When the release this replica serves was deployed (0: the lab's baseline).",
            value=release.deployed_at,
        )
