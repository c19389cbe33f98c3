"""A worker whose working set can be grown and shrunk, under a memory limit, exported
under cAdvisor's names.

It plays one container (`pod="memory-worker-0"`, `container="worker"`) with a memory
limit. Where the lab could create a memory cgroup (`gameday.lab.extras.memory`'s
`prepare`, recorded in `run/memory.json`), the worker moves itself into it at start and
reports the kernel's figures for it, as cAdvisor does: working set = usage - inactive
file pages. Elsewhere it is **simulated**: the limit is a configured number, usage and
working set are the process's RSS, and every series carries `simulated="true"` (and
`lab_memory_simulated` is 1).

Its working set is ballast: anonymous memory mappings of at most 4 MiB, each touched
page by page so it is resident, and unmapped to shrink (returned to the kernel at
once). A regulator thread grows or shrinks the ballast towards the target, never
faster than 64 MiB/s, and never lets the working set pass 97 % of the limit: the
kernel's OOM killer never has to act on it.

Control on ``127.0.0.1:ports.memory_hog``:

- ``GET /working-set``: the state (mode, limit, target, working set, ratio, settled);
- ``PUT`` or ``POST /working-set`` with ``{"working_set_mib": N}`` or
  ``{"percent_of_limit": P}`` (0 to 100; above 97 is held at 97);
- ``DELETE /working-set``: back to the baseline (32 MiB);
- ``GET /metrics``: ``container_memory_working_set_bytes``,
  ``container_memory_usage_bytes``, ``container_memory_rss``,
  ``container_spec_memory_limit_bytes``, ``lab_memory_simulated``,
  ``gameday_memory_worker_target_bytes``, ``gameday_memory_worker_ballast_bytes``.

Run as ``python -m gameday.lab.memory_worker --lab-config LAB.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import mmap
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gameday.lab.config import HOST, LabConfig
from gameday.lab.memory_cgroup import V1, MemoryCgroup, Reading

logger = logging.getLogger("gameday.lab.memory_worker")

MIB = 1024 * 1024
PAGE = mmap.PAGESIZE
NAMESPACE = "lab"
POD = "memory-worker-0"
CONTAINER = "worker"
LIMIT_BYTES = 256 * MIB
BASELINE_BYTES = 32 * MIB
MAX_FRACTION = 0.97  # the working set never passes this share of the limit (the cap)
CHUNK_BYTES = 4 * MIB
RATE_BYTES_PER_S = 64 * MIB
GROW_SLACK_BYTES = 1 * MIB  # close enough below the target
SHRINK_SLACK_BYTES = 2 * MIB  # close enough above it
HEADROOM_BYTES = MIB // 2  # growth stops this far under the cap
TICK_S = 0.05
IDLE_TICK_S = 0.5
CGROUP = "cgroup"
SIMULATED = "simulated"


@dataclass(frozen=True)
class MemoryState:
    """What `prepare` set up for the worker (`run/memory.json`).

    :param mode: `cgroup` or `simulated`
    :param cgroup: the cgroup's directory (cgroup mode)
    :param levels: how many directories, from `cgroup` up, the lab created (removed at
        release)
    :param limit_bytes: the limit (the cgroup's own, or the simulated one)
    :param reason: why the worker is simulated (empty under a cgroup)
    """

    mode: str
    limit_bytes: int
    cgroup: str = ""
    version: int = V1
    levels: int = 0
    reason: str = ""

    @property
    def simulated(self) -> bool:
        return self.mode != CGROUP


def state_file(config: LabConfig) -> Path:
    return config.run / "memory.json"


def read_state(config: LabConfig) -> MemoryState | None:
    """What the last `prepare` recorded; None when the part was never prepared."""
    try:
        document = json.loads(state_file(config).read_text())
        return MemoryState(
            mode=str(document["mode"]),
            limit_bytes=int(document["limit_bytes"]),
            cgroup=str(document.get("cgroup", "")),
            version=int(document.get("version", V1)),
            levels=int(document.get("levels", 0)),
            reason=str(document.get("reason", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_state(config: LabConfig, state: MemoryState) -> None:
    path = state_file(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(asdict(state)) + "\n")
    temporary.replace(path)


class Meter(Protocol):
    """Where the worker's memory figures come from."""

    def read(self) -> Reading: ...


@dataclass(frozen=True)
class CgroupMeter:
    cgroup: MemoryCgroup

    def read(self) -> Reading:
        return self.cgroup.read()


@dataclass(frozen=True)
class ProcessMeter:
    """The simulation: the process's resident memory against a configured limit."""

    limit_bytes: int
    statm: Path = Path("/proc/self/statm")

    def read(self) -> Reading:
        resident = int(self.statm.read_text().split()[1]) * PAGE
        return Reading(usage=resident, working_set=resident, rss=resident, limit=self.limit_bytes)


def join(state: MemoryState, pid: int) -> tuple[Meter, MemoryState]:
    """Move process `pid` into the prepared cgroup and meter it there; simulated (saying
    why) when there is no cgroup or it cannot be joined."""
    if state.simulated:
        return ProcessMeter(state.limit_bytes), state
    cgroup = MemoryCgroup(Path(state.cgroup), state.version)
    try:
        cgroup.add(pid)
        reading = cgroup.read()
    except (OSError, ValueError) as exc:
        reason = f"could not join the memory cgroup {state.cgroup}: {exc}"
        return ProcessMeter(state.limit_bytes), MemoryState(
            mode=SIMULATED, limit_bytes=state.limit_bytes, reason=reason
        )
    return CgroupMeter(cgroup), MemoryState(**{**asdict(state), "limit_bytes": reading.limit})


class Ballast:
    """Resident anonymous memory in chunks: added touched, removed unmapped."""

    def __init__(self) -> None:
        self._chunks: list[mmap.mmap] = []
        self.size = 0

    def add(self, size: int) -> None:
        # Private: anonymous pages, counted as RSS (a shared mapping would be shmem).
        chunk = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        for offset in range(0, size, PAGE):
            chunk[offset] = 1  # a written page is resident (and charged to the cgroup)
        self._chunks.append(chunk)
        self.size += size

    def remove_last(self) -> int:
        """Unmap the newest chunk; its size (0 when there is none)."""
        if not self._chunks:
            return 0
        chunk = self._chunks.pop()
        size = len(chunk)
        chunk.close()
        self.size -= size
        return size

    def last_size(self) -> int:
        return len(self._chunks[-1]) if self._chunks else 0

    def __len__(self) -> int:
        return len(self._chunks)


class Regulator:
    """Grows or shrinks the ballast towards a target working set: at most `rate` bytes a
    second, never past `max_fraction` of the limit (it sheds ballast above that)."""

    def __init__(
        self,
        meter: Meter,
        *,
        baseline_bytes: int = BASELINE_BYTES,
        rate_bytes_per_s: int = RATE_BYTES_PER_S,
        chunk_bytes: int = CHUNK_BYTES,
        max_fraction: float = MAX_FRACTION,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.meter = meter
        self.ballast = Ballast()
        self.baseline_bytes = baseline_bytes
        self.rate = rate_bytes_per_s
        self.chunk = chunk_bytes
        self.max_fraction = max_fraction
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._target = baseline_bytes
        self._tokens = 0.0
        self._last = clock()
        self.settled = False
        self.reading = meter.read()
        self.error = ""

    def cap(self, limit: int) -> int:
        return int(limit * self.max_fraction)

    @property
    def target(self) -> int:
        """The working set aimed at, held under the cap."""
        with self._lock:
            return min(self._target, self.cap(self.reading.limit))

    def set_target(self, target_bytes: int) -> int:
        with self._lock:
            self._target = max(0, min(int(target_bytes), self.cap(self.reading.limit)))
            self.settled = False
            self._wake.set()
            return self._target

    def set_percent(self, percent: float) -> int:
        return self.set_target(int(self.reading.limit * percent / 100))

    def reset(self) -> int:
        return self.set_target(self.baseline_bytes)

    def step(self) -> None:
        """One regulation step: read the meter, then add one chunk or shed what is over."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.chunk), self._tokens + self.rate * (now - self._last))
            self._last = now
            reading = self.reading = self.meter.read()
            cap = self.cap(reading.limit)
            target = min(self._target, cap)
            working_set = reading.working_set
            if working_set > cap or working_set > target + SHRINK_SLACK_BYTES:
                self._shed(working_set, target, cap)
            else:
                # Aim a little under the cap so that noise does not cross it.
                aim = min(target, cap - HEADROOM_BYTES)
                if working_set < aim - GROW_SLACK_BYTES:
                    self._grow(aim - working_set)
                else:
                    self.settled = True

    def _shed(self, working_set: int, target: int, cap: int) -> None:
        """Unmap the newest chunks: at least what is over the cap, at most (when only over
        the target) what is over the target, so that growth need not refill much."""
        if not len(self.ballast):
            self.settled = True  # nothing of ours left to give back
            return
        over_cap, excess = working_set - cap, working_set - target
        freed = self.ballast.remove_last()
        while len(self.ballast) and (
            freed < over_cap or freed + self.ballast.last_size() <= excess
        ):
            freed += self.ballast.remove_last()
        self.settled = False
        if over_cap > 0:
            share = 100 * self.max_fraction
            logger.warning("working set above %.0f%% of the limit: shed ballast", share)

    def _grow(self, room: int) -> None:
        size = int(min(self.chunk, room, self._tokens)) // PAGE * PAGE
        self.settled = False
        if size < PAGE:
            return  # the rate bound: wait for the next step
        try:
            self.ballast.add(size)
        except (OSError, ValueError) as exc:
            self.error = f"could not allocate {size} bytes: {exc}"
            self.settled = True
            return
        self._tokens -= size
        self.error = ""

    def run(self, stop: threading.Event) -> None:
        """Step until `stop`: often while moving, seldom once settled (a new target
        wakes it at once)."""
        while not stop.is_set():
            self._wake.wait(TICK_S if not self.settled else IDLE_TICK_S)
            self._wake.clear()
            try:
                self.step()
            except (OSError, ValueError) as exc:
                logger.warning("cannot read the memory figures: %s", exc)


class Worker:
    """The regulator, what it runs under, and what it reports."""

    def __init__(self, state: MemoryState, regulator: Regulator) -> None:
        self.state = state
        self.regulator = regulator

    def describe(self) -> dict[str, Any]:
        reading = self.regulator.reading
        limit = reading.limit
        return {
            "mode": self.state.mode,
            "simulated": self.state.simulated,
            "reason": self.state.reason,
            "cgroup": self.state.cgroup or None,
            "cgroup_version": None if self.state.simulated else self.state.version,
            "limit_bytes": limit,
            "cap_bytes": self.regulator.cap(limit),
            "baseline_bytes": self.regulator.baseline_bytes,
            "target_bytes": self.regulator.target,
            "working_set_bytes": reading.working_set,
            "usage_bytes": reading.usage,
            "rss_bytes": reading.rss,
            "ballast_bytes": self.regulator.ballast.size,
            "ratio": reading.working_set / limit if limit else None,
            "settled": self.regulator.settled,
            "error": self.regulator.error or None,
        }


class WorkerCollector(Collector):
    """cAdvisor's container memory series for the worker, read at each scrape."""

    def __init__(self, worker: Worker) -> None:
        self._worker = worker

    def collect(self) -> Iterator[GaugeMetricFamily]:
        worker = self._worker
        try:
            reading = worker.regulator.meter.read()
        except (OSError, ValueError) as exc:
            logger.warning("cannot read the memory figures: %s", exc)
            return
        names = ["namespace", "pod", "container"]
        values = [NAMESPACE, POD, CONTAINER]
        if worker.state.simulated:
            names, values = [*names, "simulated"], [*values, "true"]
        for name, text, figure in (
            ("container_memory_working_set_bytes", "Current working set.", reading.working_set),
            ("container_memory_usage_bytes", "Current memory usage in bytes.", reading.usage),
            ("container_memory_rss", "Size of RSS in bytes.", reading.rss),
            ("container_spec_memory_limit_bytes", "Memory limit for the container.", reading.limit),
        ):
            family = GaugeMetricFamily(name, text, labels=names)
            family.add_metric(values, float(figure))
            yield family
        simulated = GaugeMetricFamily(
            "lab_memory_simulated",
            "1 when the worker has no memory cgroup: its limit is configured, usage is its RSS.",
            labels=["pod"],
        )
        simulated.add_metric([POD], 1.0 if worker.state.simulated else 0.0)
        yield simulated
        target = GaugeMetricFamily(
            "gameday_memory_worker_target_bytes", "The working set the worker aims at."
        )
        target.add_metric([], float(worker.regulator.target))
        yield target
        ballast = GaugeMetricFamily(
            "gameday_memory_worker_ballast_bytes", "Memory the worker holds on purpose."
        )
        ballast.add_metric([], float(worker.regulator.ballast.size))
        yield ballast


class BadRequest(ValueError):
    """A control request the worker refuses (HTTP 400)."""


def apply_request(regulator: Regulator, body: object) -> None:
    """Set the target from a control request's JSON body."""
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest('send exactly one of {"working_set_mib": N} or {"percent_of_limit": P}')
    ((key, value),) = body.items()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{key} must be a number, not {value!r}")
    if key == "working_set_mib":
        if value < 0:
            raise BadRequest(f"working_set_mib is {value}: it cannot be negative")
        regulator.set_target(int(value * MIB))
    elif key == "percent_of_limit":
        if not 0 <= value <= 100:
            raise BadRequest(f"percent_of_limit is {value}: choose between 0 and 100")
        regulator.set_percent(float(value))
    else:
        raise BadRequest(f"unknown field {key!r}: use working_set_mib or percent_of_limit")


def handler_for(worker: Worker, registry: CollectorRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "gameday-memory-worker"

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug(format, *args)

        def _reply(self, status: int, document: object) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _control(self) -> bool:
            if self.path.split("?")[0] != "/working-set":
                self._reply(404, {"error": f"no such path {self.path}; use /working-set"})
                return False
            return True

        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/metrics":
                body = generate_latest(registry)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif self._control():
                self._reply(200, worker.describe())

        def do_PUT(self) -> None:
            if not self._control():
                return
            length = int(self.headers.get("Content-Length") or 0)
            try:
                apply_request(worker.regulator, json.loads(self.rfile.read(length) or b"null"))
            except BadRequest as exc:
                self._reply(400, {"error": str(exc)})
                return
            except ValueError as exc:
                self._reply(400, {"error": f"the body is not JSON: {exc}"})
                return
            logger.info("working set target now %d MiB", worker.regulator.target // MIB)
            self._reply(200, worker.describe())

        do_POST = do_PUT

        def do_DELETE(self) -> None:
            if self._control():
                worker.regulator.reset()
                logger.info("working set back to its baseline")
                self._reply(200, worker.describe())

    return Handler


def serve(worker: Worker, port: int) -> None:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(WorkerCollector(worker))
    server = ThreadingHTTPServer((HOST, port), handler_for(worker, registry))
    server.daemon_threads = True
    stop = threading.Event()
    threading.Thread(target=worker.regulator.run, args=(stop,), daemon=True).start()
    logger.info("memory worker on %s:%d", HOST, port)
    try:
        server.serve_forever()
    finally:
        stop.set()


def main() -> None:
    parser = argparse.ArgumentParser(description="gameday lab memory worker")
    parser.add_argument("--lab-config", type=Path, required=True)
    parser.add_argument("--baseline-mib", type=float, default=BASELINE_BYTES / MIB)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    config = LabConfig.load(args.lab_config)
    prepared = read_state(config) or MemoryState(
        mode=SIMULATED, limit_bytes=LIMIT_BYTES, reason="the part was not prepared"
    )
    meter, state = join(prepared, os.getpid())
    if state.simulated:
        logger.warning("simulated limit (%d MiB): %s", state.limit_bytes // MIB, state.reason)
    else:
        logger.info("in memory cgroup %s (limit %d MiB)", state.cgroup, state.limit_bytes // MIB)
    regulator = Regulator(meter, baseline_bytes=int(args.baseline_mib * MIB))
    serve(Worker(state, regulator), config.ports.memory_hog)


if __name__ == "__main__":
    main()
