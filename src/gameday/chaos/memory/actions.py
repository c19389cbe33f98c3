"""Memory pressure on the lab's memory worker, paired with its revert in the fault ledger.

`grow_working_set` asks the memory worker (the lab's `memory` part) to grow its
working set to a share of its memory limit, and waits until it is there: the
container's working set / limit ratio, as cAdvisor reports it, is what the memory
alerts watch. `release_memory` (the runbook's "Relieve Memory Pressure", and the
revert recorded first) returns the worker to its baseline; a worker that does not
answer is restarted, which frees its memory too. The worker never grows past 97 %
of its limit, so the kernel's OOM killer never acts on it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.revert import lab_and_ledger, revert_for, wait_until_running
from gameday.context import run_context
from gameday.lab.config import LabConfig
from gameday.lab.extras.memory import GROUP
from gameday.lab.memory_worker import MAX_FRACTION, MIB, POD
from gameday.lab.supervisor import SupervisorClient

__all__ = ["ARGUMENT_CHECKS", "grow_working_set", "release_memory"]
logger = logging.getLogger("gameday.chaos.memory.actions")
MODULE = __name__
REQUEST_TIMEOUT_S = 3.0
RELEASE_TIMEOUT_S = 15.0
POLL_S = 0.2
MAX_PERCENT = MAX_FRACTION * 100


def _check_growth(arguments: dict[str, Any]) -> None:
    percent = arguments.get("percent", 97)
    if isinstance(percent, bool) or not isinstance(percent, int | float):
        raise ValueError(f"percent is {percent!r}: give a number above 0, at most {MAX_PERCENT:g}")
    if not 0 < percent <= MAX_PERCENT:
        raise ValueError(
            f"percent is {percent:g}: choose 0 < percent <= {MAX_PERCENT:g} (the worker never "
            "grows closer to its limit, so the kernel's OOM killer never acts on it)"
        )


ARGUMENT_CHECKS = {"grow_working_set": _check_growth}


def _url(lab: LabConfig) -> str:
    return lab.url(lab.ports.memory_hog, "/working-set")


def _call(lab: LabConfig, method: str, body: dict[str, float] | None = None) -> dict[str, Any]:
    response = requests.request(method, _url(lab), json=body, timeout=REQUEST_TIMEOUT_S)
    if response.status_code != 200:
        raise ActivityFailed(f"the memory worker refused {method} {body}: {response.text}")
    document: dict[str, Any] = response.json()
    return document


def _state(lab: LabConfig) -> dict[str, Any] | None:
    """The worker's state; None when it does not answer."""
    try:
        return _call(lab, "GET")
    except (requests.RequestException, ValueError):
        return None


def _settle(lab: LabConfig, within_s: float) -> tuple[dict[str, Any] | None, float]:
    """Poll until the worker reached its target (or `within_s` passed): its last state and
    how long that took."""
    started = time.monotonic()
    state = _state(lab)
    while time.monotonic() - started < within_s and not (state and state["settled"]):
        time.sleep(POLL_S)
        state = _state(lab)
    return state, time.monotonic() - started


def _described(state: dict[str, Any]) -> str:
    where = (
        f"cgroup v{state['cgroup_version']}"
        if not state["simulated"]
        else "simulated: no memory cgroup"
    )
    return (
        f"working set {state['working_set_bytes'] / MIB:.0f} MiB = {state['ratio']:.1%} of its "
        f"{state['limit_bytes'] / MIB:.0f} MiB limit ({where})"
    )


