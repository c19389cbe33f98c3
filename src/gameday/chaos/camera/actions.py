"""Camera faults: RTSP cameras flapping (going offline, or hanging) while the experiment runs.

The lab's four cameras (`camera-0` … `camera-3`) are RTSP servers, one process
each, read by the vision worker. `flap_cameras` flaps some of them in the
background and returns at once; `stop_flapping` (or the rollback, recorded in
the fault ledger before the first flap) stops it and brings every camera
back. The flapping process also restores the cameras by itself when its
cycles are over.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.camera.flapper import (
    CAMERA_GROUP,
    MODES,
    FlapState,
    events_file,
    read_events,
    restore_cameras,
    state_file,
)
from gameday.chaos.revert import lab_and_ledger, revert_for, wait_until_running
from gameday.context import run_context
from gameday.lab import processes
from gameday.lab.config import LabConfig
from gameday.lab.supervisor import SupervisorClient

__all__ = ["flap_cameras", "stop_flapping"]
logger = logging.getLogger("gameday.chaos.camera.actions")
MODULE = __name__
MAX_FLAP_S = 900.0
STOP_GRACE_S = 10.0


def _camera_names(supervisor: SupervisorClient) -> list[str]:
    return sorted(i["name"] for i in supervisor.processes() if i["group"] == CAMERA_GROUP)


def _choose(available: list[str], cameras: list[str] | None, count: int) -> list[str]:
    if cameras:
        chosen = [c if c.startswith("camera-") else f"camera-{c}" for c in map(str, cameras)]
        unknown = [c for c in chosen if c not in available]
        if unknown:
            raise ActivityFailed(
                f"unknown cameras {', '.join(unknown)}; the lab has {', '.join(available)}"
            )
        return list(dict.fromkeys(chosen))
    if not 1 <= count <= len(available):
        raise ActivityFailed(f"count is {count}: choose between 1 and {len(available)} cameras")
    return available[:count]


def _running_flapper(lab: LabConfig) -> FlapState | None:
    try:
        state: FlapState = json.loads(state_file(lab).read_text())
    except (OSError, ValueError):
        return None
    if processes.start_ticks(state["pid"]) != state["ticks"] or not processes.alive(state["pid"]):
        return None
    return state


def flap_cameras(
    cameras: list[str] | None = None,
    count: int = 1,
    times: int = 3,
    period_s: float = 16.0,
    down_fraction: float = 0.5,
    mode: str = "down",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Flap RTSP cameras in the background: down, back, down, back … `times` times.

    `cameras` names them (`camera-0` … `camera-3`, or `0` … `3`); without it,
    the first `count` cameras flap. Each cycle lasts `period_s` seconds, of
    which the cameras are down for `down_fraction` (default: 8 s down, 8 s
    up). `mode` is `down` (the camera process is stopped: connections are
    refused, as when a camera loses power) or `hang` (the process is paused
    with SIGSTOP: connections stay open and no frame comes, as when a camera's
    firmware hangs).

    Returns at once; the flapping goes on while the experiment continues.
    `stop_flapping` (or the rollback) ends it at any time and brings every
    camera back; so does the end of the last cycle.
    """
    if mode not in MODES:
        raise ActivityFailed(f"mode is {mode!r}: use one of {', '.join(MODES)}")
    if times < 1 or period_s <= 0 or not 0 < down_fraction < 1:
        raise ActivityFailed(
            "flap at least once (times >= 1), with period_s > 0 and 0 < down_fraction < 1"
        )
    if times * period_s > MAX_FLAP_S:
        raise ActivityFailed(
            f"{times} flaps of {period_s:g}s last longer than {MAX_FLAP_S:.0f}s: flap less"
        )
    lab, ledger = lab_and_ledger(configuration)
    supervisor = SupervisorClient(lab.supervisor_url)
    chosen = _choose(_camera_names(supervisor), cameras, count)
    running = _running_flapper(lab)
    if running is not None:
        raise ActivityFailed(
            f"cameras {', '.join(running['cameras'])} are already flapping "
            f"(pid {running['pid']}): call stop_flapping first"
        )
    down_s = round(period_s * down_fraction, 3)
    up_s = round(period_s - down_s, 3)
    revert = revert_for(MODULE, "stop_flapping", configuration)
    events_file(lab).unlink(missing_ok=True)
    with ledger.applying(f"cameras {', '.join(chosen)} flapping ({mode})", revert):
        with (lab.logs / "camera-flapper.log").open("ab") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gameday.chaos.camera.flapper",
                    "--lab-dir",
                    str(lab.directory),
                    "--cameras",
                    ",".join(chosen),
                    "--times",
                    str(times),
                    "--down-s",
                    str(down_s),
                    "--up-s",
                    str(up_s),
                    "--mode",
                    mode,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        state = FlapState(
            pid=process.pid,
            ticks=processes.start_ticks(process.pid),
            cameras=chosen,
            mode=mode,
            times=times,
            down_s=down_s,
            up_s=up_s,
            started_at=datetime.now(UTC).isoformat(),
        )
        state_file(lab).write_text(json.dumps(state))
        # The first flap is under way once the flapper wrote it: the fault is then applied.
        deadline = time.monotonic() + 10.0
        while not read_events(lab):
            if process.poll() is not None:
                raise ActivityFailed(
                    f"the camera flapper exited with code {process.returncode}: "
                    f"see {lab.logs / 'camera-flapper.log'}"
                )
            if time.monotonic() > deadline:
                raise ActivityFailed("the camera flapper did not take the cameras down in 10s")
            time.sleep(0.05)
    detail = f"flapping {', '.join(chosen)} ({mode}): {times} x ({down_s:g}s down, {up_s:g}s up)"
    run_context(configuration).record(
        "fault_applied",
        detail,
        fault="flap_cameras",
        cameras=chosen,
        mode=mode,
        times=times,
        down_s=down_s,
        up_s=up_s,
    )
    logger.info(detail)
    return {
        "cameras": chosen,
        "mode": mode,
        "times": times,
        "down_s": down_s,
        "up_s": up_s,
        "pid": process.pid,
        "ends_in_s": round(times * period_s - up_s, 1),
    }


def stop_flapping(configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Stop flapping cameras and bring every camera back (start, or resume). Idempotent.

    Waits until every camera process runs again (fails after 15 s otherwise).
    Returns which cameras it had to restore and every flap that happened
    (camera, down/hung/up, when).
    """
    lab, ledger = lab_and_ledger(configuration)
    running = _running_flapper(lab)
    stopped = False
    if running is not None:
        processes.terminate([running["pid"]], grace_s=STOP_GRACE_S)
        stopped = True
    supervisor = SupervisorClient(lab.supervisor_url)
    restored = restore_cameras(supervisor)
    wait_until_running(supervisor, CAMERA_GROUP, "cameras")
    state_file(lab).unlink(missing_ok=True)
    ledger.clear_matching(revert_for(MODULE, "stop_flapping", configuration))
    events = read_events(lab)
    detail = ("stopped flapping cameras" if stopped else "cameras were not flapping any more") + (
        f"; restored {', '.join(restored)}" if restored else ""
    )
    run_context(configuration).record(
        "fault_reverted", detail, fault="flap_cameras", restored=restored
    )
    logger.info(detail)
    return {"stopped_flapper": stopped, "restored": restored, "flaps": events}
