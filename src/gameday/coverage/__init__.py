"""Alert coverage: which alerts the runbook describes, the rules define, experiments
exercise, and past runs verified.

    from gameday.coverage import build_coverage, find_experiments, load_results
    results, warnings = load_results("reports")
    coverage = build_coverage(runbook, rules, find_experiments("experiments"), results)
"""

from gameday.coverage.experiments import (
    Activity,
    AlertExpectation,
    Experiment,
    Plan,
    find_experiments,
    load_experiment,
    load_plan,
    load_scenarios,
)
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
    "Activity",
    "AlertCoverage",
    "AlertExpectation",
    "Coverage",
    "ExpectationOutcome",
    "Experiment",
    "ExperimentCheck",
    "Gap",
    "LastOutcome",
    "Plan",
    "RunResult",
    "build_coverage",
    "find_experiments",
    "load_experiment",
    "load_plan",
    "load_results",
    "load_scenarios",
]
