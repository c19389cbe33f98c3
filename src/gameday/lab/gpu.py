"""The vision worker's GPU: a real one read through NVML, or a simulated one that says so.

On a machine with an NVIDIA GPU, ``nvidia-ml-py`` (``pynvml``) reads the real
device and its metrics carry ``backend="nvml"``. Elsewhere (or with
``GAMEDAY_GPU_BACKEND=simulated``) a :class:`SimulatedGpu` with a fixed compute
capacity stands in: inference takes a fixed time on a free GPU and longer when
a stressor holds part of the capacity; its metrics carry ``backend="simulated"``
and a model name that says it is simulated.

Both export the names dcgm-exporter uses (``DCGM_FI_DEV_GPU_UTIL`` …) with its
labels ``gpu``, ``UUID``, ``modelName``, ``Hostname``.

A GPU stress fault (:mod:`gameday.chaos.gpu.actions`) writes the stress it
applies into a state file in the lab's run directory; the simulated GPU reads
it, and the stress ends by itself when its time is up.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypedDict

logger = logging.getLogger("gameday.lab.gpu")

BACKEND_ENV = "GAMEDAY_GPU_BACKEND"
SIMULATED_MODEL = "gameday simulated GPU (no hardware)"
SIMULATED_UUID = "GPU-00000000-0000-0000-0000-5106a7ed0000"
STRESS_FILE = "gpu_stress.json"
DCGM_LABELS = ("gpu", "UUID", "modelName", "Hostname", "backend")


class StressState(TypedDict):
    """What a GPU stress fault applies; written to ``run/gpu_stress.json``."""

    utilisation: float
    memory_fraction: float
    started_at: float
    until: float
    burner_pid: int | None
    burner_ticks: int | None


def stress_file(run_dir: Path) -> Path:
    return run_dir / STRESS_FILE


def write_stress(path: Path, state: StressState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(state))
    temporary.replace(path)


def read_stress(path: Path, now: float | None = None) -> StressState | None:
    """The stress in force now: None when there is none, or its time is up."""
    try:
        state: StressState = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    moment = time.time() if now is None else now
    if moment >= float(state.get("until", 0)):
        return None
    return state


class GpuReading(TypedDict):
    """One reading in dcgm-exporter units: %, MiB, °C, W."""

    utilisation_pct: float
    fb_used_mib: float
    fb_free_mib: float
    temperature_c: float
    power_w: float


class Gpu(Protocol):
    backend: str
    uuid: str
    model_name: str

    def inference_seconds(self) -> float:
        """How long one inference takes on this GPU now (simulated) or 0 (real: measured)."""
        ...

    def record_busy(self, seconds: float, now: float) -> None: ...

    def reading(self, now: float) -> GpuReading: ...


@dataclass
class StressSource:
    """Reads the stress state file, at most every `interval_s`."""

    path: Path
    interval_s: float = 0.25
    _checked: float = field(default=-1e9, init=False)
    _state: StressState | None = field(default=None, init=False)

    def current(self, now: float | None = None) -> StressState | None:
        moment = time.time() if now is None else now
        if moment - self._checked >= self.interval_s:
            self._state = read_stress(self.path, moment)
            self._checked = moment
        if self._state is not None and moment >= self._state["until"]:
            self._state = None
        return self._state


@dataclass
class SimulatedGpu:
    """A GPU with a fixed compute capacity, shared by inference and any stressor.

    One inference takes `base_inference_s` on a free GPU. A stressor holding a
    fraction of the capacity leaves ``1 - utilisation`` (never less than
    `min_free_capacity`) for inference, which takes proportionally longer.
    Utilisation is the stressor's share plus the time inference kept the GPU
    busy over the last `window_s`.
    """

    stress: StressSource | None = None
    memory_total_mib: float = 16384.0
    model_memory_mib: float = 1536.0
    base_inference_s: float = 0.008
    min_free_capacity: float = 0.1
    window_s: float = 2.0
    backend: str = "simulated"
    uuid: str = SIMULATED_UUID
    model_name: str = SIMULATED_MODEL
    _busy: deque[tuple[float, float]] = field(default_factory=deque, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def _stress(self, now: float | None = None) -> StressState | None:
        return self.stress.current(now) if self.stress is not None else None

    def free_capacity(self, now: float | None = None) -> float:
        state = self._stress(now)
        taken = min(max(state["utilisation"], 0.0), 1.0) if state else 0.0
        return max(1.0 - taken, self.min_free_capacity)

    def inference_seconds(self, now: float | None = None) -> float:
        return self.base_inference_s / self.free_capacity(now)

    def record_busy(self, seconds: float, now: float) -> None:
        with self._lock:
            self._busy.append((now, seconds))
            while self._busy and self._busy[0][0] < now - self.window_s:
                self._busy.popleft()

    def _inference_share(self, now: float) -> float:
        with self._lock:
            busy = sum(s for end, s in self._busy if end >= now - self.window_s)
        return min(busy / self.window_s, 1.0)

    def reading(self, now: float) -> GpuReading:
        state = self._stress(time.time())
        stress_share = min(max(state["utilisation"], 0.0), 1.0) if state else 0.0
        utilisation = min(stress_share + self._inference_share(now), 1.0)
        grabbed = 0.0
        if state:
            fraction = min(max(state["memory_fraction"], 0.0), 1.0)
            grabbed = fraction * (self.memory_total_mib - self.model_memory_mib)
        used = self.model_memory_mib + grabbed
        return GpuReading(
            utilisation_pct=round(utilisation * 100.0, 2),
            fb_used_mib=round(used, 1),
            fb_free_mib=round(self.memory_total_mib - used, 1),
            temperature_c=round(38.0 + 44.0 * utilisation, 1),
            power_w=round(28.0 + 42.0 * utilisation, 1),
        )


class NvmlGpu:
    """A real NVIDIA GPU read through NVML (``nvidia-ml-py``); inference time is measured."""

    backend = "nvml"

    def __init__(self, pynvml: Any, index: int = 0) -> None:
        self._nvml = pynvml
        self._handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        self.index = index
        self.uuid = _text(pynvml.nvmlDeviceGetUUID(self._handle))
        self.model_name = _text(pynvml.nvmlDeviceGetName(self._handle))

    def inference_seconds(self) -> float:
        return 0.0

    def record_busy(self, seconds: float, now: float) -> None:
        pass

    def reading(self, now: float) -> GpuReading:
        nvml = self._nvml
        utilisation = nvml.nvmlDeviceGetUtilizationRates(self._handle)
        memory = nvml.nvmlDeviceGetMemoryInfo(self._handle)
        temperature = nvml.nvmlDeviceGetTemperature(self._handle, nvml.NVML_TEMPERATURE_GPU)
        try:
            power_w = nvml.nvmlDeviceGetPowerUsage(self._handle) / 1000.0
        except nvml.NVMLError:
            power_w = float("nan")  # not every board reports power
        mib = 1024.0 * 1024.0
        return GpuReading(
            utilisation_pct=float(utilisation.gpu),
            fb_used_mib=round(memory.used / mib, 1),
            fb_free_mib=round(memory.free / mib, 1),
            temperature_c=float(temperature),
            power_w=power_w,
        )


def _text(value: str | bytes) -> str:
    # nvidia-ml-py returns bytes in old releases and str in new ones.
    return value.decode() if isinstance(value, bytes) else str(value)


def open_nvml(index: int = 0) -> NvmlGpu | None:
    """The real GPU through NVML, or None when there is none (no library, no driver, no GPU)."""
    try:
        import pynvml
    except ImportError:
        logger.info("nvidia-ml-py is not installed: no real GPU")
        return None
    try:
        pynvml.nvmlInit()
        if pynvml.nvmlDeviceGetCount() <= index:
            logger.info("NVML reports no GPU %d", index)
            return None
        return NvmlGpu(pynvml, index)
    except pynvml.NVMLError as exc:
        logger.info("NVML unavailable (%s): no real GPU", exc)
        return None


def choose_gpu(run_dir: Path, *, backend: str | None = None) -> Gpu:
    """NVML when a GPU answers (or is demanded), else the simulated GPU.

    `backend` (default: $GAMEDAY_GPU_BACKEND, else ``auto``) is ``auto``,
    ``nvml`` or ``simulated``.
    """
    choice = (backend or os.environ.get(BACKEND_ENV) or "auto").lower()
    if choice not in {"auto", "nvml", "simulated"}:
        raise ValueError(f"{BACKEND_ENV}={choice!r}: use auto, nvml or simulated")
    if choice != "simulated":
        real = open_nvml()
        if real is not None:
            logger.info("using the real GPU %s (%s) through NVML", real.model_name, real.uuid)
            return real
        if choice == "nvml":
            raise RuntimeError("NVML found no GPU, and the nvml backend was demanded")
    logger.info("no GPU: using the simulated GPU (metrics labelled backend=simulated)")
    return SimulatedGpu(stress=StressSource(stress_file(run_dir)))


def dcgm_labels(gpu: Gpu, index: str = "0") -> dict[str, str]:
    return {
        "gpu": index,
        "UUID": gpu.uuid,
        "modelName": gpu.model_name,
        "Hostname": socket.gethostname(),
        "backend": gpu.backend,
    }


def real_compute() -> Any | None:
    """A small GPU computation per frame (PyTorch, else CuPy), or None when neither works.

    Returns a function taking a 2-D numpy array (the frame's luma plane) and
    returning a float once the GPU has finished with it.
    """
    try:
        import torch

        if torch.cuda.is_available():
            device = torch.device("cuda:0")
            weights = torch.randn(320, 64, device=device)

            def torch_infer(plane: Any) -> float:
                x = torch.from_numpy(plane[:240, :320]).to(device, non_blocking=True).float()
                return float((x @ weights).relu().sum().item())

            return torch_infer
    except Exception as exc:  # a broken CUDA install must not stop the worker
        logger.info("PyTorch cannot use the GPU: %s", exc)
    try:
        import cupy

        cupy_weights = cupy.random.standard_normal((320, 64), dtype=cupy.float32)

        def cupy_infer(plane: Any) -> float:
            x = cupy.asarray(plane[:240, :320], dtype=cupy.float32)
            return float(cupy.maximum(x @ cupy_weights, 0).sum().get())

        return cupy_infer
    except Exception as exc:
        logger.info("CuPy cannot use the GPU: %s", exc)
    return None
