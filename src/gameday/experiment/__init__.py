"""The one reader of experiments and game-day plans, used by the engine, coverage,
tabletop and the pytest plugin.

`read_experiment` parses an experiment (overrides applied, gameday's structural
checks done) into an `Experiment` with typed views of its activities;
`check_experiment` adds what only a run needs (chaoslib's own validation, which
imports the activities' modules, and the load's locustfile). `load_plan` reads a
plan and every experiment in it; `load_scenarios` takes either.
"""

from gameday.experiment.checks import check_experiment
from gameday.experiment.document import (
    Activity,
    AlertExpectation,
    Experiment,
    is_negative_func,
    read_experiment,
)
from gameday.experiment.plan import Plan, PlanEntry, is_plan, load_plan
from gameday.experiment.scenarios import find_experiments, load_scenarios

__all__ = [
    "Activity",
    "AlertExpectation",
    "Experiment",
    "Plan",
    "PlanEntry",
    "check_experiment",
    "find_experiments",
    "is_negative_func",
    "is_plan",
    "load_plan",
    "load_scenarios",
    "read_experiment",
]
