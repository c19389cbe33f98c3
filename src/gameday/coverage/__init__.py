"""Alert coverage: which alerts the runbook describes, the rules define, experiments
exercise, and past runs verified.

    from gameday.coverage import build_coverage, load_results
    from gameday.experiment import find_experiments
    results, warnings = load_results("reports")
    coverage = build_coverage(runbook, rules, find_experiments("experiments"), results)

Seed systems on the lab (`gameday coverage --seeds`): `build_seed_coverage` per set.
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
from gameday.coverage.seeds import (
    SEED_COVERAGE_SCHEMA,
    SeedAlert,
    SeedCoverage,
    SeedsCoverage,
    SeedSet,
    build_seed_coverage,
)

__all__ = [
    "COVERAGE_SCHEMA",
    "GAP_KINDS",
    "SEED_COVERAGE_SCHEMA",
    "AlertCoverage",
    "Coverage",
    "ExpectationOutcome",
    "ExperimentCheck",
    "Gap",
    "LastOutcome",
    "RunResult",
    "SeedAlert",
    "SeedCoverage",
    "SeedSet",
    "SeedsCoverage",
    "build_coverage",
    "build_seed_coverage",
    "load_results",
]
