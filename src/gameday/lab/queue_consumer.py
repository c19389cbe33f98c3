"""The lab queue's consumer: a durable JetStream pull consumer that fetches and acks.

It fetches up to `--batch` messages at a time from the ``lab-workers`` consumer of
stream ``EVENTS``, spends `--work-ms` on each (the "processing"), acks it and counts
it. Its capacity (about 1000 / work-ms messages a second) is well above the
producer's rate, so a backlog left by a pause drains within seconds of resuming.

Paused (SIGSTOP) it fetches nothing and the consumer's pending count grows: that is
the `QueueBacklog` fault. After the broker went away it reconnects by itself and
binds its durable consumer again (the broker keeps it on disk).

Metrics on ``127.0.0.1:ports.queue_consumer``: ``queue_consumer_processed_total``,
``queue_consumer_fetch_errors_total``, ``queue_consumer_connected``.

Run as ``python -m gameday.lab.queue_consumer --lab-config LAB.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from gameday.lab import queue_stream
from gameday.lab.config import HOST, LabConfig

logger = logging.getLogger("gameday.lab.queue_consumer")
DEFAULT_BATCH = 50
DEFAULT_WORK_MS = 2.0
FETCH_TIMEOUT_S = 1.0
RETRY_S = 0.5


@dataclass
class ConsumerMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.processed = Counter(
            "queue_consumer_processed",
            "Messages processed and acknowledged.",
            registry=self.registry,
        )
        self.errors = Counter(
            "queue_consumer_fetch_errors",
            "Fetches or acks that failed (broker away, consumer missing).",
            registry=self.registry,
        )
        self.connected = Gauge(
            "queue_consumer_connected",
            "1 while the consumer is connected to the broker.",
            registry=self.registry,
        )


async def _process(messages: list[Msg], work_s: float, metrics: ConsumerMetrics) -> None:
    for message in messages:
        if work_s > 0:
            await asyncio.sleep(work_s)
        await message.ack()
        metrics.processed.inc()


async def consume(config: LabConfig, batch: int, work_s: float, metrics: ConsumerMetrics) -> None:
    client = await queue_stream.connect(config, "queue-consumer", metrics.connected.set)
    try:
        await _consume_forever(client, batch, work_s, metrics)
    finally:
        await client.close()


async def _consume_forever(
    client: Client, batch: int, work_s: float, metrics: ConsumerMetrics
) -> None:
    js = client.jetstream()
    subscription: JetStreamContext.PullSubscription | None = None
    while True:
        if not client.is_connected:
            await asyncio.sleep(RETRY_S)
            continue
        try:
            if subscription is None:
                subscription = await js.pull_subscribe(
                    queue_stream.SUBJECT_FILTER,
                    durable=queue_stream.DURABLE,
                    stream=queue_stream.STREAM,
                    config=queue_stream.consumer_config(),
                )
                logger.info("bound to %s/%s", queue_stream.STREAM, queue_stream.DURABLE)
            messages = await subscription.fetch(batch, timeout=FETCH_TIMEOUT_S)
            await _process(messages, work_s, metrics)
        except NotFoundError as exc:
            # No stream yet (the producer creates it) or the consumer is gone: bind anew.
            metrics.errors.inc()
            logger.info("not bound yet: %s", exc)
            await _drop(subscription)
            subscription = None
            await asyncio.sleep(RETRY_S)
        except TimeoutError:
            continue  # nothing to fetch within the timeout: an idle queue
        except (nats.errors.Error, OSError) as exc:
            metrics.errors.inc()
            logger.debug("fetch failed: %r", exc)
            await asyncio.sleep(RETRY_S)


async def _drop(subscription: JetStreamContext.PullSubscription | None) -> None:
    if subscription is not None:
        try:
            await subscription.unsubscribe()
        except (nats.errors.Error, OSError) as exc:
            logger.debug("unsubscribe failed: %r", exc)


def main() -> None:
    parser = argparse.ArgumentParser(description="gameday lab queue consumer")
    parser.add_argument("--lab-config", type=Path, required=True)
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="messages per fetch")
    parser.add_argument(
        "--work-ms", type=float, default=DEFAULT_WORK_MS, help="processing time per message"
    )
    args = parser.parse_args()
    if not 1 <= args.batch <= 1000:
        parser.error(f"--batch {args.batch} is out of range: choose 1 to 1000")
    if not 0 <= args.work_ms <= 1000:
        parser.error(f"--work-ms {args.work_ms:g} is out of range: choose 0 to 1000")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    config = LabConfig.load(args.lab_config)
    metrics = ConsumerMetrics()
    start_http_server(config.ports.queue_consumer, addr=HOST, registry=metrics.registry)
    asyncio.run(consume(config, args.batch, args.work_ms / 1000.0, metrics))


if __name__ == "__main__":
    main()
