"""Container faults, through the Docker SDK: each checks the target's `allow`, records
its revert in the target's fault ledger before it is applied, and records the fault.

    - type: action
      name: redis down
      provider:
        type: python
        module: gameday.chaos.containers.actions
        func: stop_container
        arguments: {name: shop-redis}

`kill_container` leaves what happens next to the container's restart policy (like
a pod's); the revert makes sure it runs at the end. `pause_container` hangs it,
`disconnect_network` partitions it from the others on a network.
"""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from docker.errors import DockerException

from gameday.chaos.containers import engine
from gameday.context import RunContext, run_context
from gameday.record.ledger import Revert

__all__ = [
    "disconnect_network",
    "kill_container",
    "pause_container",
    "reconnect_network",
    "restart_container",
    "start_container",
    "stop_container",
    "unpause_container",
]
ENGINE = engine.__name__


def _checked(context: RunContext, name: str) -> None:
    target = context.target
    if target.kind != "containers":
        raise ActivityFailed(
            f"container faults need a containers target; target {target.name!r} is {target.kind}"
        )
    if not target.allows(f"container:{name}"):
        raise ActivityFailed(
            f"container {name!r} is outside target {target.name!r}'s allow list "
            f"({', '.join(target.allow)})"
        )


def _revert(func: str, context: RunContext, **arguments: Any) -> Revert:
    return Revert(
        module=ENGINE,
        func=func,
        arguments={**arguments, "docker_host": context.target.docker_host},
    )


def _apply(
    context: RunContext, name: str, fault: str, revert: Revert, apply: Any, **data: object
) -> dict[str, Any]:
    _checked(context, name)
    found = engine.container(context.target.docker_host, name)
    try:
        with context.target.ledger().applying(f"{fault} ({name})", revert):
            apply(found)
    except DockerException as exc:
        raise ActivityFailed(f"{fault} failed for {name!r}: {exc}") from exc
    context.record("fault_applied", f"{fault}: {name}", fault=fault, container=name, **data)
    return {"container": name, "fault": fault}


def _reverted(context: RunContext, name: str, revert: Revert, what: str) -> dict[str, Any]:
    _checked(context, name)
    engine_func = getattr(engine, revert["func"])
    engine_func(**revert["arguments"])
    context.target.ledger().clear_matching(revert)
    context.record("fault_reverted", f"{what}: {name}", container=name)
    return {"container": name, "reverted": what}


def stop_container(
    name: str, timeout_s: float = 10, configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Stop the container (SIGTERM, then SIGKILL after `timeout_s`): the service is down
    until `start_container` or the revert."""
    context = run_context(configuration)
    revert = _revert("ensure_running", context, name=name)
    return _apply(
        context, name, "container stopped", revert, lambda c: c.stop(timeout=int(timeout_s))
    )


def start_container(
    name: str, configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Start the container again (the remediation, or the rollback of a stop or kill)."""
    context = run_context(configuration)
    return _reverted(context, name, _revert("ensure_running", context, name=name), "started")


def kill_container(
    name: str, signal: str = "SIGKILL", configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Kill the container's main process with `signal`: its restart policy decides what
    happens next, like a crashed pod's; the revert makes sure it runs again."""
    context = run_context(configuration)
    revert = _revert("ensure_running", context, name=name)
    return _apply(
        context, name, "container killed", revert, lambda c: c.kill(signal=signal), signal=signal
    )


def restart_container(
    name: str, timeout_s: float = 10, configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Restart the container (stop, then start): a short outage."""
    context = run_context(configuration)
    revert = _revert("ensure_running", context, name=name)
    return _apply(
        context, name, "container restarted", revert, lambda c: c.restart(timeout=int(timeout_s))
    )


def pause_container(
    name: str, configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Freeze every process of the container (a hang: connections stay open, nothing
    answers) until `unpause_container` or the revert."""
    context = run_context(configuration)
    revert = _revert("ensure_unpaused", context, name=name)
    return _apply(context, name, "container paused", revert, lambda c: c.pause())


def unpause_container(
    name: str, configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    context = run_context(configuration)
    return _reverted(context, name, _revert("ensure_unpaused", context, name=name), "unpaused")


def disconnect_network(
    name: str, network: str, configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Partition the container from the others on `network` (disconnect it); the revert
    connects it again with the same aliases."""
    context = run_context(configuration)
    found = engine.container(context.target.docker_host, name)
    networks = (found.attrs.get("NetworkSettings") or {}).get("Networks") or {}
    if network not in networks:
        raise ActivityFailed(f"container {name!r} is not on network {network!r}")
    short_id = (found.id or "")[:12]  # Docker adds it as an alias itself
    aliases = [a for a in networks[network].get("Aliases") or [] if a != short_id]
    revert = _revert("ensure_connected", context, name=name, network=network, aliases=aliases)
    client = engine.client(context.target.docker_host)
    return _apply(
        context,
        name,
        "container partitioned",
        revert,
        lambda c: client.networks.get(network).disconnect(c),
        network=network,
    )


def reconnect_network(
    name: str, network: str, configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Connect the container to `network` again, with the aliases it had."""
    context = run_context(configuration)
    entries = [
        e
        for e in context.target.ledger().entries()
        if e["revert"]["func"] == "ensure_connected"
        and e["revert"]["arguments"].get("name") == name
        and e["revert"]["arguments"].get("network") == network
    ]
    aliases = entries[0]["revert"]["arguments"].get("aliases") if entries else None
    revert = _revert("ensure_connected", context, name=name, network=network, aliases=aliases)
    return _reverted(context, name, revert, f"reconnected to {network}")
