"""Alert coverage: which alerts the runbook describes, the rules define, experiments
exercise, and past runs verified.

    from gameday.coverage import build_coverage, load_results
    from gameday.experiment import find_experiments
    results, warnings = load_results("reports")
    coverage = build_coverage(runbook, rules, find_experiments("experiments"), results)
"""

from gameday.coverage.matrix import (
    COVERAGE_SCHEMA,
    GAP_KINDS,
    AlertCoverage,
    Coverage,
    ExperimentCheck,
    Gap,
    LastOutcome,
    build_coverage,
)
from gameday.coverage.results import ExpectationOutcome, RunResult, load_results

__all__ = [
    "COVERAGE_SCHEMA",
    "GAP_KINDS",
    "AlertCoverage",
    "Coverage",
    "ExpectationOutcome",
    "ExperimentCheck",
    "Gap",
    "LastOutcome",
    "RunResult",
    "build_coverage",
    "load_results",
]
