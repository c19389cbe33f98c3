"""A TCP proxy in front of each etcd member's peer port, able to isolate one member.

Each member listens for peers on a real port and advertises the proxy's port,
so every peer connection passes through here. Without a fault the proxy
forwards bytes unchanged. To partition a member without root, the proxy
refuses and aborts every connection *to* that member (the proxy port it
fronts) and every connection *from* it: etcd's raft streams run over
connections the other member opened, so the direction of a TCP connection
says nothing about who sends; every peer request carries an ``X-Server-From``
header with the sending member's ID (hex), which the proxy reads from the
request heads it forwards.

A control endpoint on ``127.0.0.1:ports.peer_proxy_control``:

- ``GET /partition``: the current partition (``{"isolated": null}`` when none);
- ``PUT /partition`` with ``{"member": "etcd-1", "id": "8e9e05c52164694d"}``:
  isolate that member (its name, and its member ID as etcd prints it, hex);
- ``DELETE /partition``: heal;
- ``GET /metrics``: ``gameday_peer_proxy_isolated{member}``,
  ``gameday_peer_proxy_connections{member}``,
  ``gameday_peer_proxy_refused_connections_total{member}``,
  ``gameday_peer_proxy_aborted_connections_total{member}``.

Run as ``python -m gameday.lab.peer_proxy --lab-config LAB.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from gameday.lab.config import ETCD_MEMBERS, HOST, LabConfig

logger = logging.getLogger("gameday.lab.peer_proxy")
CHUNK = 64 * 1024
MAX_HEAD = 64 * 1024
SENDER_HEADER = b"x-server-from"


def normalise_id(member_id: str) -> str:
    """A member ID as etcd writes it: lower-case hex without leading zeros."""
    text = member_id.strip().lower()
    text = text.removeprefix("0x")
    return format(int(text, 16), "x")


class RequestScanner:
    """Follows the HTTP/1.1 requests in a client-to-server byte stream.

    It reads each request head, reports its ``X-Server-From`` header, and skips
    the body (``Content-Length`` or chunked). Whatever it cannot follow (a head
    larger than 64 KiB, a malformed length) turns it opaque: it then reports
    nothing more, and the bytes are still forwarded.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._state = "head"
        self._remaining = 0
        self.opaque = False

    def feed(self, data: bytes) -> list[str]:
        """Consume bytes; return the sender IDs of the request heads completed in them."""
        if self.opaque:
            return []
        senders: list[str] = []
        self._buffer += data
        try:
            while self._step(senders):
                pass
        except ValueError:
            self.opaque = True
            self._buffer = b""
        return senders

    def _step(self, senders: list[str]) -> bool:
        """Advance one state; False when more bytes are needed."""
        if self._state == "head":
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD:
                    raise ValueError("request head too large")
                return False
            head, self._buffer = self._buffer[:end], self._buffer[end + 4 :]
            self._head(head, senders)
            return True
        if self._state == "body":
            taken = min(self._remaining, len(self._buffer))
            self._buffer = self._buffer[taken:]
            self._remaining -= taken
            if self._remaining == 0:
                self._state = "head"
                return True
            return False
        if self._state == "chunk-size":
            end = self._buffer.find(b"\r\n")
            if end < 0:
                if len(self._buffer) > 1024:
                    raise ValueError("chunk size line too long")
                return False
            line, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
            size = int(line.split(b";", 1)[0].strip() or b"x", 16)
            if size == 0:
                self._state = "trailers"
            else:
                self._remaining = size + 2  # the chunk and its CRLF
                self._state = "chunk-data"
            return True
        if self._state == "chunk-data":
            taken = min(self._remaining, len(self._buffer))
            self._buffer = self._buffer[taken:]
            self._remaining -= taken
            if self._remaining == 0:
                self._state = "chunk-size"
                return True
            return False
        # trailers: header lines until an empty line
        end = self._buffer.find(b"\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD:
                raise ValueError("trailers too large")
            return False
        line, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
        if not line:
            self._state = "head"
        return True

    def _head(self, head: bytes, senders: list[str]) -> None:
        lines = head.split(b"\r\n")
        if not lines[0].strip():
            # Tolerate a stray CRLF between requests.
            lines = lines[1:]
        if not lines or b" HTTP/" not in lines[0]:
            raise ValueError("not an HTTP request")
        length = 0
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            key = name.strip().lower()
            if key == SENDER_HEADER:
                with contextlib.suppress(ValueError):
                    senders.append(normalise_id(value.decode("latin-1")))
            elif key == b"content-length":
                length = int(value.strip())
            elif key == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            self._state = "chunk-size"
        elif length > 0:
            self._state = "body"
            self._remaining = length


@dataclass
class Partition:
    """Which member (if any) is cut off from the others."""

    member: str | None = None
    member_id: str | None = None

    def isolate(self, member: str, member_id: str) -> None:
        self.member = member
        self.member_id = normalise_id(member_id)

    def heal(self) -> None:
        self.member = None
        self.member_id = None

    def blocks(self, destination: str, sender_id: str | None) -> bool:
        """Whether a connection to `destination` from `sender_id` (None: unknown) is cut."""
        if self.member is None:
            return False
        if destination == self.member:
            return True
        return sender_id is not None and sender_id == self.member_id


@dataclass(eq=False)
class Link:
    """One proxied connection: its destination member, its sender once known, both ends."""

    destination: str
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    sender: str | None = None
    scanner: RequestScanner = field(default_factory=RequestScanner)

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()


class PeerProxy:
    """The proxies for every member, the partition, the open links, the metrics."""

    def __init__(self, config: LabConfig) -> None:
        self.config = config
        self.partition = Partition()
        self.links: set[Link] = set()
        self.registry = CollectorRegistry()
        self.members = [f"etcd-{i}" for i in range(ETCD_MEMBERS)]
        self._isolated = Gauge(
            "gameday_peer_proxy_isolated",
            "1 while the member is partitioned from the others.",
            ["member"],
            registry=self.registry,
        )
        self._connections = Gauge(
            "gameday_peer_proxy_connections",
            "Open peer connections to the member.",
            ["member"],
            registry=self.registry,
        )
        self._refused = Counter(
            "gameday_peer_proxy_refused_connections",
            "Peer connections refused because of a partition, by destination member.",
            ["member"],
            registry=self.registry,
        )
        self._aborted = Counter(
            "gameday_peer_proxy_aborted_connections",
            "Open peer connections aborted when a partition began, by destination member.",
            ["member"],
            registry=self.registry,
        )
        for member in self.members:
            self._isolated.labels(member=member).set(0)
            self._connections.labels(member=member).set_function(self._counter(member))
            self._refused.labels(member=member)
            self._aborted.labels(member=member)

    def _counter(self, member: str) -> Callable[[], float]:
        def count() -> float:
            return float(sum(1 for link in self.links if link.destination == member))

        return count

    def isolate(self, member: str, member_id: str) -> int:
        """Cut `member` off; abort its open connections; return how many were aborted."""
        if member not in self.members:
            raise ValueError(f"unknown member {member!r}; members: {', '.join(self.members)}")
        self.heal()
        self.partition.isolate(member, member_id)
        self._isolated.labels(member=member).set(1)
        cut = [link for link in self.links if self.partition.blocks(link.destination, link.sender)]
        for link in cut:
            self._aborted.labels(member=link.destination).inc()
            link.abort()
        logger.warning("isolated %s (%s): aborted %d connections", member, member_id, len(cut))
        return len(cut)

    def heal(self) -> None:
        if self.partition.member is not None:
            logger.warning("healed the partition of %s", self.partition.member)
        for member in self.members:
            self._isolated.labels(member=member).set(0)
        self.partition.heal()

    async def _pipe_up(self, link: Link, reader: asyncio.StreamReader) -> None:
        upstream = link.upstream
        assert upstream is not None
        try:
            while data := await reader.read(CHUNK):
                if link.sender is None:
                    senders = link.scanner.feed(data)
                    if senders:
                        link.sender = senders[0]
                        if self.partition.blocks(link.destination, link.sender):
                            self._refused.labels(member=link.destination).inc()
                            link.abort()
                            return
                upstream.write(data)
                await upstream.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(Exception):
                upstream.close()

    async def _pipe_down(self, link: Link, reader: asyncio.StreamReader) -> None:
        try:
            while data := await reader.read(CHUNK):
                link.client.write(data)
                await link.client.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(Exception):
                link.client.close()

    async def handle(
        self,
        destination: str,
        target_port: int,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
    ) -> None:
        link = Link(destination=destination, client=client_writer)
        if self.partition.blocks(destination, None):
            self._refused.labels(member=destination).inc()
            link.abort()
            return
        try:
            upstream_reader, link.upstream = await asyncio.open_connection(HOST, target_port)
        except OSError:
            client_writer.close()
            return
        self.links.add(link)
        try:
            await asyncio.gather(
                self._pipe_up(link, client_reader), self._pipe_down(link, upstream_reader)
            )
        finally:
            self.links.discard(link)

    def control_app(self) -> web.Application:
        async def get_partition(_: web.Request) -> web.Response:
            return web.json_response(self.state())

        async def put_partition(request: web.Request) -> web.Response:
            try:
                body = await request.json()
                aborted = self.isolate(str(body["member"]), str(body["id"]))
            except (ValueError, KeyError, TypeError) as exc:
                return web.json_response({"error": f"bad partition request: {exc}"}, status=400)
            return web.json_response({**self.state(), "aborted": aborted})

        async def delete_partition(_: web.Request) -> web.Response:
            self.heal()
            return web.json_response(self.state())

        async def metrics(_: web.Request) -> web.Response:
            return web.Response(
                body=generate_latest(self.registry),
                headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
            )

        app = web.Application()
        app.router.add_get("/partition", get_partition)
        app.router.add_put("/partition", put_partition)
        app.router.add_delete("/partition", delete_partition)
        app.router.add_get("/metrics", metrics)
        return app

    def state(self) -> dict[str, object]:
        return {
            "isolated": self.partition.member,
            "isolated_id": self.partition.member_id,
            "connections": len(self.links),
        }

    async def serve(self) -> None:
        ports = self.config.ports
        servers = []
        for member, listen, target in zip(
            self.members, ports.etcd_peer_proxy, ports.etcd_peer, strict=True
        ):

            async def handle(
                reader: asyncio.StreamReader,
                writer: asyncio.StreamWriter,
                member: str = member,
                target: int = target,
            ) -> None:
                await self.handle(member, target, reader, writer)

            servers.append(await asyncio.start_server(handle, HOST, listen))
            logger.info("peer proxy %s:%d -> %d (%s)", HOST, listen, target, member)
        runner = web.AppRunner(self.control_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, HOST, ports.peer_proxy_control).start()
        logger.info("control endpoint on %s:%d", HOST, ports.peer_proxy_control)
        await asyncio.gather(*(server.serve_forever() for server in servers))


def main() -> None:
    parser = argparse.ArgumentParser(description="gameday lab etcd peer proxy")
    parser.add_argument("--lab-config", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    asyncio.run(PeerProxy(LabConfig.load(args.lab_config)).serve())


if __name__ == "__main__":
    main()
