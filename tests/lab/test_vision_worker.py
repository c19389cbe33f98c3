"""The vision worker's pure parts: reconnect backoff, frame-gap watchdog, latest-frame mailbox."""

from __future__ import annotations

import ast
from pathlib import Path

from gameday.lab import camera
from gameday.lab.parts import camera_script
from gameday.lab.vision import Backoff, FrameWatchdog, LatestFrame


def test_backoff_doubles_up_to_its_maximum_and_resets() -> None:
    backoff = Backoff(initial_s=0.2, factor=2, maximum_s=1.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    backoff.reset()
    assert backoff.next_delay() == 0.2


def test_the_watchdog_expires_after_a_frame_gap_and_counts_from_the_connection() -> None:
    watchdog = FrameWatchdog(gap_s=2.0, started=100.0)
    assert not watchdog.expired(101.0)
    assert watchdog.expired(102.5)  # connected, never a frame
    watchdog.connected(110.0)
    assert not watchdog.expired(111.0) and not watchdog.streaming(111.0)
    watchdog.frame(111.0)
    assert watchdog.streaming(111.5)
    assert watchdog.age(112.0) == 1.0
    assert not watchdog.expired(112.9)
    assert watchdog.expired(113.1) and not watchdog.streaming(113.1)
    assert watchdog.silent_for(114.0) == 3.0


def test_frame_age_keeps_growing_while_disconnected() -> None:
    watchdog = FrameWatchdog(gap_s=2.0, started=0.0)
    watchdog.connected(1.0)
    watchdog.frame(2.0)
    assert watchdog.age(12.0) == 10.0  # reconnect attempts failing: no new connection


def test_the_mailbox_keeps_only_the_newest_frame_and_counts_drops() -> None:
    mailbox = LatestFrame()
    assert mailbox.put("a") is False
    assert mailbox.put("b") is True  # "a" was never taken: dropped
    assert mailbox.take(timeout=0.01) == "b"
    assert mailbox.take(timeout=0.01) is None


def test_the_camera_script_is_standalone_for_the_system_interpreter() -> None:
    path = camera_script()
    assert path == Path(camera.__file__)
    tree = ast.parse(path.read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert "gameday" not in imported
    assert imported <= {"__future__", "argparse", "logging", "signal", "sys", "gi"}


def test_the_camera_serves_h264_at_ten_frames_per_second() -> None:
    line = camera.launch_line()
    assert "framerate=10/1" in line and "x264enc" in line and "name=pay0" in line
