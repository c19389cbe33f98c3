"""Faults on the lab's supervised parts, each paired with its revert in the fault ledger.

A killed replica is restarted by the supervisor like a Deployment's pod; a
replica kept down stays stopped until restored. Stopping a service (Redis down)
and pausing it (Redis hang: SIGSTOP, clients hang) are reverted by starting and
resuming it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.revert import revert_for, wait_until_running
from gameday.context import run_context
from gameday.lab.replica_state import is_paused
from gameday.lab.supervisor import ProcessInfo, SupervisorClient, full_name
from gameday.record.ledger import Revert
from gameday.targets import resolve_target

__all__ = [
    "kill_replicas",
    "pause_service",
    "restore_replicas",
    "resume_service",
    "start_service",
    "stop_service",
]
logger = logging.getLogger("gameday.chaos.lab.actions")
MODULE = __name__


def _replicas(supervisor: SupervisorClient, deployment: str) -> list[ProcessInfo]:
    found = [info for info in supervisor.processes() if info["group"] == deployment]
    if not found:
        groups = sorted({info["group"] for info in supervisor.processes()})
        raise ActivityFailed(
            f"the lab has no part named {deployment!r}; its parts: {', '.join(groups)}"
        )
    return sorted(found, key=lambda info: info["name"])


def _revert(func: str, configuration: Configuration | None, **arguments: Any) -> Revert:
    return revert_for(MODULE, func, configuration, **arguments)


def kill_replicas(
    deployment: str = "gateway",
    count: int = 1,
    keep_down: bool = False,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Kill `count` running replicas of a lab part (SIGKILL, like a crashed pod).

    The supervisor restarts killed replicas at once, as a Deployment would. With
    `keep_down: true` the replicas are stopped instead and stay down until
    `restore_replicas` (or the rollback) starts them again: use it to hold an
    outage long enough for an alert's `for:` window.

    Returns the names and PIDs of the replicas it took down.
    """
    target = resolve_target(configuration)
    supervisor = target.supervisor()
    running = [i for i in _replicas(supervisor, deployment) if i["statename"] == "RUNNING"]
    if count < 1 or count > len(running):
        raise ActivityFailed(
            f"cannot kill {count} replicas of {deployment!r}: {len(running)} are running"
        )
    victims = list(reversed(running))[:count]
    names = [full_name(info) for info in victims]
    if keep_down:
        revert = _revert("restore_replicas", configuration, deployment=deployment)
        with target.ledger().applying(f"{count} {deployment} replicas kept down", revert):
            for name in names:
                supervisor.stop(name)
    else:
        for name in names:
            supervisor.signal(name, "KILL")
    detail = f"{'stopped' if keep_down else 'killed'} {', '.join(names)}"
    run_context(configuration).record(
        "fault_applied", detail, fault="kill_replicas", replicas=names
    )
    logger.info(detail)
    return {"replicas": names, "pids": [info["pid"] for info in victims], "kept_down": keep_down}


def restore_replicas(
    deployment: str = "gateway", configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Start every stopped replica of a lab part and resume paused ones (idempotent)."""
    target = resolve_target(configuration)
    supervisor = target.supervisor()
    restored: list[str] = []
    for info in _replicas(supervisor, deployment):
        name = full_name(info)
        if info["statename"] == "RUNNING":
            if is_paused(info["pid"]):
                supervisor.signal(name, "CONT")
                restored.append(name)
            continue
        if info["statename"] not in {"STARTING"}:
            supervisor.start(name)
            restored.append(name)
    wait_until_running(supervisor, deployment, f"{deployment} replicas")
    ledger = target.ledger()
    ledger.clear_matching(_revert("restore_replicas", configuration, deployment=deployment))
    ledger.clear_matching(_revert("start_service", configuration, service=deployment))
    ledger.clear_matching(_revert("resume_service", configuration, service=deployment))
    done = ", ".join(restored) or "nothing to do"
    run_context(configuration).record("fault_reverted", f"restored {deployment}: {done}")
    return {"restored": restored}


def _on_every_replica(
    service: str,
    configuration: Configuration | None,
    *,
    done: str,
    fault: str,
    revert_func: str,
    act: Callable[[SupervisorClient, str], None],
) -> list[str]:
    """Apply `act` to every replica of a lab part, its revert recorded first."""
    target = resolve_target(configuration)
    supervisor = target.supervisor()
    names = [full_name(info) for info in _replicas(supervisor, service)]
    revert = _revert(revert_func, configuration, service=service)
    with target.ledger().applying(f"{service} {done}", revert):
        for name in names:
            act(supervisor, name)
    run_context(configuration).record(
        "fault_applied", f"{done} {service}", fault=fault, service=service
    )
    return names


def stop_service(
    service: str, configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Stop every replica of a lab part (e.g. `redis`: Redis down) until `start_service`."""
    names = _on_every_replica(
        service,
        configuration,
        done="stopped",
        fault="stop_service",
        revert_func="start_service",
        act=lambda supervisor, name: supervisor.stop(name),
    )
    return {"stopped": names}


def start_service(
    service: str, configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Start (and resume) every replica of a lab part; the revert of stop and pause."""
    result = restore_replicas(deployment=service, configuration=configuration)
    return {"started": result["restored"]}


def pause_service(
    service: str, configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Pause every replica of a lab part with SIGSTOP (e.g. Redis hang: clients time out)."""
    names = _on_every_replica(
        service,
        configuration,
        done="paused",
        fault="pause_service",
        revert_func="resume_service",
        act=lambda supervisor, name: supervisor.signal(name, "STOP"),
    )
    return {"paused": names}


def resume_service(
    service: str, configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Resume (SIGCONT) every paused replica of a lab part; the revert of `pause_service`."""
    result = restore_replicas(deployment=service, configuration=configuration)
    return {"resumed": result["restored"]}
