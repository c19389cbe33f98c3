"""What a report directory holds: one run (`result.json`) or a plan (`plan-result.json`).

A plan directory has one subdirectory per experiment, each with its own
`result.json` and `journal.json`. Both shapes load into a `ReportSet`, which
the HTML, Markdown and JUnit renderers share.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict

from gameday.errors import InvalidInputError
from gameday.model import PLAN_RESULT_NAME, PLAN_SCHEMA, RunResult
from gameday.report.result_file import RESULT_NAME, read_result

__all__ = [
    "NOT_RUN",
    "PLAN_RESULT_NAME",
    "PLAN_SCHEMA",
    "ExperimentReport",
    "PlanExperimentEntry",
    "PlanInfo",
    "ReportSet",
    "load_report_set",
    "seconds_between",
]

# Runs that did not complete their course, and the events that say why.
INCOMPLETE = frozenset({"aborted", "interrupted", "error", "crashed"})
PROBLEM_EVENTS = frozenset({"error", "interrupted", "stop_condition_tripped"})
# Plan statuses of experiments that never ran.
NOT_RUN = frozenset({"skipped", "not_run", "pending", "cancelled"})


class PlanInfo(TypedDict):
    """The `plan` object of `plan-result.json`."""

    name: str
    path: str
    runbook: str | None


class PlanExperimentEntry(TypedDict):
    """One entry of `plan-result.json`'s `experiments`."""

    title: str
    path: str
    dir: str
    status: str


@dataclass(frozen=True)
class ExperimentReport:
    """One experiment of the report: its result, or None when the plan never produced one.

    `prefix` is the experiment's directory relative to the report directory,
    with a trailing slash ("" for a single-experiment report).
    """

    title: str
    path: str
    status: str
    directory: Path
    prefix: str
    result: RunResult | None

    @property
    def anchor(self) -> str:
        name = self.prefix.rstrip("/") or "experiment"
        return "exp-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in name)

    @property
    def skipped(self) -> bool:
        """The plan did not run this experiment (it stopped earlier, or was told to skip it)."""
        return self.result is None and self.status in NOT_RUN

    def problem(self) -> str | None:
        """Why the run did not complete (aborted, interrupted, error, crashed), None when it
        completed."""
        if self.result is None:
            if self.status in ("passed", "failed") or self.skipped:
                return None
            return f"no {RESULT_NAME} (status {self.status})"
        if self.result["status"] not in INCOMPLETE:
            return None
        events = [e for e in self.result["timeline"] if e["kind"] in PROBLEM_EVENTS]
        detail = events[-1]["detail"] if events else self.result["chaostoolkit_status"]
        return f"run {self.result['status']}: {detail}"


@dataclass(frozen=True)
class ReportSet:
    """Everything a report is rendered from."""

    directory: Path
    title: str
    status: str
    started_at: str
    ended_at: str
    plan: PlanInfo | None
    experiments: list[ExperimentReport]

    @property
    def duration_s(self) -> float | None:
        return seconds_between(self.started_at, self.ended_at)

    def expectation_counts(self) -> tuple[int, int]:
        """(met, total) over every experiment's expectations."""
        met = total = 0
        for experiment in self.experiments:
            if experiment.result is None:
                continue
            for expectation in experiment.result["expectations"]:
                total += 1
                met += bool(expectation["passed"])
        return met, total


def seconds_between(start: str, end: str) -> float | None:
    """Seconds from one ISO timestamp to another, None when either does not parse."""
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except (TypeError, ValueError):
        return None


def load_report_set(directory: Path) -> ReportSet:
    """Read a report directory; InvalidInputError (exit 2) when it holds no gameday result."""
    if not directory.is_dir():
        raise InvalidInputError(
            "not a directory",
            source=str(directory),
            hint="pass the report directory a run or a plan wrote (it holds result.json)",
        )
    if (directory / PLAN_RESULT_NAME).is_file():
        return _load_plan(directory)
    if not (directory / RESULT_NAME).is_file():
        raise InvalidInputError(
            f"no {RESULT_NAME} or {PLAN_RESULT_NAME} here",
            source=str(directory),
            hint="pass the report directory a run or a plan wrote, e.g. reports/<timestamp>-<name>",
        )
    result = read_result(directory)
    experiment = ExperimentReport(
        title=str(result["experiment"]["title"]),
        path=str(result["experiment"]["path"]),
        status=result["status"],
        directory=directory,
        prefix="",
        result=result,
    )
    return ReportSet(
        directory=directory,
        title=experiment.title,
        status=result["status"],
        started_at=result["started_at"],
        ended_at=result["ended_at"],
        plan=None,
        experiments=[experiment],
    )


def _load_plan(directory: Path) -> ReportSet:
    path = directory / PLAN_RESULT_NAME
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvalidInputError(f"not valid JSON: {exc}", source=str(path)) from None
    if not isinstance(document, dict) or document.get("schema") != PLAN_SCHEMA:
        raise InvalidInputError(
            f"not a gameday plan result (schema is not {PLAN_SCHEMA!r})", source=str(path)
        )
    plan = document.get("plan")
    entries = document.get("experiments")
    if not isinstance(plan, dict) or not isinstance(entries, list):
        raise InvalidInputError(
            "a plan result needs a 'plan' object and an 'experiments' list",
            source=str(path),
        )
    info = PlanInfo(
        name=str(plan.get("name") or directory.name),
        path=str(plan.get("path") or ""),
        runbook=str(plan["runbook"]) if plan.get("runbook") else None,
    )
    experiments: list[ExperimentReport] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("dir"), str):
            raise InvalidInputError(
                "each experiment needs a 'dir' naming its subdirectory",
                source=str(path),
                where=f"experiments[{index}]",
            )
        subdirectory = (directory / entry["dir"]).resolve()
        if directory.resolve() not in subdirectory.parents:
            raise InvalidInputError(
                f"experiment directory {entry['dir']!r} is outside the report directory",
                source=str(path),
                where=f"experiments[{index}].dir",
            )
        result = read_result(subdirectory) if (subdirectory / RESULT_NAME).is_file() else None
        title = entry.get("title") or (result["experiment"]["title"] if result else entry["dir"])
        experiments.append(
            ExperimentReport(
                title=str(title),
                path=str(entry.get("path") or (result["experiment"]["path"] if result else "")),
                status=str(entry.get("status") or (result["status"] if result else "error")),
                directory=subdirectory,
                prefix=entry["dir"].strip("/") + "/",
                result=result,
            )
        )
    return ReportSet(
        directory=directory,
        title=info["name"],
        status=str(document.get("status") or "error"),
        started_at=str(document.get("started_at") or ""),
        ended_at=str(document.get("ended_at") or ""),
        plan=info,
        experiments=experiments,
    )
