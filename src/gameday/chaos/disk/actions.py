"""Disk faults: fill the lab disk (the disk part's tmpfs, or its simulated quota) to a
usage, and free it again, each paired with its revert in the fault ledger.

The fill is one file of zeros in the lab disk, written a chunk at a time until usage
reaches the percent asked; `free_disk` removes it (the runbook's "Free Disk Space",
and the revert recorded before the fill begins).
"""

from __future__ import annotations

import logging
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.revert import lab_and_ledger, revert_for
from gameday.context import run_context
from gameday.lab.extras import disk
from gameday.record.ledger import Revert

__all__ = ["ARGUMENT_CHECKS", "fill_disk", "free_disk"]
logger = logging.getLogger("gameday.chaos.disk.actions")
MODULE = __name__
NOT_STARTED = (
    "the lab's disk part is not started: declare the lab-parts control first "
    "(parts: [disk]), or run `gameday lab start disk`"
)


def _revert(configuration: Configuration | None) -> Revert:
    return revert_for(MODULE, "free_disk", configuration)


ARGUMENT_CHECKS = {"fill_disk": lambda arguments: disk.check_percent(arguments.get("percent", 95))}


def fill_disk(
    percent: float = 95, configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Fill the lab disk until its usage reaches `percent` per cent of its size (1 to 99):
    one file of zeros, written in 1 MiB chunks (bounded by the disk's size).

    A disk already that full is left as it is. On a lab that cannot mount, the disk is
    simulated (a directory with a 64 MiB quota; its metrics say `simulated="true"`).
    `free_disk` (or the rollback, recorded in the fault ledger first) removes the file.

    Returns the bytes written and the usage before and after, in per cent.
    """
    try:
        wanted = disk.check_percent(percent)
    except ValueError as exc:
        raise ActivityFailed(str(exc)) from None
    lab, ledger = lab_and_ledger(configuration)
    state = disk.read_state(lab)
    if state is None:
        raise ActivityFailed(NOT_STARTED)
    with ledger.applying(f"lab disk filled to {wanted:g}%", _revert(configuration)):
        try:
            result = disk.fill(state, wanted)
        except OSError as exc:
            raise ActivityFailed(f"could not fill {state.fill_path}: {exc}") from exc
    before, after = result.before.used_fraction * 100, result.after.used_fraction * 100
    kind = "simulated disk" if state.simulated else "tmpfs"
    detail = (
        f"filled the lab disk ({kind} at {state.path}) from {before:.1f}% to {after:.1f}% "
        f"({result.written} bytes in {state.fill_path.name})"
    )
    run_context(configuration).record(
        "fault_applied",
        detail,
        fault="fill_disk",
        percent=wanted,
        written_bytes=result.written,
        used_percent=round(after, 2),
        simulated=state.simulated,
    )
    logger.info(detail)
    return {
        "path": str(state.fill_path),
        "written_bytes": result.written,
        "used_percent_before": round(before, 2),
        "used_percent": round(after, 2),
        "simulated": state.simulated,
    }


def _used_percent(state: disk.DiskState | None) -> float | None:
    if state is None:
        return None
    try:
        return round(disk.usage(state).used_fraction * 100, 2)
    except OSError:  # the part was released meanwhile
        return None


def free_disk(configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Remove the file `fill_disk` wrote, giving its space back; idempotent (a disk part
    already released has nothing to free)."""
    lab, ledger = lab_and_ledger(configuration)
    state = disk.read_state(lab)
    freed = disk.free(state) if state is not None else 0
    ledger.clear_matching(_revert(configuration))
    detail = f"freed {freed} bytes on the lab disk" if freed else "the lab disk had no fill"
    used = _used_percent(state)
    run_context(configuration).record(
        "fault_reverted", detail, fault="fill_disk", freed_bytes=freed, used_percent=used
    )
    logger.info(detail)
    return {"freed_bytes": freed, "used_percent": used}
