"""What a container is doing, as Docker reports it."""

from __future__ import annotations

from chaoslib.types import Configuration, Secrets

from gameday.chaos.containers import engine
from gameday.context import run_context

__all__ = ["container_running"]


def container_running(
    name: str, configuration: Configuration = None, secrets: Secrets = None
) -> bool:
    """Whether the container runs (and is not paused)."""
    context = run_context(configuration)
    current = engine.state(engine.container(context.target.docker_host, name))
    return bool(current.get("Running")) and not current.get("Paused")
