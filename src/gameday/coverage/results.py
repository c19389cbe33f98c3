"""Past run results (`result.json`, schema `gameday.result/1`), as coverage and tabletop read them.

Missing keys are tolerated; a file that is not valid JSON is reported as a
warning and skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gameday.errors import InvalidInputError

__all__ = ["ExpectationOutcome", "RunResult", "load_results"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ExpectationOutcome:
    name: str
    kind: str
    alert: str | None
    receiver: str | None
    passed: bool
    measured_s: float | None = None
    budget_s: float | None = None
    message: str = ""


@dataclass(frozen=True)
class RunResult:
    path: Path
    experiment_title: str
    experiment_path: str
    status: str
    started_at: str = ""
    ended_at: str = ""
    expectations: tuple[ExpectationOutcome, ...] = ()
    mttd_s: dict[str, float] = field(default_factory=dict)
    time_to_notify_s: dict[str, float] = field(default_factory=dict)
    mttr_s: float | None = None
    timeline: tuple[dict[str, Any], ...] = ()

    @property
    def ended(self) -> datetime:
        """`ended_at` as an aware datetime (the epoch when missing or unreadable), for ordering."""
        for value in (self.ended_at, self.started_at):
            try:
                moment = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return _EPOCH


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _floats(value: object) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    return {str(key): number for key, item in value.items() if (number := _float(item)) is not None}


def _mapping(value: object) -> dict[str, Any]:
    return {str(key): item for key, item in value.items()} if isinstance(value, dict) else {}


def _optional_str(value: object) -> str | None:
    return str(value) if value is not None else None


def _result(data: dict[str, Any], path: Path) -> RunResult:
    experiment = _mapping(data.get("experiment"))
    measurements = _mapping(data.get("measurements"))
    expectations: list[ExpectationOutcome] = []
    raw_expectations = data.get("expectations")
    for raw in raw_expectations if isinstance(raw_expectations, list) else []:
        if not isinstance(raw, dict):
            continue
        expectations.append(
            ExpectationOutcome(
                name=str(raw.get("name") or ""),
                kind=str(raw.get("kind") or ""),
                alert=_optional_str(raw.get("alert")),
                receiver=_optional_str(raw.get("receiver")),
                passed=bool(raw.get("passed")),
                measured_s=_float(raw.get("measured_s")),
                budget_s=_float(raw.get("budget_s")),
                message=str(raw.get("message") or ""),
            )
        )
    timeline = data.get("timeline")
    return RunResult(
        path=path,
        experiment_title=str(experiment.get("title") or ""),
        experiment_path=str(experiment.get("path") or ""),
        status=str(data.get("status") or "unknown"),
        started_at=str(data.get("started_at") or ""),
        ended_at=str(data.get("ended_at") or ""),
        expectations=tuple(expectations),
        mttd_s=_floats(measurements.get("mttd_s")),
        time_to_notify_s=_floats(measurements.get("time_to_notify_s")),
        mttr_s=_float(measurements.get("mttr_s")),
        timeline=tuple(item for item in timeline if isinstance(item, dict))
        if isinstance(timeline, list)
        else (),
    )


def load_results(directory: str | Path) -> tuple[list[RunResult], list[str]]:
    """Every `result.json` under `directory`, oldest first, and warnings for the files skipped."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InvalidInputError(
            "not a directory",
            source=str(directory),
            hint="--results takes the directory runs wrote results to",
        )
    results: list[RunResult] = []
    warnings: list[str] = []
    for path in sorted(directory.rglob("result.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            warnings.append(f"{path}: not a readable JSON result ({exc}); skipped")
            continue
        if not isinstance(data, dict):
            warnings.append(f"{path}: not a result object; skipped")
            continue
        results.append(_result(data, path))
    results.sort(key=lambda result: result.ended)
    return results, warnings
