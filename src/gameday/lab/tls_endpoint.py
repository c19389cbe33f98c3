"""The lab's TLS endpoint: an HTTPS service whose certificate a fault can swap.

It serves ``GET /healthz`` (``ok``) over TLS on ``127.0.0.1:ports.tls_endpoint``
with the key and certificate in ``LAB_DIR/tls/server.pem``. The file is checked
at every new connection and the TLS context rebuilt when it changed (another
inode, size or mtime), so a swapped certificate is served from the next
handshake on, without a restart, as a server with hot certificate reload (or a
sidecar that rotates them) does. A file that cannot be loaded (half written,
key and certificate apart) keeps the last good context and is tried again at
the next connection.

Each connection is answered by its own thread; the handshake runs there, with a
timeout, so a client that stalls holds up nobody. The blackbox exporter probes
it; it has no metrics of its own.

Run as ``python -m gameday.lab.tls_endpoint --lab-config LAB.json``.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from gameday.lab.config import HOST, LabConfig
from gameday.lab.tls_certificates import tls_files

logger = logging.getLogger("gameday.lab.tls_endpoint")
CONNECTION_TIMEOUT_S = 10.0
Stamp = tuple[int, int, int]


def _stamp(path: Path) -> Stamp | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_ino, status.st_size, status.st_mtime_ns)


class CertificateStore:
    """The server's TLS context for one key-and-certificate file, rebuilt whenever the
    file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.reloads = 0
        self._lock = threading.Lock()
        self._context: ssl.SSLContext | None = None
        self._stamp: Stamp | None = None

    def _build(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.path)
        return context

    def context(self) -> ssl.SSLContext:
        """The context for the file as it is now (the last good one if it cannot load)."""
        stamp = _stamp(self.path)
        with self._lock:
            if self._context is not None and stamp == self._stamp:
                return self._context
            try:
                context = self._build()
            except (OSError, ssl.SSLError) as exc:
                if self._context is None:
                    raise
                logger.warning("keeping the last certificate: %s does not load: %s", self.path, exc)
                return self._context
            self._context, self._stamp = context, stamp
            self.reloads += 1
            logger.info("serving the certificate in %s (load %d)", self.path, self.reloads)
            return context


class _Handler(BaseHTTPRequestHandler):
    server_version = "gameday-tls-endpoint"

    def do_GET(self) -> None:
        if self.path in {"/healthz", "/"}:
            body = b"ok\n"
            self.send_response(200)
        else:
            body = b"not found\n"
            self.send_response(404)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)


class TLSServer(ThreadingHTTPServer):
    """HTTPS with the store's current context for each new connection."""

    daemon_threads = True
    handshake_failures = 0

    def __init__(self, address: tuple[str, int], store: CertificateStore) -> None:
        self.store = store
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = self.socket.accept()
        try:
            context = self.store.context()
        except (OSError, ssl.SSLError):
            connection.close()
            raise
        connection.settimeout(CONNECTION_TIMEOUT_S)
        wrapped = context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return wrapped, address

    def finish_request(self, request: Any, client_address: Any) -> None:
        # In the connection's own thread: a failed handshake (the client does not trust
        # the certificate) is logged in one line, not as a traceback.
        try:
            request.do_handshake()
        except (ssl.SSLEOFError, ConnectionError, TimeoutError) as exc:
            # Closed before a handshake: the blackbox exporter's plain TCP connect probe.
            logger.debug("connection from %s closed before a handshake: %s", client_address[0], exc)
            return
        except (OSError, ssl.SSLError) as exc:
            self.handshake_failures += 1
            logger.info("handshake with %s failed: %s", client_address[0], exc)
            return
        super().finish_request(request, client_address)


def serve(config: LabConfig) -> None:
    store = CertificateStore(tls_files(config).live)
    store.context()  # refuse to start without a certificate
    server = TLSServer((HOST, config.ports.tls_endpoint), store)
    logger.info("HTTPS on %s:%d", HOST, config.ports.tls_endpoint)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description="gameday lab TLS endpoint")
    parser.add_argument("--lab-config", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    serve(LabConfig.load(args.lab_config))


if __name__ == "__main__":
    main()
