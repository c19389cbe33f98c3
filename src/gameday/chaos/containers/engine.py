"""The Docker engine of a containers target, through the Docker SDK, and the reverts the
fault ledger runs: module-level functions whose arguments are plain values, so a later
run (or `gameday recover`) can run them without this run's context."""

from __future__ import annotations

import time
from typing import Any

import docker
from chaoslib.exceptions import ActivityFailed
from docker.errors import DockerException, NotFound
from docker.models.containers import Container

START_TIMEOUT_S = 30.0


def client(docker_host: str | None) -> docker.DockerClient:
    """The engine at `docker_host`, else the one $DOCKER_HOST (or the local socket) names."""
    try:
        if docker_host:
            return docker.DockerClient(base_url=docker_host)
        return docker.from_env()
    except DockerException as exc:
        raise ActivityFailed(f"no Docker engine at {docker_host or '$DOCKER_HOST'}: {exc}") from exc


def container(docker_host: str | None, name: str) -> Container:
    try:
        found: Container = client(docker_host).containers.get(name)
    except NotFound as exc:
        raise ActivityFailed(f"no container named {name!r}") from exc
    except DockerException as exc:
        raise ActivityFailed(f"the Docker engine did not answer for {name!r}: {exc}") from exc
    return found


def state(found: Container) -> dict[str, Any]:
    found.reload()
    current: dict[str, Any] = found.attrs.get("State") or {}
    return current


def ensure_running(name: str, docker_host: str | None = None) -> None:
    """Revert of stop/kill/restart: running (and not paused) again, whatever the restart
    policy did; waits until Docker reports it running."""
    found = container(docker_host, name)
    current = state(found)
    if current.get("Paused"):
        found.unpause()
    elif not current.get("Running"):
        found.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not state(found).get("Running"):
        if time.monotonic() > deadline:
            raise ActivityFailed(f"container {name!r} did not run within {START_TIMEOUT_S:g}s")
        time.sleep(0.2)


def ensure_unpaused(name: str, docker_host: str | None = None) -> None:
    found = container(docker_host, name)
    if state(found).get("Paused"):
        found.unpause()


def ensure_connected(
    name: str, network: str, aliases: list[str] | None = None, docker_host: str | None = None
) -> None:
    """Revert of a partition: the container is on `network` again, with its aliases."""
    found = container(docker_host, name)
    if network in (found.attrs.get("NetworkSettings") or {}).get("Networks", {}):
        return
    try:
        client(docker_host).networks.get(network).connect(found, aliases=aliases or None)
    except DockerException as exc:
        raise ActivityFailed(f"could not reconnect {name!r} to {network!r}: {exc}") from exc
