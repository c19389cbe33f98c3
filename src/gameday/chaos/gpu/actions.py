"""GPU faults: a stressor that takes the vision worker's GPU, for a bounded time.

On a lab with a real NVIDIA GPU (the vision worker reads it through NVML), the
stressor is a real burn in its own process: matrix multiplications for the
requested share of the time, and a grab of part of the free memory (PyTorch or
CuPy). On a lab without one, the vision worker's **simulated** GPU reads the
stress from the lab's run directory: the stressor's share of the compute
capacity is gone, inference takes longer, utilisation and memory rise. Either
way the stress ends by itself after `duration_s`, and `stop_gpu_stress` (or the
rollback, recorded in the fault ledger first) removes it at any time.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import requests
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.revert import lab_and_ledger, revert_for
from gameday.context import run_context
from gameday.lab import processes
from gameday.lab.config import LabConfig
from gameday.lab.gpu import StressState, read_stress, stress_file, write_stress

__all__ = ["stop_gpu_stress", "stress_gpu"]
logger = logging.getLogger("gameday.chaos.gpu.actions")
MODULE = __name__
MAX_DURATION_S = 1800.0
MAX_MEMORY_FRACTION = 0.99
BURNER_START_S = 3.0


def lab_gpu_backend(lab: LabConfig) -> str:
    """The backend the lab's vision worker uses: `nvml`, `simulated`, or `unknown`."""
    try:
        text = requests.get(lab.vision_url + "/metrics", timeout=2).text
    except requests.RequestException:
        return "unknown"
    for line in text.splitlines():
        if line.startswith("DCGM_FI_DEV_GPU_UTIL{"):
            return "nvml" if 'backend="nvml"' in line else "simulated"
    return "unknown"


def _start_burner(
    lab: LabConfig, duration_s: float, utilisation: float, memory_fraction: float
) -> subprocess.Popen[bytes]:
    with (lab.logs / "gpu-burn.log").open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gameday.chaos.gpu.burn",
                "--duration-s",
                str(duration_s),
                "--utilisation",
                str(utilisation),
                "--memory-fraction",
                str(memory_fraction),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    # A burner that cannot use the GPU exits at once: say so instead of pretending.
    deadline = time.monotonic() + BURNER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ActivityFailed(
                f"the GPU burner exited with code {process.returncode}: see "
                f"{lab.logs / 'gpu-burn.log'} (it needs PyTorch or CuPy with CUDA)"
            )
        time.sleep(0.1)
    return process


def stress_gpu(
    duration_s: float = 60.0,
    utilisation: float = 1.0,
    memory_fraction: float = 0.5,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Stress the lab's GPU for `duration_s` seconds (at most 1800), then stop by itself.

    `utilisation` (0 to 1) is the share of the GPU's compute the stressor
    takes; `memory_fraction` (0 to 0.99) the share of its free memory it
    holds. With `utilisation: 1.0` the vision worker's inference slows down
    (frames per second drop under target) and GPU utilisation goes to 100 %;
    with `memory_fraction: 0.95` the GPU's memory is nearly full.

    On a lab without a GPU the stress applies to the simulated GPU (its metrics
    say `backend="simulated"`). `stop_gpu_stress` removes the stress at any time.

    Returns the backend stressed and when the stress ends.
    """
    if not 0 < duration_s <= MAX_DURATION_S:
        raise ActivityFailed(f"duration_s is {duration_s}: choose 0 < duration_s <= 1800")
    if not 0 <= utilisation <= 1:
        raise ActivityFailed(f"utilisation is {utilisation}: choose between 0 and 1")
    if not 0 <= memory_fraction <= MAX_MEMORY_FRACTION:
        raise ActivityFailed(f"memory_fraction is {memory_fraction}: choose between 0 and 0.99")
    lab, ledger = lab_and_ledger(configuration)
    backend = lab_gpu_backend(lab)
    now = time.time()
    state = StressState(
        utilisation=utilisation,
        memory_fraction=memory_fraction,
        started_at=now,
        until=now + duration_s,
        burner_pid=None,
        burner_ticks=None,
    )
    revert = revert_for(MODULE, "stop_gpu_stress", configuration)
    with ledger.applying(f"GPU stressed ({utilisation:.0%} for {duration_s:g}s)", revert):
        if backend == "nvml":
            process = _start_burner(lab, duration_s, utilisation, memory_fraction)
            state["burner_pid"] = process.pid
            state["burner_ticks"] = processes.start_ticks(process.pid)
        # The simulated GPU reads this file; on a real GPU it records the burner to stop.
        write_stress(stress_file(lab.run), state)
    until = datetime.fromtimestamp(state["until"], UTC).isoformat()
    detail = (
        f"GPU stress ({backend}): {utilisation:.0%} of compute, {memory_fraction:.0%} of "
        f"memory, for {duration_s:g}s"
    )
    run_context(configuration).record(
        "fault_applied",
        detail,
        fault="stress_gpu",
        backend=backend,
        utilisation=utilisation,
        memory_fraction=memory_fraction,
        until=until,
    )
    logger.info(detail)
    return {"backend": backend, "until": until, "burner_pid": state["burner_pid"]}


def stop_gpu_stress(configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Remove the GPU stress now (stop the burner, free the simulated capacity). Idempotent."""
    lab, ledger = lab_and_ledger(configuration)
    path = stress_file(lab.run)
    state = read_stress(path, now=0.0)  # whatever was recorded, even when its time is up
    active = read_stress(path) is not None
    stopped_burner = False
    if state is not None and state.get("burner_pid"):
        pid = int(state["burner_pid"] or 0)
        if processes.start_ticks(pid) == state.get("burner_ticks"):
            processes.terminate([pid])
            stopped_burner = True
    path.unlink(missing_ok=True)
    ledger.clear_matching(revert_for(MODULE, "stop_gpu_stress", configuration))
    detail = "removed the GPU stress" if active else "the GPU stress was already over"
    run_context(configuration).record("fault_reverted", detail, fault="stress_gpu")
    logger.info(detail)
    return {"was_active": active, "stopped_burner": stopped_burner}
