"""The vision worker: reads every camera over RTSP, runs inference per frame, exports metrics.

One reader thread per camera decodes the stream with PyAV (TCP transport, 2 s
socket timeout) and keeps only the latest frame; one inference thread per
camera takes the latest frame to the GPU (frames that arrive while inference is
busy are dropped, as a real video-analytics worker does). A lost stream is
reopened with exponential backoff. A hung camera (SIGSTOP: the connection stays
open, no frames come) is not reliably reported by the library, so a frame-gap
watchdog reconnects when no frame arrived for ``FRAME_GAP_S``, and replaces a
reader stuck inside the library for longer than ``STUCK_S``.

Metrics (Prometheus, on 127.0.0.1:``ports.vision``/metrics), per ``camera``:
``vision_camera_up``, ``vision_frames_total`` (frames inferred; its rate is the
FPS), ``vision_frames_decoded_total``, ``vision_frames_dropped_total``,
``vision_camera_reconnects_total``, ``vision_watchdog_resets_total``,
``vision_camera_frame_age_seconds``, ``vision_camera_fps_target``,
``vision_inference_latency_seconds`` (histogram); and the GPU's dcgm-exporter
gauges (see :mod:`gameday.lab.gpu`).

Run as ``python -m gameday.lab.vision --lab-config LAB.json``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gameday.lab.config import HOST, LabConfig
from gameday.lab.gpu import DCGM_LABELS, Gpu, choose_gpu, dcgm_labels, real_compute

logger = logging.getLogger("gameday.lab.vision")

FPS_TARGET = 10.0
FRAME_GAP_S = 2.0
STUCK_S = 6.0
OPEN_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 2.0
RTSP_OPTIONS = {"rtsp_transport": "tcp", "timeout": "2000000", "fpsprobesize": "0"}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass
class Backoff:
    """Exponential reconnect delays: `initial_s`, doubling up to `maximum_s`; reset on success."""

    initial_s: float = 0.2
    factor: float = 2.0
    maximum_s: float = 2.0
    _next: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._next = self.initial_s

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * self.factor, self.maximum_s)
        return delay

    def reset(self) -> None:
        self._next = self.initial_s


@dataclass
class FrameWatchdog:
    """Frame age, and whether a connection went `gap_s` without a frame (then: reconnect)."""

    gap_s: float = FRAME_GAP_S
    started: float = field(default_factory=time.monotonic)
    last_frame: float | None = None
    connected_at: float | None = None
    frames_since_connect: int = 0

    def connected(self, now: float) -> None:
        self.connected_at = now
        self.frames_since_connect = 0

    def frame(self, now: float) -> None:
        self.last_frame = now
        self.frames_since_connect += 1

    def age(self, now: float) -> float:
        """Seconds since the last frame (since start when none came yet)."""
        return max(now - (self.last_frame if self.last_frame is not None else self.started), 0.0)

    def silent_for(self, now: float) -> float:
        """Seconds without a frame on the current connection."""
        moments = [m for m in (self.started, self.connected_at, self.last_frame) if m is not None]
        return max(now - max(moments), 0.0)

    def expired(self, now: float) -> bool:
        return self.silent_for(now) > self.gap_s

    def streaming(self, now: float) -> bool:
        return self.frames_since_connect > 0 and not self.expired(now)


class LatestFrame:
    """A one-frame mailbox: the reader overwrites, the inference thread takes the newest."""

    def __init__(self) -> None:
        self._frame: Any = None
        self._condition = threading.Condition()

    def put(self, frame: Any) -> bool:
        """Store a frame; True when it replaced one nobody took (a dropped frame)."""
        with self._condition:
            dropped = self._frame is not None
            self._frame = frame
            self._condition.notify()
            return dropped

    def take(self, timeout: float) -> Any:
        with self._condition:
            if self._frame is None:
                self._condition.wait(timeout)
            frame, self._frame = self._frame, None
            return frame


class VisionMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["camera"]
        self.frames = Counter(
            "vision_frames", "Frames inferred (their rate is the FPS).", labels, registry=registry
        )
        self.decoded = Counter(
            "vision_frames_decoded", "Frames decoded from the stream.", labels, registry=registry
        )
        self.dropped = Counter(
            "vision_frames_dropped",
            "Frames dropped because inference was still busy.",
            labels,
            registry=registry,
        )
        self.reconnects = Counter(
            "vision_camera_reconnects",
            "Attempts to reopen a camera's stream after it was lost.",
            labels,
            registry=registry,
        )
        self.watchdog = Counter(
            "vision_watchdog_resets",
            "Streams reopened because no frame came for the frame-gap window (a hung camera).",
            labels,
            registry=registry,
        )
        self.latency = Histogram(
            "vision_inference_latency_seconds",
            "Time from taking a frame to its inference result, GPU queueing included.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )


class CameraReader:
    """Reads one camera: connect, decode, watchdog, reconnect with backoff."""

    def __init__(
        self,
        name: str,
        url: str,
        metrics: VisionMetrics,
        mailbox: LatestFrame,
        stop: threading.Event,
        *,
        gap_s: float = FRAME_GAP_S,
    ) -> None:
        self.name = name
        self.url = url
        self.metrics = metrics
        self.mailbox = mailbox
        self.stop = stop
        self.watchdog = FrameWatchdog(gap_s=gap_s)
        self.connected = False
        self.abandoned = False
        self.thread = threading.Thread(target=self.run, name=f"reader-{name}", daemon=True)

    def start(self) -> CameraReader:
        self.thread.start()
        return self

    def up(self, now: float) -> bool:
        return self.connected and self.watchdog.streaming(now)

    def run(self) -> None:
        import av

        backoff = Backoff()
        attempt = 0
        while not (self.stop.is_set() or self.abandoned):
            if attempt:
                self.metrics.reconnects.labels(camera=self.name).inc()
            attempt += 1
            try:
                container = av.open(
                    self.url, options=RTSP_OPTIONS, timeout=(OPEN_TIMEOUT_S, READ_TIMEOUT_S)
                )
            except (av.FFmpegError, OSError) as exc:
                logger.info("%s: cannot open %s: %s", self.name, self.url, exc)
                self.stop.wait(backoff.next_delay())
                continue
            try:
                self._read(container, backoff)
            except (av.FFmpegError, OSError) as exc:
                if self.watchdog.expired(time.monotonic()):
                    # The read timed out after a frame gap: a hung camera.
                    logger.warning("%s: no frame for %.1fs: reconnecting", self.name, FRAME_GAP_S)
                    self.metrics.watchdog.labels(camera=self.name).inc()
                else:
                    logger.info("%s: stream lost: %s", self.name, exc)
            finally:
                self.connected = False
                container.close()
            self.stop.wait(backoff.next_delay())

    def _read(self, container: Any, backoff: Backoff) -> None:
        stream = container.streams.video[0]
        self.watchdog.connected(time.monotonic())
        self.connected = True
        logger.info("%s: connected to %s", self.name, self.url)
        for packet in container.demux(stream):
            if self.stop.is_set() or self.abandoned:
                return
            for frame in packet.decode():
                now = time.monotonic()
                if self.watchdog.frames_since_connect == 0:
                    backoff.reset()
                self.watchdog.frame(now)
                self.metrics.decoded.labels(camera=self.name).inc()
                if self.mailbox.put(frame):
                    self.metrics.dropped.labels(camera=self.name).inc()
            if self.watchdog.expired(time.monotonic()):
                logger.warning("%s: no frame for %.1fs: reconnecting", self.name, FRAME_GAP_S)
                self.metrics.watchdog.labels(camera=self.name).inc()
                return
        logger.info("%s: end of stream", self.name)


Infer = Callable[[Any], float]


class Inference:
    """Runs "inference" on the GPU, one frame at a time (the GPU is shared by all cameras)."""

    def __init__(self, gpu: Gpu, compute: Infer | None = None) -> None:
        self.gpu = gpu
        self.compute = compute
        self._lock = threading.Lock()

    def infer(self, frame: Any) -> float:
        started = time.monotonic()
        with self._lock:
            gpu_started = time.monotonic()
            if self.compute is not None:
                plane = frame.to_ndarray(format="gray")
                self.compute(plane)
            else:
                time.sleep(self.gpu.inference_seconds())
            finished = time.monotonic()
            self.gpu.record_busy(finished - gpu_started, finished)
        return finished - started


class VisionCollector(Collector):
    """Camera state and GPU gauges, computed at scrape time (a blocked reader still ages)."""

    def __init__(self, readers: Callable[[], list[CameraReader]], gpu: Gpu) -> None:
        self._readers = readers
        self._gpu = gpu
        self._gpu_labels = dcgm_labels(gpu)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = time.monotonic()
        up = GaugeMetricFamily(
            "vision_camera_up", "1 when frames arrive from the camera.", labels=["camera"]
        )
        age = GaugeMetricFamily(
            "vision_camera_frame_age_seconds",
            "Seconds since the camera's last frame (or since connecting).",
            labels=["camera"],
        )
        target = GaugeMetricFamily(
            "vision_camera_fps_target", "Frames per second expected.", labels=["camera"]
        )
        for reader in self._readers():
            up.add_metric([reader.name], 1.0 if reader.up(now) else 0.0)
            age.add_metric([reader.name], round(reader.watchdog.age(now), 3))
            target.add_metric([reader.name], FPS_TARGET)
        yield from (up, age, target)
        try:
            reading = self._gpu.reading(now)
        except Exception as exc:  # a GPU read failing must not break the scrape
            logger.warning("cannot read the GPU: %s", exc)
            return
        values = list(self._gpu_labels.values())
        for name, help_text, value in (
            ("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", reading["utilisation_pct"]),
            ("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", reading["fb_used_mib"]),
            ("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", reading["fb_free_mib"]),
            ("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", reading["temperature_c"]),
            ("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", reading["power_w"]),
        ):
            family = GaugeMetricFamily(name, help_text, labels=list(DCGM_LABELS))
            family.add_metric(values, value)
            yield family


class VisionWorker:
    """Every camera's reader and inference thread, the stuck-reader check, the metrics."""

    def __init__(self, config: LabConfig, *, gpu: Gpu | None = None) -> None:
        self.config = config
        self.stop = threading.Event()
        self.registry = CollectorRegistry()
        self.metrics = VisionMetrics(self.registry)
        self.gpu = gpu or choose_gpu(config.run)
        compute = real_compute() if self.gpu.backend == "nvml" else None
        self.inference = Inference(self.gpu, compute)
        self.names = [f"camera-{i}" for i in range(len(config.camera_urls))]
        self.mailboxes = {name: LatestFrame() for name in self.names}
        self.readers: dict[str, CameraReader] = {}
        self.registry.register(VisionCollector(lambda: list(self.readers.values()), self.gpu))
        for name in self.names:
            for counter in (
                self.metrics.frames,
                self.metrics.decoded,
                self.metrics.dropped,
                self.metrics.reconnects,
                self.metrics.watchdog,
            ):
                counter.labels(camera=name)

    def _reader(self, name: str, url: str) -> CameraReader:
        return CameraReader(name, url, self.metrics, self.mailboxes[name], self.stop).start()

    def _infer_loop(self, name: str) -> None:
        mailbox = self.mailboxes[name]
        while not self.stop.is_set():
            frame = mailbox.take(timeout=0.5)
            if frame is None:
                continue
            latency = self.inference.infer(frame)
            self.metrics.frames.labels(camera=name).inc()
            self.metrics.latency.labels(camera=name).observe(latency)

    def check_stuck(self, now: float) -> list[str]:
        """Replace readers stuck inside the library with no frame for longer than STUCK_S."""
        replaced: list[str] = []
        for name, url in zip(self.names, self.config.camera_urls, strict=True):
            reader = self.readers[name]
            if reader.connected and reader.watchdog.silent_for(now) > STUCK_S:
                logger.warning("%s: reader stuck for %.1fs: replacing it", name, STUCK_S)
                reader.abandoned = True
                self.metrics.watchdog.labels(camera=name).inc()
                self.metrics.reconnects.labels(camera=name).inc()
                self.readers[name] = self._reader(name, url)
                replaced.append(name)
        return replaced

    def run(self) -> None:
        start_http_server(self.config.ports.vision, addr=HOST, registry=self.registry)
        for name, url in zip(self.names, self.config.camera_urls, strict=True):
            self.readers[name] = self._reader(name, url)
            threading.Thread(
                target=self._infer_loop, args=(name,), name=f"infer-{name}", daemon=True
            ).start()
        logger.info(
            "vision worker: %d cameras, GPU backend %s (%s), metrics on %s:%d",
            len(self.names),
            self.gpu.backend,
            self.gpu.model_name,
            HOST,
            self.config.ports.vision,
        )
        while not self.stop.wait(0.5):
            self.check_stuck(time.monotonic())


def main() -> None:
    parser = argparse.ArgumentParser(description="gameday lab vision worker")
    parser.add_argument("--lab-config", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("libav").setLevel(logging.ERROR)
    worker = VisionWorker(LabConfig.load(args.lab_config))

    def stop(*_: object) -> None:
        worker.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker.run()
    logging.shutdown()
    # Reader threads may sit inside FFmpeg; leave without waiting on them.
    os._exit(0)


if __name__ == "__main__":
    main()
