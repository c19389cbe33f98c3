"""GPU stress on the real lab (simulated GPU here: this machine has none): inference slows,
GPU alerts fire, and stopping the stress restores the frame rate."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from gameday.chaos.gpu import actions
from gameday.lab.config import LabConfig
from gameday.lab.gpu import read_stress, stress_file
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import Prometheus
from gameday.targets import fault_ledger


@pytest.fixture
def gpu(lab: LabConfig) -> Iterator[dict[str, str]]:
    configuration = {"gameday_lab_dir": str(lab.directory)}
    try:
        yield configuration
    finally:
        actions.stop_gpu_stress(configuration=configuration)


def test_gpu_stress_fires_gpu_alerts_and_slows_inference_until_stopped(
    lab: LabConfig, gpu: dict[str, str]
) -> None:
    prometheus = Prometheus(lab.prometheus_url)
    started = time.monotonic()
    applied = actions.stress_gpu(
        duration_s=60, utilisation=1.0, memory_fraction=0.95, configuration=gpu
    )
    assert applied["backend"] == "simulated"
    assert [e["revert"]["func"] for e in fault_ledger(lab).entries()] == ["stop_gpu_stress"]
    expected = {"GPUSaturation", "SlowInference", "GPUOOMRisk"}

    def all_firing() -> set[str] | None:
        firing = {a["alertname"] for a in prometheus.alerts() if a["state"] == "firing"}
        return firing if expected <= firing else None

    fired = poll_until(all_firing, timeout_s=30, interval_s=0.5)
    assert fired.met, f"not all of {sorted(expected)} fired"
    print(f"\nGPU alerts firing {time.monotonic() - started:.1f}s after the stress")
    fps = prometheus.query_value("max(rate(vision_frames_total[5s]))")
    assert fps is not None and fps < 8

    stopped = time.monotonic()
    assert actions.stop_gpu_stress(configuration=gpu)["was_active"]
    assert fault_ledger(lab).entries() == []
    recovered = poll_until(
        lambda: (
            v
            if (v := prometheus.query_value("min(rate(vision_frames_total[5s]))")) and v >= 8
            else None
        ),
        timeout_s=30,
    )
    assert recovered.met, "the frame rate did not recover after the stress"
    print(f"FPS back to {recovered.value:.1f} {time.monotonic() - stopped:.1f}s after stopping")
    util = prometheus.query_value("max(DCGM_FI_DEV_GPU_UTIL)")
    assert util is not None and util < 95


def test_gpu_stress_is_bounded_and_ends_by_itself(lab: LabConfig, gpu: dict[str, str]) -> None:
    actions.stress_gpu(duration_s=0.5, utilisation=0.2, memory_fraction=0.0, configuration=gpu)
    assert read_stress(stress_file(lab.run)) is not None
    time.sleep(0.7)
    assert read_stress(stress_file(lab.run)) is None
    with pytest.raises(Exception, match="duration_s"):
        actions.stress_gpu(duration_s=7200, configuration=gpu)
