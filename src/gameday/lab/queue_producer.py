"""The lab queue's producer: publishes to the JetStream stream at a fixed, bounded rate.

Each tick publishes one message to ``events.lab`` and waits for JetStream's ack. A
tick missed (a slow ack) is skipped, never caught up, so the rate never exceeds the
target. While the broker is away a tick counts a publish error at once instead of
buffering: the error counter is what `QueuePublishFailures` watches.

Metrics on ``127.0.0.1:ports.queue_producer``: ``queue_producer_published_total``,
``queue_producer_publish_errors_total{reason}``, ``queue_producer_connected``,
``queue_producer_target_rate``.

Run as ``python -m gameday.lab.queue_producer --lab-config LAB.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import nats.errors
from nats.aio.client import Client
from nats.js.errors import APIError
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from gameday.lab import queue_stream
from gameday.lab.config import HOST, LabConfig

logger = logging.getLogger("gameday.lab.queue_producer")
DEFAULT_RATE = 25.0
MAX_RATE = 200.0
PUBLISH_TIMEOUT_S = 1.0


@dataclass
class ProducerMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.published = Counter(
            "queue_producer_published",
            "Messages published and acknowledged by JetStream.",
            registry=self.registry,
        )
        self.errors = Counter(
            "queue_producer_publish_errors",
            "Publishes that failed, by reason (disconnected, timeout, no_responders, api).",
            ["reason"],
            registry=self.registry,
        )
        self.connected = Gauge(
            "queue_producer_connected",
            "1 while the producer is connected to the broker.",
            registry=self.registry,
        )
        self.target_rate = Gauge(
            "queue_producer_target_rate",
            "Messages per second the producer aims at.",
            registry=self.registry,
        )
        for reason in ("disconnected", "timeout", "no_responders", "api"):
            self.errors.labels(reason=reason)


def error_reason(exc: BaseException) -> str:
    """A short, bounded label for why a publish failed."""
    if isinstance(exc, nats.errors.NoRespondersError):
        return "no_responders"  # connected, but JetStream not ready (yet)
    if isinstance(exc, TimeoutError | nats.errors.TimeoutError):
        return "timeout"
    if isinstance(exc, APIError):
        return "api"
    return "disconnected"


class Ticker:
    """Ticks at a fixed rate; a tick missed is dropped, so bursts never happen."""

    def __init__(self, rate: float, now: float) -> None:
        self.interval = 1.0 / rate
        self.next_at = now

    def delay(self, now: float) -> float:
        """Seconds to wait before the next tick, from `now`."""
        self.next_at += self.interval
        if self.next_at < now:
            self.next_at = now  # behind: start again from now instead of bursting
        return self.next_at - now


async def produce(config: LabConfig, rate: float, metrics: ProducerMetrics) -> None:
    client = await queue_stream.connect(config, "queue-producer", metrics.connected.set)
    try:
        await _publish_forever(client, rate, metrics)
    finally:
        await client.close()


async def _publish_forever(client: Client, rate: float, metrics: ProducerMetrics) -> None:
    js = client.jetstream()
    stream_ready = False
    sequence = 0
    ticker = Ticker(rate, time.monotonic())
    while True:
        await asyncio.sleep(ticker.delay(time.monotonic()))
        if not client.is_connected:
            metrics.errors.labels(reason="disconnected").inc()
            stream_ready = False
            continue
        try:
            if not stream_ready:
                await queue_stream.ensure_stream(js)
                stream_ready = True
            sequence += 1
            payload = json.dumps({"seq": sequence, "at": time.time()}).encode()
            await js.publish(queue_stream.SUBJECT, payload, timeout=PUBLISH_TIMEOUT_S)
            metrics.published.inc()
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            reason = error_reason(exc)
            metrics.errors.labels(reason=reason).inc()
            logger.debug("publish failed (%s): %r", reason, exc)


def main() -> None:
    parser = argparse.ArgumentParser(description="gameday lab queue producer")
    parser.add_argument("--lab-config", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="messages per second")
    args = parser.parse_args()
    if not 0 < args.rate <= MAX_RATE:
        parser.error(f"--rate {args.rate:g} is out of range: choose 0 < rate <= {MAX_RATE:g}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    config = LabConfig.load(args.lab_config)
    metrics = ProducerMetrics()
    metrics.target_rate.set(args.rate)
    # Metrics first: Prometheus scrapes the producer even while the broker is down.
    start_http_server(config.ports.queue_producer, addr=HOST, registry=metrics.registry)
    asyncio.run(produce(config, args.rate, metrics))


if __name__ == "__main__":
    main()
