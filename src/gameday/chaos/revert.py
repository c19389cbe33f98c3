"""What every fault of the extension shares: the lab it needs and the revert it records first.

A revert names the lab's directory explicitly, so it can be performed from a
later process too (the ledger's recovery after a crash).
"""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from gameday.lab.config import LabConfig
from gameday.record.ledger import FaultLedger, Revert
from gameday.targets import LAB_DIR_KEY, lab_dir_of, resolve_target


def revert_for(
    module: str, func: str, configuration: Configuration | None, **arguments: Any
) -> Revert:
    """The revert of a fault: `module.func(**arguments)` on this lab."""
    return Revert(
        module=module,
        func=func,
        arguments={**arguments, "configuration": {LAB_DIR_KEY: str(lab_dir_of(configuration))}},
    )


def lab_and_ledger(configuration: Configuration | None) -> tuple[LabConfig, FaultLedger]:
    """The running lab this activity acts on, and its fault ledger."""
    target = resolve_target(configuration)
    if target.lab is None:
        raise ActivityFailed("this activity needs the gameday lab; none is configured")
    return target.lab, target.ledger()
