"""A real GPU burn: the stressor `stress_gpu` starts on a machine with an NVIDIA GPU.

It grabs `memory_fraction` of the GPU's free memory and runs matrix
multiplications for `utilisation` of every 100 ms, until `duration_s` has
passed or it is sent SIGTERM. It uses PyTorch, else CuPy; without either it
exits with code 3.

Run as ``python -m gameday.chaos.gpu.burn --duration-s 60 --utilisation 1.0
--memory-fraction 0.5``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("gameday.chaos.gpu.burn")
SLICE_S = 0.1
MATRIX = 4096


def _torch_burner(memory_fraction: float) -> tuple[Callable[[], None], Any]:
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError("PyTorch sees no CUDA device")
    free, _total = torch.cuda.mem_get_info()
    hog = torch.empty(int(free * memory_fraction), dtype=torch.uint8, device="cuda")
    matrix = torch.randn(MATRIX, MATRIX, device="cuda")

    def step() -> None:
        (matrix @ matrix).sum()
        torch.cuda.synchronize()

    return step, hog


def _cupy_burner(memory_fraction: float) -> tuple[Callable[[], None], Any]:
    import cupy

    free, _total = cupy.cuda.runtime.memGetInfo()
    hog = cupy.empty(int(free * memory_fraction), dtype=cupy.uint8)
    matrix = cupy.random.standard_normal((MATRIX, MATRIX), dtype=cupy.float32)

    def step() -> None:
        (matrix @ matrix).sum()
        cupy.cuda.Stream.null.synchronize()

    return step, hog


def burn(duration_s: float, utilisation: float, memory_fraction: float) -> int:
    step: Callable[[], None] | None = None
    hog: Any = None
    for factory in (_torch_burner, _cupy_burner):
        try:
            step, hog = factory(memory_fraction)
            logger.info("burning with %s", factory.__name__.strip("_").split("_")[0])
            break
        except Exception as exc:
            logger.info("%s unavailable: %s", factory.__name__, exc)
    if step is None:
        logger.error("neither PyTorch nor CuPy can use the GPU: install one to stress a real GPU")
        return 3
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    deadline = time.monotonic() + duration_s
    busy_s = SLICE_S * min(max(utilisation, 0.0), 1.0)
    while not stop.is_set() and time.monotonic() < deadline:
        started = time.monotonic()
        while time.monotonic() - started < busy_s and not stop.is_set():
            step()
        rest = SLICE_S - (time.monotonic() - started)
        if rest > 0:
            stop.wait(rest)
    del hog
    logger.info("GPU burn over")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description="burn a real GPU for gameday")
    parser.add_argument("--duration-s", type=float, required=True)
    parser.add_argument("--utilisation", type=float, default=1.0)
    parser.add_argument("--memory-fraction", type=float, default=0.5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    sys.exit(burn(args.duration_s, args.utilisation, args.memory_fraction))


if __name__ == "__main__":
    main()
