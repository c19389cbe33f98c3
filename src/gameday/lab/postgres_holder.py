"""The postgres part's connection holder: a runaway client, idle until told otherwise.

It reads an order file (``run/postgres-exhaust.json``, written by the
connection-exhaustion fault) every 0.2 s. An order makes it open sessions as the role
``batch_job`` on the ``orders`` database, one after the other, until it holds the
number asked for or PostgreSQL refuses ("sorry, too many clients already": every slot
but the superusers' reserved ones is taken), then leave them idle, like a batch job
that leaks its connections. It does not reopen sessions an operator terminates. When
the order is gone it closes them. What it holds is written to
``run/postgres-holder.json`` for the fault to wait on.

Run as ``python -m gameday.lab.postgres_holder --lab-config LAB.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from gameday.lab.config import HOST, LabConfig
from gameday.lab.extras.postgres import (
    BATCH_ROLE,
    DATABASE,
    MAX_CONNECTIONS,
    read_order,
    write_status,
)

logger = logging.getLogger("gameday.lab.postgres_holder")
POLL_S = 0.2
CONNECT_TIMEOUT_S = 2.0
CLOSE_TIMEOUT_S = 1.0
APPLICATION_NAME = "batch-job (gameday connection holder)"


class Holder:
    """The sessions held for one order, and the status the fault reads."""

    def __init__(self, config: LabConfig) -> None:
        self.config = config
        self.order_id: str | None = None
        self.held: list[Any] = []
        self.error = ""
        self._reported: tuple[str | None, int, str] | None = None

    def report(self) -> None:
        """Write the status when it changed (an operator may terminate sessions)."""
        self.held = [connection for connection in self.held if not connection.is_closed()]
        now = (self.order_id, len(self.held), self.error)
        if now == self._reported:
            return
        self._reported = now
        write_status(
            self.config,
            {
                "order": self.order_id,
                "held": len(self.held),
                "state": "failed" if self.error else ("holding" if self.order_id else "idle"),
                "error": self.error,
                "pid": os.getpid(),
                "at": time.time(),
            },
        )

    async def fill(self, order_id: str, wanted: int | None) -> None:
        """Open sessions until `wanted` (None: until PostgreSQL refuses one)."""
        await self.release()
        self.order_id = order_id
        limit = wanted if wanted is not None else MAX_CONNECTIONS
        while len(self.held) < limit:
            try:
                connection = await asyncpg.connect(
                    host=HOST,
                    port=self.config.ports.postgres,
                    user=BATCH_ROLE,
                    database=DATABASE,
                    timeout=CONNECT_TIMEOUT_S,
                    server_settings={"application_name": APPLICATION_NAME},
                )
            except asyncpg.TooManyConnectionsError:
                break  # every slot a client may use is taken: the point
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self.error = f"{type(exc).__name__}: {exc}"
                break
            self.held.append(connection)
        logger.info("order %s: holding %d sessions as %s", order_id, len(self.held), BATCH_ROLE)

    async def release(self) -> None:
        if self.held:
            logger.info("releasing %d sessions", len(self.held))
        for connection in self.held:
            try:
                await connection.close(timeout=CLOSE_TIMEOUT_S)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                connection.terminate()
        self.held = []
        self.order_id = None
        self.error = ""


async def hold(config: LabConfig) -> None:
    holder = Holder(config)
    holder.report()
    while True:
        order = read_order(config)
        if order is None:
            if holder.order_id is not None:
                await holder.release()
        elif order.get("id") != holder.order_id:
            wanted = order.get("connections")
            await holder.fill(str(order.get("id")), wanted if isinstance(wanted, int) else None)
        holder.report()
        await asyncio.sleep(POLL_S)


def main() -> None:
    parser = argparse.ArgumentParser(description="gameday lab PostgreSQL connection holder")
    parser.add_argument("--lab-config", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    asyncio.run(hold(LabConfig.load(args.lab_config)))


if __name__ == "__main__":
    main()
