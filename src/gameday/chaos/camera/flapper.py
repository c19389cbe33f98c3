"""Flapping cameras in the background: the process `flap_cameras` starts.

It takes the chosen cameras down (supervisor stop, or SIGSTOP for a hang),
waits, brings them back, waits, `times` times; then, and also when it is sent
SIGTERM, it brings every camera back and exits. It runs as its own process so
the experiment goes on while it flaps, and so that it still restores the
cameras when the experiment's process dies. Each flap is appended to
``run/camera_flap.jsonl``.

Run as ``python -m gameday.chaos.camera.flapper --lab-dir DIR --cameras camera-0,camera-1
--times 3 --down-s 8 --up-s 8 --mode down``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypedDict

from gameday.lab.config import LabConfig, load_running_config
from gameday.lab.replica_state import is_paused
from gameday.lab.supervisor import SupervisorClient, full_name

logger = logging.getLogger("gameday.chaos.camera.flapper")
CAMERA_GROUP = "camera"
STATE_FILE = "camera_flap.json"
EVENTS_FILE = "camera_flap.jsonl"
Mode = Literal["down", "hang"]
MODES: tuple[Mode, ...] = ("down", "hang")


class FlapState(TypedDict):
    """The running flapper: written by `flap_cameras`, read by `stop_flapping`."""

    pid: int
    ticks: int | None
    cameras: list[str]
    mode: str
    times: int
    down_s: float
    up_s: float
    started_at: str


class FlapEvent(TypedDict):
    at: str
    camera: str
    state: str  # "down", "hung" or "up"
    cycle: int


def state_file(lab: LabConfig) -> Path:
    return lab.run / STATE_FILE


def events_file(lab: LabConfig) -> Path:
    return lab.run / EVENTS_FILE


def read_events(lab: LabConfig) -> list[FlapEvent]:
    try:
        lines = events_file(lab).read_text().splitlines()
    except OSError:
        return []
    events: list[FlapEvent] = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def restore_cameras(supervisor: SupervisorClient) -> list[str]:
    """Resume every paused camera and start every stopped one; return those it touched."""
    restored: list[str] = []
    for info in supervisor.processes():
        if info["group"] != CAMERA_GROUP:
            continue
        name = full_name(info)
        if info["statename"] == "RUNNING":
            if is_paused(info["pid"]):
                supervisor.signal(name, "CONT")
                restored.append(info["name"])
        elif info["statename"] not in {"STARTING"}:
            supervisor.start(name)
            restored.append(info["name"])
    return restored


class Flapper:
    def __init__(
        self,
        lab: LabConfig,
        cameras: list[str],
        *,
        times: int,
        down_s: float,
        up_s: float,
        mode: Mode,
    ) -> None:
        self.lab = lab
        self.cameras = cameras
        self.times = times
        self.down_s = down_s
        self.up_s = up_s
        self.mode = mode
        self.supervisor = SupervisorClient(lab.supervisor_url)
        self.stop = threading.Event()

    def _event(self, camera: str, state: str, cycle: int) -> None:
        event = FlapEvent(at=datetime.now(UTC).isoformat(), camera=camera, state=state, cycle=cycle)
        with events_file(self.lab).open("a") as record:
            record.write(json.dumps(event) + "\n")

    def _take_down(self, cycle: int) -> None:
        for camera in self.cameras:
            name = f"{CAMERA_GROUP}:{camera}"
            if self.mode == "down":
                self.supervisor.stop(name)
                self._event(camera, "down", cycle)
            else:
                self.supervisor.signal(name, "STOP")
                self._event(camera, "hung", cycle)

    def _bring_back(self, cycle: int) -> None:
        for camera in self.cameras:
            name = f"{CAMERA_GROUP}:{camera}"
            if self.mode == "down":
                self.supervisor.start(name, wait=False)
            else:
                self.supervisor.signal(name, "CONT")
            self._event(camera, "up", cycle)

    def run(self) -> None:
        try:
            for cycle in range(1, self.times + 1):
                if self.stop.is_set():
                    break
                self._take_down(cycle)
                self.stop.wait(self.down_s)
                self._bring_back(cycle)
                if cycle < self.times:
                    self.stop.wait(self.up_s)
        finally:
            restore_cameras(self.supervisor)
            logger.info("flapping over; every camera restored")


def main() -> None:
    parser = argparse.ArgumentParser(description="flap gameday lab cameras")
    parser.add_argument("--lab-dir", type=Path, required=True)
    parser.add_argument("--cameras", required=True)
    parser.add_argument("--times", type=int, required=True)
    parser.add_argument("--down-s", type=float, required=True)
    parser.add_argument("--up-s", type=float, required=True)
    parser.add_argument("--mode", choices=MODES, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    lab = load_running_config(args.lab_dir)
    flapper = Flapper(
        lab,
        args.cameras.split(","),
        times=args.times,
        down_s=args.down_s,
        up_s=args.up_s,
        mode=args.mode,
    )

    def stop(*_: object) -> None:
        flapper.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    flapper.run()
    # Forget the state only if it is still ours (a new flapper may have replaced it).
    path = state_file(lab)
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    main()