def grow_working_set(
    percent: float = 97,
    within_s: float = 30,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Grow the memory worker's working set to `percent` of its memory limit (at most 97,
    so the OOM killer never acts) and wait, up to `within_s` seconds, until it is there.

    The worker grows at most 64 MiB a second. At 97 both MemoryPressure (> 90 %) and
    MemoryExhaustion (> 95 %) fire; at 92, MemoryPressure only. Needs the lab's
    `memory` part running (the experiment's lab-parts control, or
    `gameday lab start memory`). `release_memory` (or the rollback, recorded in the
    fault ledger first) relieves it.

    Returns the working set reached, the limit, and whether the limit is simulated.
    """
    if not 0 < percent <= MAX_PERCENT:
        raise ActivityFailed(
            f"percent is {percent:g}: choose 0 < percent <= {MAX_PERCENT:g} (the worker never "
            "grows past that, so the kernel's OOM killer never acts on it)"
        )
    if within_s <= 0:
        raise ActivityFailed(f"within_s is {within_s:g}: give the worker some seconds to grow")
    lab, ledger = lab_and_ledger(configuration)
    if _state(lab) is None:
        raise ActivityFailed(
            f"the memory worker does not answer on {_url(lab)}: start the lab's memory part "
            "(a lab-parts control with parts: [memory], or `gameday lab start memory`)"
        )
    revert = revert_for(MODULE, "release_memory", configuration)
    with ledger.applying(f"memory worker grown to {percent:g}% of its limit", revert):
        _call(lab, "PUT", {"percent_of_limit": float(percent)})
        state, took = _settle(lab, within_s)
        if state is None or not state["settled"]:
            shown = _described(state) if state else "no answer"
            raise ActivityFailed(
                f"the memory worker did not reach {percent:g}% of its limit within "
                f"{within_s:g}s: {shown}"
            )
        if state.get("error"):
            raise ActivityFailed(f"the memory worker could not grow: {state['error']}")
    detail = f"memory worker grown in {took:.1f}s: {_described(state)}"
    run_context(configuration).record(
        "fault_applied",
        detail,
        fault="grow_working_set",
        percent=percent,
        working_set_bytes=state["working_set_bytes"],
        limit_bytes=state["limit_bytes"],
        simulated=state["simulated"],
    )
    logger.info(detail)
    return {
        "working_set_bytes": state["working_set_bytes"],
        "limit_bytes": state["limit_bytes"],
        "ratio": state["ratio"],
        "simulated": state["simulated"],
        "grew_in_s": round(took, 2),
    }


def _restart_worker(lab: LabConfig) -> str:
    """Restart a worker that does not answer (a fresh one starts at its baseline)."""
    supervisor = SupervisorClient(lab.supervisor_url)
    if not supervisor.reachable():
        return "the lab is not running: no memory worker holds memory"
    try:
        info = supervisor.process(f"{GROUP}:{POD}")
    except Exception:  # the part is not configured in this lab
        return "the lab has no memory worker: nothing to release"
    if info["statename"] not in {"RUNNING", "STARTING", "BACKOFF"}:
        return "the memory worker is not running: nothing to release"
    supervisor.signal(f"{GROUP}:{POD}", "CONT")  # a paused one would not stop
    supervisor.stop(f"{GROUP}:{POD}")
    supervisor.start(f"{GROUP}:{POD}")
    wait_until_running(supervisor, GROUP, "the memory worker")
    return "restarted the memory worker, which did not answer (it starts at its baseline)"


def release_memory(configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Return the memory worker to its baseline working set (the runbook's "Relieve Memory
    Pressure"); restart it when it does not answer. Idempotent."""
    lab, ledger = lab_and_ledger(configuration)
    ratio: float | None = None
    if _state(lab) is None:
        detail = _restart_worker(lab)
    else:
        _call(lab, "DELETE")
        state, took = _settle(lab, RELEASE_TIMEOUT_S)
        if state is None or not state["settled"]:
            raise ActivityFailed(
                f"the memory worker did not shrink within {RELEASE_TIMEOUT_S:g}s: "
                + (_described(state) if state else "no answer")
            )
        ratio = state["ratio"]
        detail = f"memory worker back at its baseline in {took:.1f}s: {_described(state)}"
    ledger.clear_matching(revert_for(MODULE, "release_memory", configuration))
    run_context(configuration).record("fault_reverted", detail, fault="grow_working_set")
    logger.info(detail)
    return {"ratio": ratio, "detail": detail}
