"""The lab queue's JetStream layout and how its producer and consumer reach the broker.

One stream, ``EVENTS`` (subjects ``events.>``), kept on disk as a work queue: a
message leaves the stream once the durable pull consumer ``lab-workers`` acks it,
so the stream's message count is the queue's depth, as a RabbitMQ queue's would be.
The producer creates the stream at start (idempotent: an identical stream already
there is accepted); the consumer creates its durable consumer the same way.

Both clients connect through `connect`: it keeps trying until the broker answers
and reconnects by itself after the broker went away (no limit on attempts), so a
stopped and restarted broker needs no restart of its clients.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from gameday.lab.config import HOST, LabConfig

logger = logging.getLogger("gameday.lab.queue_stream")

STREAM = "EVENTS"
SUBJECT_FILTER = "events.>"
SUBJECT = "events.lab"
DURABLE = "lab-workers"
RECONNECT_WAIT_S = 0.5
CONNECT_TIMEOUT_S = 1.0
# Bounds on disk and age so a consumer paused for long cannot fill the lab's disk.
MAX_MESSAGES = 100_000
MAX_BYTES = 64 * 1024 * 1024
MAX_AGE_S = 600.0
ACK_WAIT_S = 10.0


def server_url(config: LabConfig) -> str:
    return f"nats://{HOST}:{config.ports.nats}"


def stream_config() -> StreamConfig:
    return StreamConfig(
        name=STREAM,
        subjects=[SUBJECT_FILTER],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_msgs=MAX_MESSAGES,
        max_bytes=MAX_BYTES,
        max_age=MAX_AGE_S,
        num_replicas=1,
    )


def consumer_config() -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=DURABLE,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ACK_WAIT_S,
        max_ack_pending=1000,
    )


async def ensure_stream(js: JetStreamContext) -> bool:
    """Create the stream unless it exists; True when this call created it."""
    try:
        await js.stream_info(STREAM)
        return False
    except NotFoundError:
        await js.add_stream(stream_config())
        logger.info("created stream %s (%s)", STREAM, SUBJECT_FILTER)
        return True


async def connect(config: LabConfig, name: str, connected: Callable[[bool], None]) -> Client:
    """A client that waits for the broker and reconnects after it comes back.

    :param connected: told True on (re)connect and False on disconnect, for a gauge
    """

    async def on_disconnect() -> None:
        connected(False)
        logger.warning("disconnected from %s", server_url(config))

    async def on_reconnect() -> None:
        connected(True)
        logger.info("reconnected to %s", server_url(config))

    async def on_error(exc: Exception) -> None:
        # Refused connections repeat every half second while the broker is down.
        logger.debug("nats client: %s", exc)

    client = await nats.connect(
        servers=[server_url(config)],
        name=name,
        allow_reconnect=True,
        max_reconnect_attempts=-1,  # forever, the first connection included
        reconnect_time_wait=RECONNECT_WAIT_S,
        connect_timeout=CONNECT_TIMEOUT_S,
        ping_interval=5,
        max_outstanding_pings=2,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
        error_cb=on_error,
    )
    connected(True)
    logger.info("connected to %s as %s", server_url(config), name)
    return client
