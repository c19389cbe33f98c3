"""A small NATS / JetStream exporter for the lab (Debian ships no prometheus-nats-exporter).

At each scrape it reads nats-server's monitoring endpoints, ``/varz`` and
``/jsz?consumers=true``, on ``127.0.0.1:ports.nats_monitor`` and exports:

- ``nats_up``: 1 when the broker's monitoring endpoint answered, else 0 (the lab's
  own, like ``redis_up``; the community exporter has none);
- under the community prometheus-nats-exporter's names (``-varz`` and ``-jsz=all``,
  default ``gnatsd`` prefix), a subset of its metrics and labels:
  ``gnatsd_varz_connections``, ``gnatsd_varz_subscriptions``,
  ``gnatsd_varz_slow_consumers``, ``gnatsd_varz_in_msgs``, ``gnatsd_varz_out_msgs``,
  ``gnatsd_varz_mem``, ``gnatsd_varz_cpu``; ``jetstream_server_total_streams``,
  ``jetstream_server_total_consumers``, ``jetstream_server_total_messages``,
  ``jetstream_server_total_message_bytes``;
  ``jetstream_stream_total_messages{stream_name}``, ``jetstream_stream_total_bytes``,
  ``jetstream_stream_first_seq``, ``jetstream_stream_last_seq``,
  ``jetstream_stream_consumer_count``;
  ``jetstream_consumer_num_pending{stream_name,consumer_name}``,
  ``jetstream_consumer_num_ack_pending``, ``jetstream_consumer_num_redelivered``,
  ``jetstream_consumer_num_waiting``, ``jetstream_consumer_delivered_stream_seq``,
  ``jetstream_consumer_ack_floor_stream_seq``.

Every series carries ``server_name``; stream and consumer series also ``account``.
When the broker does not answer only ``nats_up 0`` is exported, so no stale backlog
figure outlives it.

Run as ``python -m gameday.lab.queue_exporter --lab-config LAB.json``.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import requests
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric, UnknownMetricFamily
from prometheus_client.registry import Collector

from gameday.lab.config import HOST, LabConfig

logger = logging.getLogger("gameday.lab.queue_exporter")
HTTP_TIMEOUT_S = 0.8

# /varz key → (metric name, help, is a counter). Counters keep the community name
# (no `_total`), so they are exported untyped, as client libraries other than Go's would
# otherwise rename them.
VARZ = {
    "connections": ("gnatsd_varz_connections", "Current client connections.", False),
    "subscriptions": ("gnatsd_varz_subscriptions", "Current subscriptions.", False),
    "slow_consumers": ("gnatsd_varz_slow_consumers", "Slow consumers seen.", True),
    "in_msgs": ("gnatsd_varz_in_msgs", "Messages received by the server.", True),
    "out_msgs": ("gnatsd_varz_out_msgs", "Messages sent by the server.", True),
    "mem": ("gnatsd_varz_mem", "Resident memory of the server, bytes.", False),
    "cpu": ("gnatsd_varz_cpu", "CPU use of the server, percent.", False),
}
JS_SERVER = {
    "streams": ("jetstream_server_total_streams", "Streams in JetStream."),
    "consumers": ("jetstream_server_total_consumers", "Consumers in JetStream."),
    "messages": ("jetstream_server_total_messages", "Messages stored in JetStream."),
    "bytes": ("jetstream_server_total_message_bytes", "Bytes stored in JetStream."),
}
STREAM_STATE = {
    "messages": ("jetstream_stream_total_messages", "Messages in the stream."),
    "bytes": ("jetstream_stream_total_bytes", "Bytes stored in the stream."),
    "first_seq": ("jetstream_stream_first_seq", "First sequence in the stream."),
    "last_seq": ("jetstream_stream_last_seq", "Last sequence in the stream."),
    "consumer_count": ("jetstream_stream_consumer_count", "Consumers of the stream."),
}
CONSUMER_FIELDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("num_pending",): (
        "jetstream_consumer_num_pending",
        "Messages in the stream not yet delivered to the consumer (its backlog).",
    ),
    ("num_ack_pending",): (
        "jetstream_consumer_num_ack_pending",
        "Messages delivered to the consumer and not yet acknowledged.",
    ),
    ("num_redelivered",): (
        "jetstream_consumer_num_redelivered",
        "Messages redelivered to the consumer.",
    ),
    ("num_waiting",): (
        "jetstream_consumer_num_waiting",
        "Pull requests waiting for messages.",
    ),
    ("delivered", "stream_seq"): (
        "jetstream_consumer_delivered_stream_seq",
        "Last stream sequence delivered to the consumer.",
    ),
    ("ack_floor", "stream_seq"): (
        "jetstream_consumer_ack_floor_stream_seq",
        "Stream sequence up to which every message is acknowledged.",
    ),
}
SERVER_LABELS = ["server_name"]
STREAM_LABELS = ["server_name", "account", "stream_name"]
CONSUMER_LABELS = [*STREAM_LABELS, "consumer_name"]


def _number(document: Mapping[str, Any], *path: str) -> float:
    value: Any = document
    for key in path:
        value = value.get(key, {}) if isinstance(value, Mapping) else {}
    return float(value) if isinstance(value, int | float) else 0.0


def up_metric(up: bool) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "nats_up", "1 when the NATS server's monitoring endpoint answers.", value=1 if up else 0
    )


def server_metrics(varz: Mapping[str, Any], jsz: Mapping[str, Any]) -> list[Metric]:
    """The broker-wide figures from /varz and /jsz."""
    server = str(varz.get("server_name") or varz.get("server_id") or "nats")
    found: list[Metric] = []
    for key, (name, help_text, counter) in VARZ.items():
        if counter:
            untyped = UnknownMetricFamily(name, help_text, labels=SERVER_LABELS)
            untyped.add_metric([server], _number(varz, key))
            found.append(untyped)
        else:
            gauge = GaugeMetricFamily(name, help_text, labels=SERVER_LABELS)
            gauge.add_metric([server], _number(varz, key))
            found.append(gauge)
    for key, (name, help_text) in JS_SERVER.items():
        total = GaugeMetricFamily(name, help_text, labels=SERVER_LABELS)
        total.add_metric([server], _number(jsz, key))
        found.append(total)
    return found


def stream_metrics(server: str, jsz: Mapping[str, Any]) -> list[GaugeMetricFamily]:
    """Per stream and per consumer, from /jsz?consumers=true's account details."""
    streams = {
        key: GaugeMetricFamily(name, help_text, labels=STREAM_LABELS)
        for key, (name, help_text) in STREAM_STATE.items()
    }
    consumers = {
        path: GaugeMetricFamily(name, help_text, labels=CONSUMER_LABELS)
        for path, (name, help_text) in CONSUMER_FIELDS.items()
    }
    for account in jsz.get("account_details") or []:
        account_name = str(account.get("name", ""))
        for stream in account.get("stream_detail") or []:
            stream_name = str(stream.get("name", ""))
            labels = [server, account_name, stream_name]
            for key, gauge in streams.items():
                gauge.add_metric(labels, _number(stream, "state", key))
            for consumer in stream.get("consumer_detail") or []:
                consumer_labels = [*labels, str(consumer.get("name", ""))]
                for path, gauge in consumers.items():
                    gauge.add_metric(consumer_labels, _number(consumer, *path))
    return [*streams.values(), *consumers.values()]


