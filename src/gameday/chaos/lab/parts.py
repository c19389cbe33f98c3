"""A Chaos Toolkit control that starts the lab's opt-in parts an experiment needs.

Declare it before the load control, so the parts run before load and steady state::

    controls:
      - name: lab-parts
        provider:
          type: python
          module: gameday.chaos.lab.parts
          arguments:
            parts: [postgres]

Parts already running are left as they are; started parts keep running after the
experiment (a plan's next experiment reuses them) until `gameday lab down`. On any
target other than the lab the pre-flight refuses this control with exit 2.
"""

from __future__ import annotations

import logging
from typing import Any

from chaoslib.exceptions import InterruptExecution
from chaoslib.types import Configuration, Experiment, Secrets

from gameday.context import run_context
from gameday.errors import GamedayError
from gameday.lab.extras.registry import choose_extras
from gameday.lab.extras.runtime import start_extras

__all__ = ["before_experiment_control", "configure_control"]
logger = logging.getLogger("gameday.chaos.lab.parts")
MODULE = __name__


def configure_control(
    parts: list[str] | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
    experiment: Experiment = None,
) -> None:
    """Check the part names when the experiment starts."""
    choose_extras(list(parts or []))


def before_experiment_control(
    context: Experiment,
    parts: list[str] | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
    **_: Any,
) -> None:
    """Start the parts named that are not running yet, and wait until Prometheus
    scrapes them."""
    run = run_context(configuration)
    if run.detached and not run.active:
        run.activate()
    lab = run.target.lab
    if lab is None:
        raise InterruptExecution(
            f"lab-parts control: target {run.target.name!r} is not the lab; its parts are "
            "the system's own"
        )
    try:
        started = start_extras(lab, choose_extras(list(parts or [])), progress=logger.info)
    except GamedayError as exc:
        run.record("error", f"opt-in lab parts did not start: {exc}")
        raise InterruptExecution(f"opt-in lab parts did not start: {exc}") from exc
    if started:
        run.record("lab_parts_started", f"started opt-in lab parts: {', '.join(started)}")
