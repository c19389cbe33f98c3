"""What every fault of the extension shares: the lab it needs and the revert it records first.

A revert names the lab's directory explicitly, so it can be performed from a
later process too (the ledger's recovery after a crash).
"""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from gameday.lab.config import LabConfig
from gameday.lab.supervisor import SupervisorClient
from gameday.observe.polling import poll_until
from gameday.record.ledger import FaultLedger, Revert
from gameday.targets import LAB_DIR_KEY, lab_dir_of, resolve_target

RUNNING_TIMEOUT_S = 15.0


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


def wait_until_running(supervisor: SupervisorClient, group: str, what: str) -> None:
    """Wait until every process of a lab part runs: one that was being started (by the
    revert, or by a run that died) is still STARTING, and the fault is not undone until
    it runs. ActivityFailed after RUNNING_TIMEOUT_S."""

    def not_running() -> list[str]:
        return [
            f"{info['name']} ({info['statename']})"
            for info in supervisor.processes()
            if info["group"] == group and info["statename"] != "RUNNING"
        ]

    polled = poll_until(lambda: not not_running() or None, timeout_s=RUNNING_TIMEOUT_S)
    if not polled.met:
        raise ActivityFailed(
            f"{what} not running {RUNNING_TIMEOUT_S:.0f}s after being restored: "
            + ", ".join(not_running())
        )
