"""The coverage matrix: every alert × runbook × rules × experiments × last verified outcome.

Gaps, by kind:

- `no-rule`: the runbook describes the alert, no rule defines it (it can never fire);
- `no-runbook`: a rule defines it, the runbook does not explain it (responders are on their own);
- `no-experiment`: no experiment expects it to fire or be delivered (negative-only
  expectations do not count: they never show the alert works);
- `failing`: the last run that checked it failed.

Alert names match case-sensitively after whitespace is normalised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gameday.coverage.results import RunResult
from gameday.experiment import Experiment
from gameday.runbook.model import Rule, Runbook, normalise_name

__all__ = [
    "COVERAGE_SCHEMA",
    "GAP_KINDS",
    "AlertCoverage",
    "Coverage",
    "ExperimentCheck",
    "Gap",
    "LastOutcome",
    "build_coverage",
]

COVERAGE_SCHEMA = "gameday.coverage/1"
GAP_KINDS = ("no-rule", "no-runbook", "no-experiment", "failing")


@dataclass(frozen=True)
class ExperimentCheck:
    experiment: str
    path: str
    expects: str  # "fires", "does_not_fire", "delivered"
    receiver: str | None = None


@dataclass(frozen=True)
class LastOutcome:
    passed: bool
    status: str
    experiment: str
    ended_at: str
    result: str
    mttd_s: float | None = None
    message: str = ""


@dataclass(frozen=True)
class Gap:
    kind: str
    alert: str
    message: str


@dataclass
class AlertCoverage:
    alert: str
    in_runbook: bool = False
    severity: str | None = None
    meaning: str = ""
    procedure: str | None = None
    rules: list[str] = field(default_factory=list)
    experiments: list[ExperimentCheck] = field(default_factory=list)
    last: LastOutcome | None = None
    gaps: list[str] = field(default_factory=list)

    @property
    def exercised(self) -> bool:
        return any(check.expects != "does_not_fire" for check in self.experiments)


@dataclass
class Coverage:
    runbook: str | None
    alerts: list[AlertCoverage]
    gaps: list[Gap]
    rule_sources: list[str] = field(default_factory=list)
    experiments: list[str] = field(default_factory=list)
    results: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def has_gaps(self) -> bool:
        return bool(self.gaps)

    def row(self, alert: str) -> AlertCoverage | None:
        key = normalise_name(alert)
        return next((row for row in self.alerts if row.alert == key), None)

    def gaps_for(self, alert: str) -> list[Gap]:
        key = normalise_name(alert)
        return [gap for gap in self.gaps if gap.alert == key]

    def to_dict(self) -> dict[str, Any]:
        counts = {kind: sum(1 for gap in self.gaps if gap.kind == kind) for kind in GAP_KINDS}
        return {
            "schema": COVERAGE_SCHEMA,
            "runbook": self.runbook,
            "rule_sources": list(self.rule_sources),
            "experiments": list(self.experiments),
            "results": self.results,
            "alerts": [asdict(row) for row in self.alerts],
            "gaps": [asdict(gap) for gap in self.gaps],
            "summary": {"alerts": len(self.alerts), "gaps": len(self.gaps), **counts},
            "warnings": list(self.warnings),
        }


def _last_outcome(alert: str, results: Sequence[RunResult]) -> LastOutcome | None:
    for result in sorted(results, key=lambda item: item.ended, reverse=True):
        checks = [
            e
            for e in result.expectations
            if e.alert is not None and normalise_name(e.alert) == alert
        ]
        if not checks:
            continue
        failed = [check for check in checks if not check.passed]
        mttd = next((v for k, v in result.mttd_s.items() if normalise_name(k) == alert), None)
        return LastOutcome(
            passed=not failed,
            status=result.status,
            experiment=result.experiment_title,
            ended_at=result.ended_at,
            result=str(result.path),
            mttd_s=mttd,
            message=failed[0].message if failed else checks[0].message,
        )
    return None


def _for_this_runbook(experiment: Experiment, runbook: Runbook | None) -> bool:
    """An experiment that names another runbook exercises that runbook's alerts, not
    these: a directory may hold several systems' experiments. A runbook found on disk
    is compared by path; one that is not (a seed system's, kept outside the repository)
    by its file name."""
    declared = experiment.gameday_extension().get("runbook")
    if runbook is None or not isinstance(declared, str) or not declared:
        return True
    source = Path(runbook.source)
    named = experiment.runbook_path()
    if named is None:
        return Path(declared).name == source.name
    return not source.is_file() or source.resolve() == named


def build_coverage(
    runbook: Runbook | None,
    rules: Sequence[Rule] = (),
    experiments: Sequence[Experiment] = (),
    results: Sequence[RunResult] = (),
    *,
    warnings: Sequence[str] = (),
) -> Coverage:
    """Cross the runbook's alerts with the rules (the runbook's embedded ones plus `rules`),
    the experiments' expectations and the results' last outcomes."""
    rows: dict[str, AlertCoverage] = {}

    def row(name: str) -> AlertCoverage:
        key = normalise_name(name)
        if key not in rows:
            rows[key] = AlertCoverage(alert=key)
        return rows[key]

    if runbook is not None:
        for alert in runbook.alerts:
            entry = row(alert.name)
            entry.in_runbook = True
            entry.severity = alert.severity
            entry.meaning = alert.meaning
            entry.procedure = alert.procedure
    all_rules = [*(runbook.rules if runbook is not None else []), *rules]
    for rule in all_rules:
        entry = row(rule.name)
        if rule.source not in entry.rules:
            entry.rules.append(rule.source)
        entry.severity = entry.severity or rule.severity
    for experiment in experiments:
        if not _for_this_runbook(experiment, runbook):
            continue
        for expectation in experiment.expectations():
            check = ExperimentCheck(
                experiment.title, str(experiment.path), expectation.kind, expectation.receiver
            )
            entry = row(expectation.alert)
            if check not in entry.experiments:
                entry.experiments.append(check)
    for key, entry in rows.items():
        entry.last = _last_outcome(key, results)

    gaps: list[Gap] = []
    for entry in rows.values():
        found: list[Gap] = []
        if not entry.rules:
            where = "the runbook describes it" if entry.in_runbook else "an experiment expects it"
            found.append(
                Gap("no-rule", entry.alert, f"{where} but no rule defines it, so it can never fire")
            )
        if not entry.in_runbook:
            source = "a rule defines it" if entry.rules else "an experiment expects it"
            found.append(
                Gap("no-runbook", entry.alert, f"{source} but the runbook does not explain it")
            )
        if not entry.exercised:
            message = (
                "experiments only check that it does not fire; none shows that it fires"
                if entry.experiments
                else "no experiment exercises it"
            )
            found.append(Gap("no-experiment", entry.alert, message))
        if entry.last is not None and not entry.last.passed:
            when = f" ({entry.last.ended_at})" if entry.last.ended_at else ""
            detail = f": {entry.last.message}" if entry.last.message else ""
            found.append(
                Gap(
                    "failing",
                    entry.alert,
                    f"last run of '{entry.last.experiment}'{when} failed{detail}",
                )
            )
        entry.gaps = [gap.kind for gap in found]
        gaps.extend(found)
    return Coverage(
        runbook=runbook.source if runbook is not None else None,
        alerts=list(rows.values()),
        gaps=gaps,
        rule_sources=sorted({rule.source for rule in all_rules}),
        experiments=[str(experiment.path) for experiment in experiments],
        results=len(results),
        warnings=list(warnings),
    )
