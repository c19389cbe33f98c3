"""Latency faults: add a delay (with jitter) to every round trip to Redis or etcd, until removed.

The lab's opt-in part `latency` runs a TCP proxy in front of Redis and the etcd
members; the gateway's quota check (``GET /api/quota/{tenant}/check``) reads
Redis through it and exports ``metering_quota_check_duration_seconds``. These
faults set and clear the proxy's delay through its control endpoint. Start the
part first: the experiment's `lab-parts` control with ``parts: [latency]``, or
``gameday lab up --with latency``.

`inject_latency` records `remove_latency` in the fault ledger before the delay
takes effect; `remove_latency` is idempotent and works with the proxy down too
(it then clears the proxy's state file, so a restarted proxy adds nothing).
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.revert import revert_for
from gameday.context import run_context
from gameday.lab.config import LabConfig
from gameday.lab.latency_proxy import (
    DEPENDENCIES,
    Delay,
    clear_state,
    read_state,
    state_file,
)
from gameday.record.ledger import Revert
from gameday.targets import Target, resolve_target

__all__ = ["ARGUMENT_CHECKS", "inject_latency", "remove_latency"]
logger = logging.getLogger("gameday.chaos.latency.actions")
MODULE = __name__
REQUEST_TIMEOUT_S = 3.0
START_HINT = (
    "start the lab's opt-in part `latency` first: the experiment's lab-parts control "
    "with parts: [latency], or `gameday lab up --with latency`"
)


def _lab(target: Target) -> LabConfig:
    if target.lab is None:
        raise ActivityFailed("latency faults need the gameday lab; none is configured")
    return target.lab


def _control(lab: LabConfig) -> str:
    return lab.url(lab.ports.latency_control, "/state")


def _check_dependency(dependency: str) -> None:
    if dependency not in DEPENDENCIES:
        raise ActivityFailed(
            f"dependency is {dependency!r}: the latency proxy fronts {', '.join(DEPENDENCIES)}"
        )


def _check_injection(arguments: dict[str, Any]) -> None:
    try:
        _check_dependency(arguments.get("dependency", "redis"))
        Delay(float(arguments.get("delay_ms", 300.0)), float(arguments.get("jitter_ms", 0.0)))
    except ActivityFailed as exc:
        raise ValueError(str(exc)) from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad latency: {exc}") from None


ARGUMENT_CHECKS = {"inject_latency": _check_injection, "remove_latency": _check_injection}


def _revert(dependency: str, configuration: Configuration | None) -> Revert:
    return revert_for(MODULE, "remove_latency", configuration, dependency=dependency)


def inject_latency(
    dependency: str = "redis",
    delay_ms: float = 300.0,
    jitter_ms: float = 0.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Add `delay_ms` ± `jitter_ms` (uniform) to every round trip to a lab dependency.

    `dependency` is `redis` or `etcd` (every member). The delay holds each
    request a client sends through the lab's latency proxy, open connections
    included, so each round trip takes that much longer; `jitter_ms` (at most
    `delay_ms`) spreads it uniformly. Only clients that go through the proxy
    feel it: the gateway's quota check and quota limit routes. It stays until
    `remove_latency` (or the rollback, recorded in the fault ledger first).

    Returns the delay in force.
    """
    _check_dependency(dependency)
    try:
        delay = Delay(float(delay_ms), float(jitter_ms))
    except (TypeError, ValueError) as exc:
        raise ActivityFailed(f"bad latency: {exc}") from None
    if not delay.active:
        raise ActivityFailed("delay_ms is 0: give the latency to add, e.g. delay_ms: 300")
    target = resolve_target(configuration)
    lab = _lab(target)
    url = _control(lab)
    revert = _revert(dependency, configuration)
    fault = f"{delay.delay_ms:g}ms ± {delay.jitter_ms:g}ms latency on {dependency}"
    with target.ledger().applying(fault, revert):
        try:
            response = requests.put(
                url, json={"dependency": dependency, **delay.as_dict()}, timeout=REQUEST_TIMEOUT_S
            )
        except requests.RequestException as exc:
            raise ActivityFailed(
                f"the lab's latency proxy at {url} does not answer ({type(exc).__name__}): "
                + START_HINT
            ) from exc
        if not response.ok:
            raise ActivityFailed(f"the latency proxy refused the delay: {response.text[:200]}")
        in_force = response.json().get("latency", {}).get(dependency)
        if in_force != delay.as_dict():
            raise ActivityFailed(f"the latency proxy reports {in_force} for {dependency}")
    detail = f"added {fault}"
    run_context(configuration).record(
        "fault_applied",
        detail,
        fault="inject_latency",
        dependency=dependency,
        delay_ms=delay.delay_ms,
        jitter_ms=delay.jitter_ms,
    )
    logger.info(detail)
    return {"dependency": dependency, **delay.as_dict()}


def remove_latency(
    dependency: str = "redis", configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Remove the latency added to a lab dependency (`redis` or `etcd`); idempotent.

    The revert of `inject_latency`, and the runbook's "Remove Injected Latency".
    With the latency proxy down it clears the proxy's state file instead, so the
    proxy adds nothing when it starts again.

    Returns the delay that was removed (0 when there was none).
    """
    _check_dependency(dependency)
    target = resolve_target(configuration)
    lab = _lab(target)
    url = _control(lab)
    before: dict[str, Any] = {}
    try:
        before = requests.get(url, timeout=REQUEST_TIMEOUT_S).json()["latency"][dependency]
        response = requests.delete(
            url, params={"dependency": dependency}, timeout=REQUEST_TIMEOUT_S
        )
        reached = response.ok
    except (requests.RequestException, ValueError, KeyError, TypeError):
        reached = False
    if not reached:
        # Down (or not answering): the proxy reads this file when it starts, and when it
        # changes while it runs.
        path = state_file(lab.run)
        before = read_state(path)[dependency].as_dict()
        clear_state(path, dependency)
    target.ledger().clear_matching(_revert(dependency, configuration))
    removed = float(before.get("delay_ms", 0)) if before else 0.0
    detail = (
        f"removed the latency on {dependency} ({removed:g}ms)"
        if removed
        else f"no latency on {dependency} to remove"
    )
    if not reached:
        detail += " (proxy not answering: cleared its state file)"
    run_context(configuration).record(
        "fault_reverted", detail, fault="inject_latency", dependency=dependency
    )
    logger.info(detail)
    return {"dependency": dependency, "removed_delay_ms": removed, "proxy_answered": reached}
