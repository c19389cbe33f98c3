"""The simulated GPU: fixed capacity shared with a stressor, dcgm-exporter readings, stress file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.lab.gpu import (
    SIMULATED_MODEL,
    SimulatedGpu,
    StressSource,
    StressState,
    choose_gpu,
    dcgm_labels,
    read_stress,
    stress_file,
    write_stress,
)


def stress(utilisation: float, memory_fraction: float, until: float) -> StressState:
    return StressState(
        utilisation=utilisation,
        memory_fraction=memory_fraction,
        started_at=0.0,
        until=until,
        burner_pid=None,
        burner_ticks=None,
    )


def test_the_stress_file_round_trips_and_expires(tmp_path: Path) -> None:
    path = stress_file(tmp_path)
    assert read_stress(path) is None
    write_stress(path, stress(1.0, 0.5, until=100.0))
    assert read_stress(path, now=99.0) == stress(1.0, 0.5, until=100.0)
    assert read_stress(path, now=100.0) is None


def test_a_free_gpu_infers_at_base_speed_and_reports_its_own_load(tmp_path: Path) -> None:
    gpu = SimulatedGpu(stress=StressSource(stress_file(tmp_path)), base_inference_s=0.01)
    assert gpu.inference_seconds(now=0.0) == pytest.approx(0.01)
    for end in (10.0, 10.5, 11.0, 11.5):
        gpu.record_busy(0.25, end)  # busy 1 s of the last 2 s
    reading = gpu.reading(now=11.5)
    assert reading["utilisation_pct"] == pytest.approx(50.0)
    assert reading["fb_used_mib"] == gpu.model_memory_mib
    assert reading["fb_used_mib"] + reading["fb_free_mib"] == gpu.memory_total_mib


def test_a_stressor_takes_capacity_slows_inference_and_fills_memory(tmp_path: Path) -> None:
    write_stress(stress_file(tmp_path), stress(0.75, 1.0, until=4e9))
    gpu = SimulatedGpu(stress=StressSource(stress_file(tmp_path)), base_inference_s=0.01)
    assert gpu.inference_seconds() == pytest.approx(0.04)  # a quarter of the capacity is left
    reading = gpu.reading(now=0.0)
    assert reading["utilisation_pct"] == pytest.approx(75.0)
    assert reading["fb_free_mib"] == 0.0
    write_stress(stress_file(tmp_path), stress(1.0, 0.0, until=4e9))
    full = SimulatedGpu(stress=StressSource(stress_file(tmp_path)), base_inference_s=0.01)
    assert full.inference_seconds() == pytest.approx(0.1)  # never less than 10% left
    assert full.reading(now=0.0)["utilisation_pct"] == 100.0


def test_the_simulated_gpu_says_so_in_its_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GAMEDAY_GPU_BACKEND", "simulated")
    gpu = choose_gpu(tmp_path)
    labels = dcgm_labels(gpu)
    assert labels["backend"] == "simulated"
    assert labels["modelName"] == SIMULATED_MODEL and "simulated" in SIMULATED_MODEL
    assert set(labels) == {"gpu", "UUID", "modelName", "Hostname", "backend"}


def test_without_a_gpu_auto_falls_back_and_nvml_is_refused(tmp_path: Path) -> None:
    # This machine has no NVIDIA GPU: NVML's init fails, the simulated GPU stands in.
    assert choose_gpu(tmp_path, backend="auto").backend == "simulated"
    with pytest.raises(RuntimeError, match="NVML"):
        choose_gpu(tmp_path, backend="nvml")
    with pytest.raises(ValueError, match="simulated"):
        choose_gpu(tmp_path, backend="cuda")
