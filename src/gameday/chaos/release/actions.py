"""A bad deploy on the lab's gateway, and the rollback that undoes it.

`deploy_release` rolls the gateway's replicas onto a release that fails a share of
the API requests (the release switch, `gameday.lab.release`); `rollback_release` goes
back to the release it replaced. The rollback is the fault's revert, recorded in the
fault ledger before the deploy, and the runbook's remediation ("Roll Back Release").
"""

from __future__ import annotations

import logging
import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.revert import revert_for
from gameday.context import run_context
from gameday.lab.config import LabConfig
from gameday.lab.release import Release, read_release, release_file, write_release
from gameday.targets import resolve_target

__all__ = ["ARGUMENT_CHECKS", "deploy_release", "rollback_release"]
logger = logging.getLogger("gameday.chaos.release.actions")
MODULE = __name__


def _lab(configuration: Configuration | None) -> LabConfig:
    lab = resolve_target(configuration).lab
    if lab is None:
        raise ActivityFailed("the release switch is the lab gateway's; this target is not the lab")
    return lab


def check_deploy(arguments: dict[str, Any]) -> None:
    """A deploy's arguments, checked when the experiment is validated."""
    ratio = arguments.get("error_ratio", 0.3)
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 <= ratio <= 1:
        raise ValueError(f"error_ratio is {ratio!r}: give the share of requests (0 to 1) to fail")
    release = arguments.get("release", "v2")
    if not isinstance(release, str) or not release.strip():
        raise ValueError(f"release is {release!r}: name the release, e.g. v2-bad")


ARGUMENT_CHECKS = {"deploy_release": check_deploy}


def deploy_release(
    release: str = "v2",
    error_ratio: float = 0.3,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Deploy `release` to every gateway replica: a bad one that fails `error_ratio` (0–1)
    of the API requests with HTTP 500, until `rollback_release`."""
    try:
        check_deploy({"release": release, "error_ratio": error_ratio})
    except ValueError as exc:
        raise ActivityFailed(str(exc)) from None
    lab = _lab(configuration)
    path = release_file(lab.run)
    current = read_release(path)
    if current.name == release:
        raise ActivityFailed(f"release {release!r} is already deployed; name another release")
    target = resolve_target(configuration)
    deployed = Release(
        name=release, error_ratio=float(error_ratio), deployed_at=time.time(), previous=current.name
    )
    revert = revert_for(MODULE, "rollback_release", configuration)
    with target.ledger().applying(f"gateway release {release} deployed", revert):
        write_release(path, deployed)
    detail = f"deployed gateway release {release} (fails {error_ratio:.0%} of API requests)"
    run_context(configuration).record(
        "fault_applied", detail, fault="deploy_release", release=release, replaced=current.name
    )
    logger.info(detail)
    return {"release": release, "replaced": current.name, "error_ratio": error_ratio}


def rollback_release(
    configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Roll the gateway back to the release the last deploy replaced (idempotent: nothing
    to do when no deploy is in place)."""
    lab = _lab(configuration)
    path = release_file(lab.run)
    current = read_release(path)
    rolled_back = current.previous is not None
    if rolled_back:
        # A rollback is a deploy of the previous release: the gateway reports its time.
        write_release(path, Release(name=str(current.previous), deployed_at=time.time()))
    resolve_target(configuration).ledger().clear_matching(
        revert_for(MODULE, "rollback_release", configuration)
    )
    detail = (
        f"rolled the gateway back from {current.name} to {current.previous}"
        if rolled_back
        else f"gateway release {current.name} in place; nothing to roll back"
    )
    run_context(configuration).record("fault_reverted", detail)
    return {"rolled_back": rolled_back, "release": current.previous or current.name}
