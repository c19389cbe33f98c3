"""A TCP proxy in front of each etcd member's peer port.

Each member listens for peers on a real port and advertises the proxy's port,
so every peer connection passes through here. That is what lets a later fault
isolate one member without root: the proxy can refuse and abort the
connections to and from it. Without a fault it forwards bytes unchanged.

Run as ``python -m gameday.lab.peer_proxy --lab-config LAB.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path

from gameday.lab.config import HOST, LabConfig

logger = logging.getLogger("gameday.lab.peer_proxy")
CHUNK = 64 * 1024


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _forward(
    target_port: int, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
) -> None:
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(HOST, target_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(
        _pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer)
    )


async def serve(config: LabConfig) -> None:
    servers = []
    for listen, target in zip(config.ports.etcd_peer_proxy, config.ports.etcd_peer, strict=True):

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: int = target
        ) -> None:
            await _forward(target, reader, writer)

        servers.append(await asyncio.start_server(handle, HOST, listen))
        logger.info("peer proxy %s:%d -> %d", HOST, listen, target)
    await asyncio.gather(*(server.serve_forever() for server in servers))


def main() -> None:
    parser = argparse.ArgumentParser(description="gameday lab etcd peer proxy")
    parser.add_argument("--lab-config", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    asyncio.run(serve(LabConfig.load(args.lab_config)))


if __name__ == "__main__":
    main()
