"""Cameras on the real lab: they stream; a flapped camera raises CameraOffline; a hung one is
caught by the frame-gap watchdog; stopping the flapping brings every camera back."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

import gameday
from gameday.chaos.camera import actions
from gameday.lab.config import LabConfig
from gameday.lab.replica_state import is_paused
from gameday.lab.supervisor import SupervisorClient
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import Prometheus
from gameday.targets import fault_ledger


def _vision(lab: LabConfig, metric: str, camera: str) -> float:
    text = requests.get(lab.vision_url + "/metrics", timeout=2).text
    prefix = f'{metric}{{camera="{camera}"}} '
    return float(next(x for x in text.splitlines() if x.startswith(prefix)).split()[1])


@pytest.fixture
def cameras(lab: LabConfig) -> Iterator[dict[str, str]]:
    configuration = {"gameday_lab_dir": str(lab.directory)}
    try:
        yield configuration
    finally:
        actions.stop_flapping(configuration=configuration)
        supervisor = SupervisorClient(lab.supervisor_url)
        for info in supervisor.processes():
            if info["group"] == "camera":
                assert info["statename"] in {"RUNNING", "STARTING"}
                assert not is_paused(info["pid"])


def test_every_camera_streams_at_its_frame_rate(lab: LabConfig) -> None:
    prometheus = Prometheus(lab.prometheus_url)
    streaming = poll_until(
        lambda: v if (v := prometheus.query_value("sum(vision_camera_up)")) == 4 else None,
        timeout_s=20,
    )
    assert streaming.met
    fps = poll_until(
        lambda: (
            v
            if (v := prometheus.query_value("min(rate(vision_frames_total[5s]))")) and v >= 8
            else None
        ),
        timeout_s=20,
    )
    assert fps.met, "inference runs below 8 frames per second on an idle lab"
    backend = prometheus.query("DCGM_FI_DEV_GPU_UTIL")[0]["metric"]["backend"]
    assert backend == "simulated"  # this machine has no GPU


def test_a_flapping_camera_raises_camera_offline_and_comes_back(
    lab: LabConfig, cameras: dict[str, str]
) -> None:
    started = time.monotonic()
    applied = actions.flap_cameras(
        cameras=["camera-1"], times=2, period_s=20, mode="down", configuration=cameras
    )
    assert applied["cameras"] == ["camera-1"] and applied["down_s"] == 10
    assert [e["revert"]["func"] for e in fault_ledger(lab).entries()] == ["stop_flapping"]
    with pytest.raises(Exception, match="already flapping"):
        actions.flap_cameras(cameras=["camera-2"], configuration=cameras)

    def offline() -> bool | None:
        for alert in Prometheus(lab.prometheus_url).alerts():
            if alert["alertname"] == "CameraOffline" and alert["state"] == "firing":
                return True if alert["labels"].get("camera") == "camera-1" else None
        return None

    assert poll_until(offline, timeout_s=20, interval_s=0.5).met
    print(f"\nCameraOffline firing {time.monotonic() - started:.1f}s after the flap")
    result = actions.stop_flapping(configuration=cameras)
    assert result["stopped_flapper"] and result["flaps"][0]["state"] == "down"
    assert fault_ledger(lab).entries() == []
    back = poll_until(
        lambda: True if _vision(lab, "vision_camera_up", "camera-1") == 1 else None,
        timeout_s=15,
    )
    assert back.met, "camera-1 did not stream again after stop_flapping"
    print(f"camera-1 streaming again {back.elapsed_s:.1f}s after stop_flapping")


def test_a_hung_camera_is_caught_by_the_frame_gap_watchdog(
    lab: LabConfig, cameras: dict[str, str]
) -> None:
    resets = _vision(lab, "vision_watchdog_resets_total", "camera-2")
    started = time.monotonic()
    actions.flap_cameras(
        cameras=["camera-2"], times=1, period_s=30, mode="hang", configuration=cameras
    )
    down = poll_until(
        lambda: True if _vision(lab, "vision_camera_up", "camera-2") == 0 else None,
        timeout_s=10,
        interval_s=0.2,
    )
    assert down.met, "the hung camera was still reported up"
    print(f"\nhung camera reported down after {time.monotonic() - started:.1f}s")
    reset = poll_until(
        lambda: True if _vision(lab, "vision_watchdog_resets_total", "camera-2") > resets else None,
        timeout_s=15,
        interval_s=0.2,
    )
    assert reset.met, "the watchdog did not reopen the hung stream"
    assert _vision(lab, "vision_camera_frame_age_seconds", "camera-2") >= 2
    actions.stop_flapping(configuration=cameras)
    assert poll_until(
        lambda: True if _vision(lab, "vision_camera_up", "camera-2") == 1 else None,
        timeout_s=15,
    ).met


def test_camera_and_gpu_activities_are_discovered() -> None:
    found = {(a["mod"], a["name"]) for a in gameday.discover(discover_system=False)["activities"]}
    assert {
        ("gameday.chaos.camera.actions", "flap_cameras"),
        ("gameday.chaos.camera.actions", "stop_flapping"),
        ("gameday.chaos.gpu.actions", "stress_gpu"),
        ("gameday.chaos.gpu.actions", "stop_gpu_stress"),
        ("gameday.chaos.consensus.actions", "partition_member"),
        ("gameday.chaos.consensus.actions", "heal_partition"),
        ("gameday.chaos.consensus.actions", "write_config_keys"),
        ("gameday.chaos.consensus.probes", "members_agree"),
        ("gameday.chaos.consensus.probes", "acknowledged_writes_readable"),
    } <= found
