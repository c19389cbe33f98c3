"""The notification sink: Alertmanager's webhook receivers, recorded durably.

Each receiver posts to ``/hook/<receiver>``; every alert of every delivery is
appended to a JSON-lines file and fsynced before the webhook is answered, so a
delivery that Alertmanager saw succeed is never lost. ``GET /notifications``
returns them (filters: alertname, receiver, status).

Run as ``python -m gameday.observe.sink --file PATH --port PORT``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from gameday.observe.notifications import matching, notifications_from_webhook, read_notifications

logger = logging.getLogger("gameday.observe.sink")


def build_app(path: Path) -> web.Application:
    registry = CollectorRegistry()
    delivered = Counter(
        "gameday_sink_notifications_total",
        "Alert notifications received, by receiver, alert and status.",
        ["receiver", "alertname", "status"],
        registry=registry,
    )
    lock = asyncio.Lock()
    path.parent.mkdir(parents=True, exist_ok=True)

    async def hook(request: web.Request) -> web.Response:
        receiver = request.match_info["receiver"]
        try:
            payload = await request.json()
            records = notifications_from_webhook(receiver, payload, datetime.now(UTC))
        except (ValueError, AttributeError) as exc:
            return web.json_response({"error": f"bad webhook payload: {exc}"}, status=400)
        lines = "".join(json.dumps(record, sort_keys=True) + "\n" for record in records)
        async with lock:
            with path.open("a", encoding="utf-8") as stream:
                stream.write(lines)
                stream.flush()
                os.fsync(stream.fileno())
        for record in records:
            delivered.labels(record["receiver"], record["alertname"], record["status"]).inc()
            logger.info("%s %s -> %s", record["status"], record["alertname"], record["receiver"])
        return web.json_response({"recorded": len(records)})

    async def notifications(request: web.Request) -> web.Response:
        query = request.query
        records = matching(
            read_notifications(path),
            alertname=query.get("alertname"),
            receiver=query.get("receiver"),
            status=query.get("status"),
        )
        return web.json_response(records)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app = web.Application()
    app.router.add_post("/hook/{receiver}", hook)
    app.router.add_get("/notifications", notifications)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="gameday notification sink")
    parser.add_argument("--file", type=Path, required=True, help="JSON-lines file to append to")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    web.run_app(build_app(args.file), host=args.host, port=args.port, access_log=None)


if __name__ == "__main__":
    main()
