"""Credentials and TLS (gameday.observe.http) over real HTTPS: a CA, server and client
certificates made by the `openssl` command, and a small HTTPS server on 127.0.0.1 that
answers Prometheus' and Alertmanager's APIs only to the right Authorization header (and,
for the bearer-token server, only to a client holding a certificate of that CA)."""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gameday.errors import EnvironmentProblem
from gameday.observe.alertmanager import Alertmanager
from gameday.observe.http import HttpSettings
from gameday.observe.prometheus import Prometheus

TOKEN = "tok-9c2e51d0-right"
WRONG_TOKEN = "tok-0000dead-wrong"
USER = "gameday"
PASSWORD = "pw-71f3aa20-right"
WRONG_PASSWORD = "pw-0000beef-wrong"
TIMEOUT_S = 5

SAMPLE = {"metric": {}, "value": [1, "1"]}
ANSWERS: dict[str, Any] = {
    "/api/v1/query": {"status": "success", "data": {"resultType": "vector", "result": [SAMPLE]}},
    "/api/v1/alerts": {"status": "success", "data": {"alerts": []}},
    "/api/v2/alerts": [],
}


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


def _openssl(directory: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=30)


def _ca(directory: Path, name: str) -> None:
    _openssl(
        directory,
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
        "-subj", f"/CN=gameday test {name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip


def _leaf(directory: Path, name: str, extensions: str) -> None:
    (directory / f"{name}.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "authorityKeyIdentifier=keyid,issuer\nsubjectKeyIdentifier=hash\n" + extensions,
        encoding="utf-8",
    )
    _openssl(
        directory,
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN=gameday test {name}",
    )  # fmt: skip
    _openssl(
        directory,
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext",
    )  # fmt: skip


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if shutil.which("openssl") is None:
        pytest.fail("these tests need the openssl command (apt-get install openssl)")
    directory = tmp_path_factory.mktemp("pki")
    _ca(directory, "ca")
    _ca(directory, "other-ca")
    _leaf(directory, "server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    _leaf(directory, "client", "extendedKeyUsage=clientAuth\n")
    return Pki(
        ca=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        client_cert=directory / "client.pem",
        client_key=directory / "client.key",
        other_ca=directory / "other-ca.pem",
    )


@dataclass
class Server:
    url: str
    authorization: str
    seen: list[tuple[str, str | None]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _HttpsServer

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        authorization = self.headers.get("Authorization")
        self.server.state.seen.append((path, authorization))
        if authorization != self.server.state.authorization:
            self._send(401, b"unauthorized\n", "text/plain")
        elif path == "/-/ready":
            self._send(200, b"ready\n", "text/plain")
        elif path in ANSWERS:
            self._send(200, json.dumps(ANSWERS[path]).encode(), "application/json")
        else:
            self._send(404, b"not found\n", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HttpsServer(ThreadingHTTPServer):
    daemon_threads = True
    state: Server


def _serve(pki: Pki, authorization: str, client_certificates: bool) -> Iterator[Server]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    if client_certificates:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(pki.ca)
    httpd = _HttpsServer(("127.0.0.1", 0), _Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.state = Server(f"https://127.0.0.1:{httpd.server_address[1]}", authorization)
    thread = threading.Thread(target=httpd.serve_forever, name="https-server", daemon=True)
    thread.start()
    try:
        yield httpd.state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def bearer_server(pki: Pki) -> Iterator[Server]:
    """Wants the bearer token and a client certificate of the CA."""
    yield from _serve(pki, f"Bearer {TOKEN}", client_certificates=True)


@pytest.fixture(scope="module")
def basic_server(pki: Pki) -> Iterator[Server]:
    """Wants basic auth; any client (no client certificate)."""
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    yield from _serve(pki, f"Basic {basic}", client_certificates=False)


def bearer(pki: Pki, token: str = TOKEN, *, ca: bool = True, cert: bool = True) -> HttpSettings:
    return HttpSettings(
        bearer_token=token,
        ca_file=str(pki.ca) if ca else None,
        cert_file=str(pki.client_cert) if cert else None,
        key_file=str(pki.client_key) if cert else None,
    )


def basic(pki: Pki, password: str = PASSWORD) -> HttpSettings:
    return HttpSettings(basic_auth=(USER, password), ca_file=str(pki.ca))


# -- bearer token, CA and client certificate -----------------------------------------------------


def test_prometheus_with_token_ca_and_client_cert(pki: Pki, bearer_server: Server) -> None:
    before = len(bearer_server.seen)
    prometheus = Prometheus(bearer_server.url, http=bearer(pki), timeout=TIMEOUT_S)

    assert prometheus.answers() is None
    assert prometheus.query("1") == [SAMPLE]
    assert prometheus.query_value("1") == 1.0
    assert prometheus.alerts() == []
    assert prometheus.reachable()
    # every request carried the token, the client library's as well as gameday's own
    seen = bearer_server.seen[before:]
    assert {path for path, _ in seen} == {"/api/v1/query", "/api/v1/alerts", "/-/ready"}
    assert all(auth == f"Bearer {TOKEN}" for _, auth in seen)


def test_prometheus_with_the_wrong_token_says_the_credentials_were_refused(
    pki: Pki, bearer_server: Server
) -> None:
    prometheus = Prometheus(bearer_server.url, http=bearer(pki, WRONG_TOKEN), timeout=TIMEOUT_S)

    assert prometheus.answers() == "HTTP 401: the credentials were refused"
    with pytest.raises(EnvironmentProblem) as caught:
        prometheus.query("1")
    assert WRONG_TOKEN not in caught.value.format()
    with pytest.raises(EnvironmentProblem):
        prometheus.alerts()
    assert not prometheus.reachable()


def test_prometheus_without_a_token_is_refused(pki: Pki, bearer_server: Server) -> None:
    settings = HttpSettings(
        ca_file=str(pki.ca), cert_file=str(pki.client_cert), key_file=str(pki.client_key)
    )
    prometheus = Prometheus(bearer_server.url, http=settings, timeout=TIMEOUT_S)
    assert prometheus.answers() == "HTTP 401: the credentials were refused"


@pytest.mark.parametrize("ca", ["none", "other"])
def test_prometheus_without_the_ca_fails_on_tls(pki: Pki, bearer_server: Server, ca: str) -> None:
    settings = bearer(pki, ca=False)
    if ca == "other":
        settings = HttpSettings(
            bearer_token=TOKEN,
            ca_file=str(pki.other_ca),
            cert_file=str(pki.client_cert),
            key_file=str(pki.client_key),
        )
    prometheus = Prometheus(bearer_server.url, http=settings, timeout=TIMEOUT_S)

    problem = prometheus.answers()

    assert problem is not None
    assert problem.startswith("SSLError")
    assert "CERTIFICATE_VERIFY_FAILED" in problem
    with pytest.raises(EnvironmentProblem) as caught:
        prometheus.query("1")
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.message
    assert not prometheus.reachable()


def test_prometheus_without_the_client_cert_fails(pki: Pki, bearer_server: Server) -> None:
    before = len(bearer_server.seen)
    prometheus = Prometheus(bearer_server.url, http=bearer(pki, cert=False), timeout=TIMEOUT_S)

    problem = prometheus.answers()

    assert problem is not None
    assert "credentials were refused" not in problem
    assert problem.split(":")[0] in ("SSLError", "ConnectionError")
    with pytest.raises(EnvironmentProblem):
        prometheus.query("1")
    # the server never saw a request: the handshake failed first
    assert len(bearer_server.seen) == before


def test_alertmanager_with_token_ca_and_client_cert(pki: Pki, bearer_server: Server) -> None:
    alertmanager = Alertmanager(bearer_server.url, http=bearer(pki), timeout=TIMEOUT_S)

    assert alertmanager.alerts() == []
    assert alertmanager.alerts("CacheDown") == []
    assert alertmanager.ready()


@pytest.mark.parametrize(
    "wrong",
    ["token", "ca", "client-cert"],
)
def test_alertmanager_with_wrong_settings_is_an_environment_problem(
    pki: Pki, bearer_server: Server, wrong: str
) -> None:
    settings = {
        "token": bearer(pki, WRONG_TOKEN),
        "ca": bearer(pki, ca=False),
        "client-cert": bearer(pki, cert=False),
    }[wrong]
    alertmanager = Alertmanager(bearer_server.url, http=settings, timeout=TIMEOUT_S)

    with pytest.raises(EnvironmentProblem) as caught:
        alertmanager.alerts()

    assert caught.value.message.startswith(f"alertmanager at {bearer_server.url} did not answer")
    assert caught.value.hint
    if wrong == "token":
        assert "401" in caught.value.message
    for credential in (TOKEN, WRONG_TOKEN):
        assert credential not in caught.value.format()
    assert not alertmanager.ready()


# -- basic auth ---------------------------------------------------------------------------------


def test_basic_auth_right(pki: Pki, basic_server: Server) -> None:
    prometheus = Prometheus(basic_server.url, http=basic(pki), timeout=TIMEOUT_S)
    alertmanager = Alertmanager(basic_server.url, http=basic(pki), timeout=TIMEOUT_S)

    assert prometheus.answers() is None
    assert prometheus.query("1") == [SAMPLE]
    assert prometheus.alerts() == []
    assert alertmanager.alerts() == []
    assert alertmanager.ready()


def test_basic_auth_wrong(pki: Pki, basic_server: Server) -> None:
    prometheus = Prometheus(basic_server.url, http=basic(pki, WRONG_PASSWORD), timeout=TIMEOUT_S)
    alertmanager = Alertmanager(
        basic_server.url, http=basic(pki, WRONG_PASSWORD), timeout=TIMEOUT_S
    )

    assert prometheus.answers() == "HTTP 401: the credentials were refused"
    with pytest.raises(EnvironmentProblem):
        prometheus.query("1")
    with pytest.raises(EnvironmentProblem) as caught:
        alertmanager.alerts()
    assert "401" in caught.value.message
    assert WRONG_PASSWORD not in caught.value.format()


def test_a_bearer_token_is_not_basic_auth(pki: Pki, basic_server: Server) -> None:
    settings = HttpSettings(bearer_token=PASSWORD, ca_file=str(pki.ca))
    assert Prometheus(basic_server.url, http=settings).answers() == (
        "HTTP 401: the credentials were refused"
    )


# -- the environment's CA bundle ------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_the_targets_ca_file_wins_over_the_environments_bundle(
    pki: Pki, bearer_server: Server, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    # requests prefers these variables to Session.verify (psf/requests#3829); a target's
    # ca_file must still be the one trusted, for gameday's own requests as for the client's.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv(variable, str(pki.other_ca))
    prometheus = Prometheus(bearer_server.url, http=bearer(pki), timeout=TIMEOUT_S)

    assert prometheus.answers() is None
    assert prometheus.query("1") == [SAMPLE]
    assert prometheus.alerts() == []
    assert prometheus.reachable()
    assert Alertmanager(bearer_server.url, http=bearer(pki), timeout=TIMEOUT_S).alerts() == []


def test_without_a_ca_file_the_environments_bundle_is_trusted(
    pki: Pki, bearer_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca))
    settings = bearer(pki, ca=False)

    assert Prometheus(bearer_server.url, http=settings, timeout=TIMEOUT_S).answers() is None
    assert Alertmanager(bearer_server.url, http=settings, timeout=TIMEOUT_S).alerts() == []