class NatsCollector(Collector):
    """Reads the broker's monitoring endpoints at each scrape."""

    def __init__(self, monitor_url: str, session: requests.Session | None = None) -> None:
        self._url = monitor_url.rstrip("/")
        self._session = session or requests.Session()

    def _get(self, path: str) -> dict[str, Any]:
        reply = self._session.get(self._url + path, timeout=HTTP_TIMEOUT_S)
        reply.raise_for_status()
        document: dict[str, Any] = reply.json()
        return document

    def collect(self) -> Iterator[Metric]:
        try:
            varz = self._get("/varz")
            jsz = self._get("/jsz?consumers=true")
        except (requests.RequestException, ValueError) as exc:
            logger.debug("NATS monitoring unreachable: %s", exc)
            yield up_metric(False)
            return
        yield up_metric(True)
        yield from server_metrics(varz, jsz)
        server = str(varz.get("server_name") or varz.get("server_id") or "nats")
        yield from stream_metrics(server, jsz)


def main() -> None:
    parser = argparse.ArgumentParser(description="gameday lab NATS / JetStream exporter")
    parser.add_argument("--lab-config", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    config = LabConfig.load(args.lab_config)
    registry = CollectorRegistry()
    registry.register(NatsCollector(config.url(config.ports.nats_monitor)))
    start_http_server(config.ports.queue_exporter, addr=HOST, registry=registry)
    logger.info("exporting NATS metrics on %s:%d", HOST, config.ports.queue_exporter)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
