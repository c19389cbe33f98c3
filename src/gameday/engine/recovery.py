"""What a run leaves behind if gameday itself dies (SIGKILL, OOM, power), and how it is
put right.

Every run on the lab writes a marker (`<lab>/run/runs/<pid>.json`) when it starts
and removes it when it ends; the load control records Locust's PID. After a crash
the marker's PID is dead: `gameday recover` (and the start of the next run)
reverts every fault left in the ledger and stops the orphaned load; `recover` also
finalises the dead run's directory, a `result.json` with status `crashed` built from
what the run had appended to its event and expectation logs.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict, cast

from gameday.lab import processes
from gameday.lab.config import LabConfig
from gameday.load import targets as load_targets
from gameday.model import RESULT_SCHEMA, Expectation, ExperimentRef, RunResult, TimelineEvent
from gameday.observe.prometheus import Prometheus
from gameday.observe.series import fetch_series
from gameday.record.files import (
    EVENT_LOG_NAME,
    EXPECTATION_LOG_NAME,
    read_json_lines,
    write_json,
)
from gameday.record.ledger import FaultLedger
from gameday.report.result_file import RESULT_NAME, write_result
from gameday.verify import verdicts

logger = logging.getLogger("gameday.engine.recovery")


class RunMarker(TypedDict):
    pid: int
    ticks: int | None
    report_dir: str
    title: str
    path: str
    started_at: str


def markers_dir(lab: LabConfig) -> Path:
    return lab.run / "runs"


def mark_run(lab: LabConfig, *, report_dir: Path, title: str, path: Path) -> Path:
    """Say that this process runs an experiment whose results go to `report_dir`."""
    pid = os.getpid()
    marker = RunMarker(
        pid=pid,
        ticks=processes.start_ticks(pid),
        report_dir=str(report_dir.resolve()),
        title=title,
        path=str(path),
        started_at=datetime.now(UTC).isoformat(),
    )
    return write_json(markers_dir(lab) / f"{pid}.json", marker)


def _alive(marker: RunMarker) -> bool:
    ticks = processes.start_ticks(marker["pid"])
    return ticks is not None and (marker["ticks"] is None or ticks == marker["ticks"])


def _markers(lab: LabConfig) -> list[tuple[Path, RunMarker]]:
    found: list[tuple[Path, RunMarker]] = []
    for path in sorted(markers_dir(lab).glob("*.json")):
        try:
            marker = cast(RunMarker, json.loads(path.read_text(encoding="utf-8")))
            int(marker["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        found.append((path, marker))
    return found


def running_runs(lab: LabConfig) -> list[RunMarker]:
    """Runs of other gameday processes still alive on this lab."""
    return [m for _, m in _markers(lab) if _alive(m) and m["pid"] != os.getpid()]


def crashed_runs(lab: LabConfig) -> list[tuple[Path, RunMarker]]:
    """Runs whose gameday process died before it could finish them."""
    return [(path, marker) for path, marker in _markers(lab) if not _alive(marker)]


def stop_orphaned_load(lab: LabConfig) -> list[int]:
    """Stop every Locust a dead run left running; their PIDs."""
    record = lab.load_pids_file
    pids = processes.recorded_pids(record) if record.exists() else []
    if pids:
        processes.terminate(pids, grace_s=10.0)
    record.unlink(missing_ok=True)
    if lab.load_targets_file.exists():
        load_targets.withdraw(lab.load_targets_file)
    return pids


def finalise_crashed(
    marker: RunMarker, prometheus_url: str | None, *, time_scale: float = 1.0
) -> RunResult | None:
    """Write the dead run's result.json (status `crashed`) from its logs, unless it has
    one already; None when its directory is gone. `time_scale`: the lab's K (its
    measurements get a production estimate when K != 1)."""
    directory = Path(marker["report_dir"])
    if not directory.is_dir() or (directory / RESULT_NAME).exists():
        return None
    events = cast(list[TimelineEvent], read_json_lines(directory / EVENT_LOG_NAME))
    expectations = cast(list[Expectation], read_json_lines(directory / EXPECTATION_LOG_NAME))
    started = _started(marker, events)
    ended = datetime.fromisoformat(events[-1]["at"]) if events else started
    series: dict[str, list[tuple[float, float]]] = {}
    if prometheus_url:
        try:
            series = fetch_series(Prometheus(prometheus_url), started, ended)
        except Exception as exc:  # the series are a bonus: the record counts
            logger.warning("no series for the crashed run: %s", exc)
    result = RunResult(
        schema=RESULT_SCHEMA,
        experiment=ExperimentRef(title=marker["title"], path=marker["path"], runbook=None),
        started_at=started.isoformat(),
        ended_at=ended.isoformat(),
        status="crashed",
        chaostoolkit_status="crashed",
        manual=False,
        timeline=events,
        expectations=expectations,
        measurements=verdicts.measurements(expectations, time_scale=time_scale),
        load=None,
        series=series,
        journal="",
    )
    write_result(directory, result)
    return result


def _started(marker: RunMarker, events: list[TimelineEvent]) -> datetime:
    for value in (events[0]["at"] if events else "", marker["started_at"]):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            continue
    return datetime.now(UTC)


@dataclass
class Recovery:
    """What `recover` found and did."""

    reverted: list[str] = field(default_factory=list)
    revert_errors: list[str] = field(default_factory=list)
    load_stopped: list[int] = field(default_factory=list)
    finalised: list[str] = field(default_factory=list)
    crashed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.reverted or self.revert_errors or self.load_stopped or self.crashed)


def recover_leftovers(lab: LabConfig, ledger: FaultLedger) -> Recovery:
    """Revert every fault left in the ledger and stop orphaned load (what a new run does
    first, and what `recover` does before finalising)."""
    found = Recovery(load_stopped=stop_orphaned_load(lab))
    for entry, error in ledger.revert_all():
        if error:
            found.revert_errors.append(f"{entry['fault']}: {error}")
        else:
            found.reverted.append(entry["fault"])
    found.crashed = [dict(marker) for _, marker in crashed_runs(lab)]
    return found


def recover(lab: LabConfig, ledger: FaultLedger) -> Recovery:
    """Put the lab right after a crashed run and finalise every crashed run's report."""
    found = recover_leftovers(lab, ledger)
    for path, marker in crashed_runs(lab):
        result = finalise_crashed(marker, lab.prometheus_url, time_scale=lab.time_scale)
        if result is not None:
            found.finalised.append(marker["report_dir"])
        path.unlink(missing_ok=True)
    return found
