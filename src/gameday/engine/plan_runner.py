"""Runs a plan's experiments one after another, each with its own rollbacks and report.

Every experiment is validated (with its overrides) before the first fault. A
failed experiment does not stop the plan unless `fail_fast`; an interrupt stops
it after the running experiment rolled back. plan-result.json is rewritten after
each experiment, so a crash loses nothing already measured.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from gameday.engine.reporting import write_report
from gameday.engine.runner import (
    RunOptions,
    RunOutcome,
    check_run,
    default_report_dir,
    run_checked,
)
from gameday.errors import GamedayError, InvalidInputError
from gameday.experiment import Plan, PlanEntry
from gameday.experiment.plan import LAB
from gameday.model import (
    PLAN_RESULT_NAME,
    PLAN_SCHEMA,
    PlanExperimentRef,
    PlanRef,
    PlanResult,
    RunStatus,
)
from gameday.record.files import write_json
from gameday.targets import TargetSpec, target_spec

PRECEDENCE: tuple[RunStatus, ...] = (
    "interrupted",
    "crashed",
    "error",
    "aborted",
    "failed",
    "passed",
)


@dataclass(frozen=True)
class PlanOutcome:
    result: PlanResult
    report_dir: Path
    outcomes: list[RunOutcome]


def plan_target(plan: Plan) -> TargetSpec | None:
    """The target a plan names (None: the lab)."""
    if isinstance(plan.target, dict):
        return TargetSpec(
            document=plan.target,
            source=str(plan.path),
            base=plan.path.parent,
            default_name=plan.name,
            where="target",
        )
    return None if plan.target == LAB else target_spec(Path(plan.target))


def validate_plan(plan: Plan, options: RunOptions) -> list[str]:
    """Check every experiment with its overrides (against the plan's target unless
    `options` names one); returns their titles."""
    options = replace(options, target=options.target or plan_target(plan))
    titles: list[str] = []
    for entry in plan.entries:
        try:
            check_run(entry.experiment, options)
        except InvalidInputError as exc:
            raise InvalidInputError(
                exc.message, source=str(plan.path), where=entry.where, hint=exc.hint
            ) from None
        titles.append(entry.experiment.title)
    return titles


def plan_status(statuses: list[str]) -> str:
    for status in PRECEDENCE:
        if status in statuses:
            return status
    return "passed"


def run_plan(plan: Plan, options: RunOptions, *, fail_fast: bool = False) -> PlanOutcome:
    options = replace(options, target=options.target or plan_target(plan))
    titles = validate_plan(plan, options)
    report_dir = options.report_dir or default_report_dir(plan.name)
    report_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    refs: list[PlanExperimentRef] = [
        PlanExperimentRef(
            title=title, path=str(entry.path), dir=_dir_name(i, entry), status="not run"
        )
        for i, (entry, title) in enumerate(zip(plan.entries, titles, strict=True), start=1)
    ]
    outcomes: list[RunOutcome] = []

    def save() -> PlanResult:
        ran = [ref["status"] for ref in refs if ref["status"] != "not run"]
        result = PlanResult(
            schema=PLAN_SCHEMA,
            plan=PlanRef(
                name=plan.name,
                path=str(plan.path),
                runbook=str(plan.runbook) if plan.runbook else None,
            ),
            started_at=started.isoformat(),
            ended_at=datetime.now(UTC).isoformat(),
            status=plan_status(ran),
            experiments=refs,
        )
        write_json(report_dir / PLAN_RESULT_NAME, result)
        write_report(report_dir, plan.runbook)
        return result

    save()
    total = len(plan.entries)
    for index, (entry, ref) in enumerate(zip(plan.entries, refs, strict=True), start=1):
        run_options = replace(
            options,
            report_dir=report_dir / ref["dir"],
            label=f"[{index}/{total} {entry.slug}]",
        )
        try:
            outcome = run_checked(entry.experiment, run_options)
        except GamedayError as exc:
            ref["status"] = "error"
            (report_dir / ref["dir"]).mkdir(parents=True, exist_ok=True)
            (report_dir / ref["dir"] / "error.txt").write_text(exc.format() + "\n")
            save()
            if fail_fast:
                break
            continue
        outcomes.append(outcome)
        ref["status"] = outcome.result["status"]
        save()
        if ref["status"] == "interrupted" or (fail_fast and ref["status"] != "passed"):
            break
    return PlanOutcome(result=save(), report_dir=report_dir, outcomes=outcomes)


def _dir_name(index: int, entry: PlanEntry) -> str:
    return f"{index:02d}-{entry.slug}"
