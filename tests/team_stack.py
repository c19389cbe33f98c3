"""A second monitoring stack that looks like a *team's own*, to test gameday against "their" system.

Everything runs on 127.0.0.1, from a directory the caller gives:

- a real ``redis-server`` (the service under test), daemonized with a pidfile, exactly as
  :meth:`TeamStack.redis_start_command` starts it, so experiments that stop and restart it do
  the same thing the fixture did;
- ``prometheus-redis-exporter`` scraping it;
- a real Prometheus with the team's own rule file (group ``storage-cache.rules``);
- a real Alertmanager with a nested routing tree, an inhibit rule and a silence created through
  its API v2 after start;
- a webhook recorder (stdlib ``http.server`` in a thread) that stores every notification with
  the receiver (the URL path) and the time it arrived;
- two bearer-token reverse proxies (aiohttp, both served from one thread with its own event
  loop), one in front of Prometheus and one in front of Alertmanager, each on its own port;
  they answer 401 without ``Authorization: Bearer <token>``.

Ports are ``GAMEDAY_TEAM_STACK_BASE_PORT`` (default 26900) plus a fixed offset per part, see
:data:`PORT_OFFSETS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web
from yarl import URL

HOST = "127.0.0.1"
DEFAULT_BASE_PORT = 26900
PORT_OFFSETS: dict[str, int] = {
    "redis": 0,
    "exporter": 1,
    "prometheus": 2,
    "alertmanager": 3,
    "proxy_prometheus": 4,
    "proxy_alertmanager": 5,
    "webhook": 6,
}
BINARIES: dict[str, str] = {
    "redis-server": "/usr/bin/redis-server",
    "redis-cli": "/usr/bin/redis-cli",
    "prometheus-redis-exporter": "/usr/bin/prometheus-redis-exporter",
    "prometheus": "/usr/bin/prometheus",
    "prometheus-alertmanager": "/usr/bin/prometheus-alertmanager",
}
RECEIVERS = ("ops-default", "storage-chat", "storage-pager", "payments-pager")
RULE_GROUP = "storage-cache.rules"
SCRAPE_JOB = "storage-cache"
SILENCED_ALERT = "CachePrimaryLost"
SILENCE_CREATED_BY = "oncall@storage.example"
SILENCE_COMMENT = "planned failover drill"
STOP_TIMEOUT_S = 10.0


def missing_binaries() -> list[str]:
    """Names of the programs this stack needs that are not installed here."""
    return [name for name, path in BINARIES.items() if not Path(path).is_file()]


def base_port_from_env() -> int:
    base = int(os.environ.get("GAMEDAY_TEAM_STACK_BASE_PORT", str(DEFAULT_BASE_PORT)))
    top = base + max(PORT_OFFSETS.values())
    if base < 1024 or top >= 32768:
        raise ValueError(f"team stack ports {base}..{top} must lie within 1024..32767")
    return base


# --------------------------------------------------------------------------- configuration


def rules_document() -> dict[str, Any]:
    """The team's rule file, as the storage team would write it."""
    runbook = "https://runbooks.storage.example/cache"
    down_expr = f'redis_up{{job="{SCRAPE_JOB}"}} == 0'
    return {
        "groups": [
            {
                "name": RULE_GROUP,
                "interval": "1s",
                "rules": [
                    # CacheDown comes first: Prometheus evaluates (and sends) rules in order, so
                    # Alertmanager holds the inhibiting alert before CacheDegraded arrives.
                    {
                        "alert": "CacheDown",
                        "expr": down_expr,
                        "for": "2s",
                        "labels": {"severity": "critical", "team": "storage", "service": "cache"},
                        "annotations": {
                            "summary": "Cache redis on {{ $labels.instance }} is down",
                            "description": "The exporter cannot reach redis (redis_up == 0).",
                            "runbook_url": f"{runbook}#cache-down",
                        },
                    },
                    {
                        "alert": "CacheDegraded",
                        "expr": down_expr,
                        "for": "2s",
                        "labels": {"severity": "warning", "team": "storage", "service": "cache"},
                        "annotations": {
                            "summary": "Cache on {{ $labels.instance }} is degraded",
                            "runbook_url": f"{runbook}#cache-degraded",
                        },
                    },
                    {
                        "alert": SILENCED_ALERT,
                        "expr": down_expr,
                        "for": "2s",
                        "labels": {
                            "severity": "critical",
                            "team": "storage",
                            "service": "cache-primary",
                        },
                        "annotations": {
                            "summary": "Cache primary on {{ $labels.instance }} lost",
                            "runbook_url": f"{runbook}#primary-lost",
                        },
                    },
                    {
                        "alert": "CacheMemoryHigh",
                        "expr": f'redis_memory_used_bytes{{job="{SCRAPE_JOB}"}} > 4e9',
                        "for": "10m",
                        "labels": {"severity": "warning", "team": "storage", "service": "cache"},
                        "annotations": {
                            "summary": "Cache on {{ $labels.instance }} uses over 4 GB",
                            "runbook_url": f"{runbook}#memory-high",
                        },
                    },
                    {
                        "alert": "CacheEvictionsHigh",
                        "expr": f'rate(redis_evicted_keys_total{{job="{SCRAPE_JOB}"}}[5m]) > 100',
                        "for": "5m",
                        "labels": {"severity": "warning", "team": "storage", "service": "cache"},
                        "annotations": {
                            "summary": "Cache on {{ $labels.instance }} evicts over 100 keys/s",
                            "runbook_url": f"{runbook}#evictions",
                        },
                    },
                ],
            }
        ]
    }


def prometheus_document(
    exporter_port: int, alertmanager_port: int, rules_path: Path
) -> dict[str, Any]:
    return {
        "global": {
            "scrape_interval": "1s",
            "scrape_timeout": "1s",
            "evaluation_interval": "1s",
            "external_labels": {"cluster": "storage-eu-1"},
        },
        "rule_files": [str(rules_path)],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"{HOST}:{alertmanager_port}"]}]}]
        },
        "scrape_configs": [
            {
                "job_name": SCRAPE_JOB,
                "static_configs": [
                    {
                        "targets": [f"{HOST}:{exporter_port}"],
                        "labels": {"env": "prod", "team": "storage"},
                    }
                ],
            }
        ],
    }


def alertmanager_document(webhook_port: int) -> dict[str, Any]:
    """Nested routing tree, one inhibit rule; three matcher syntaxes (matchers, match_re, match)."""

    def webhook(receiver: str) -> dict[str, Any]:
        url = f"http://{HOST}:{webhook_port}/{receiver}"
        return {"name": receiver, "webhook_configs": [{"url": url, "send_resolved": True}]}

    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": "ops-default",
            "group_by": ["alertname", "service"],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "1h",
            "routes": [
                {
                    "matchers": ['team="storage"'],
                    "receiver": "storage-chat",
                    "routes": [
                        {"match_re": {"severity": "critical|page"}, "receiver": "storage-pager"}
                    ],
                },
                {"match": {"team": "payments"}, "receiver": "payments-pager"},
            ],
        },
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["team", "service"],
            }
        ],
        "receivers": [webhook(name) for name in RECEIVERS],
    }


# --------------------------------------------------------------------------- HTTP helpers


def http_json(
    url: str,
    *,
    method: str = "GET",
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 5.0,
) -> Any:
    """One JSON request with the standard library; raises on a non-2xx answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return json.loads(response.read() or b"null")


def _reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return 200 <= int(response.status) < 300
    except (OSError, urllib.error.URLError):
        return False


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


# --------------------------------------------------------------------------- webhook recorder


class _WebhookRecorder:
    """Stores every POSTed Alertmanager payload with its receiver (URL path) and arrival time."""

    def __init__(self, port: int) -> None:
        self._lock = threading.Lock()
        self._deliveries: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    payload: Any = json.loads(raw)
                except ValueError:
                    payload = {"unparsed": raw.decode(errors="replace")}
                recorder._record(self.path.strip("/").split("?")[0], payload)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((HOST, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="team-stack-webhook", daemon=True
        )

    def _record(self, receiver: str, payload: Any) -> None:
        with self._lock:
            self._deliveries.append(
                {"receiver": receiver, "received_at": time.time(), "payload": payload}
            )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=STOP_TIMEOUT_S)

    def deliveries(self, receiver: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                json.loads(json.dumps(item))
                for item in self._deliveries
                if receiver is None or item["receiver"] == receiver
            ]


# --------------------------------------------------------------------------- bearer proxy

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "authorization",
    }
)


class _BearerProxies:
    """Reverse proxies that require ``Authorization: Bearer <token>``.

    One aiohttp event loop in its own thread serves every (listen port → upstream) pair.
    Method, raw path, query string, body and headers (less hop-by-hop ones and the token)
    are forwarded; the upstream's answer comes back as is (no decompression).
    """

    def __init__(self, routes: dict[int, str], token: str) -> None:
        self._routes = routes
        self._expected = f"Bearer {token}".encode()
        self._loop = asyncio.new_event_loop()
        self._runners: list[web.AppRunner] = []
        self._session: aiohttp.ClientSession | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="team-stack-proxy", daemon=True)

    def _authorized(self, request: web.Request) -> bool:
        supplied = request.headers.get("Authorization", "").encode()
        return hmac.compare_digest(supplied, self._expected)

    def _handler(self, upstream: str) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            if not self._authorized(request):
                return web.Response(
                    status=401,
                    text="401 Unauthorized: bearer token required\n",
                    headers={"WWW-Authenticate": 'Bearer realm="storage-monitoring"'},
                )
            assert self._session is not None
            headers = {
                key: value
                for key, value in request.headers.items()
                if key.lower() not in _HOP_BY_HOP
            }
            headers["X-Forwarded-For"] = request.remote or ""
            body = await request.read()
            target = URL(upstream + request.raw_path, encoded=True)
            try:
                async with self._session.request(
                    request.method,
                    target,
                    headers=headers,
                    data=body if body else None,
                    allow_redirects=False,
                ) as answer:
                    content = await answer.read()
                    out_headers = {
                        key: value
                        for key, value in answer.headers.items()
                        if key.lower() not in _HOP_BY_HOP
                    }
                    return web.Response(status=answer.status, body=content, headers=out_headers)
            except aiohttp.ClientError as error:
                return web.Response(status=502, text=f"502 Bad Gateway: {error}\n")

        return handle

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(
            auto_decompress=False, timeout=aiohttp.ClientTimeout(total=30)
        )
        for port, upstream in self._routes.items():
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", self._handler(upstream))
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            self._runners.append(runner)
            await web.TCPSite(runner, HOST, port).start()

    async def _shutdown(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as error:  # reported to start()
            self._error = error
            self._ready.set()
            self._loop.run_until_complete(self._shutdown())
            self._loop.close()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self._shutdown())
            self._loop.close()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(timeout=STOP_TIMEOUT_S):
            raise RuntimeError("the bearer proxies did not start")
        if self._error is not None:
            raise RuntimeError(f"the bearer proxies did not start: {self._error}")

    def stop(self) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=STOP_TIMEOUT_S)


# --------------------------------------------------------------------------- processes


def _terminate(pids: list[int], timeout_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM each PID, then SIGKILL whatever is still there after ``timeout_s``."""
    alive = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGCONT)  # a paused process ignores SIGTERM until continued
            os.kill(pid, signal.SIGTERM)
            alive.append(pid)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + timeout_s
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _pid_alive(pid)]
        if alive:
            time.sleep(0.05)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (reaping our own children)."""
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _is_our_redis(pid: int, port: int) -> bool:
    """The PID still belongs to a redis-server on our port (guards against PID reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return "redis-server" in cmdline and f":{port}" in cmdline


@dataclass
class TeamStack:
    directory: Path
    prometheus_url: str
    alertmanager_url: str
    proxy_prometheus_url: str
    proxy_alertmanager_url: str
    token: str
    redis_port: int
    rules_path: Path
    alertmanager_config_path: Path
    silence_id: str = ""
    _recorder: _WebhookRecorder | None = field(default=None, repr=False)
    _redis_pids_seen: set[int] = field(default_factory=set, repr=False)

    @property
    def redis_pidfile(self) -> Path:
        return self.directory / "redis.pid"

    def redis_stop_command(self) -> list[str]:
        """argv that shuts redis down (no save), as an operator would."""
        return [BINARIES["redis-cli"], "-h", HOST, "-p", str(self.redis_port), "shutdown", "nosave"]

    def redis_start_command(self) -> list[str]:
        """argv that starts redis again in the background (daemonized, with the pidfile)."""
        return [
            BINARIES["redis-server"],
            "--port",
            str(self.redis_port),
            "--bind",
            HOST,
            "--dir",
            str(self.directory / "redis"),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "yes",
            "--pidfile",
            str(self.redis_pidfile),
            "--logfile",
            str(self.directory / "redis.log"),
        ]

    def redis_pid(self) -> int | None:
        """PID from the pidfile when it names our live redis-server, else None."""
        try:
            pid = int(self.redis_pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        if _pid_alive(pid) and _is_our_redis(pid, self.redis_port):
            self._redis_pids_seen.add(pid)
            return pid
        return None

    def deliveries(self, receiver: str | None = None) -> list[dict[str, Any]]:
        """Recorded notifications, oldest first: ``{"receiver", "received_at", "payload"}``."""
        assert self._recorder is not None
        return self._recorder.deliveries(receiver)

    def prometheus_query(self, promql: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode({"query": promql})
        answer = http_json(f"{self.prometheus_url}/api/v1/query?{query}")
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def alertmanager_alerts(self, filter_: str | None = None) -> list[dict[str, Any]]:
        """GET /api/v2/alerts (active, silenced and inhibited ones), optionally filtered."""
        query = "" if filter_ is None else "?" + urllib.parse.urlencode({"filter": filter_})
        alerts: list[dict[str, Any]] = http_json(f"{self.alertmanager_url}/api/v2/alerts{query}")
        return alerts

    def wait_redis_up(self, timeout_s: float = 10) -> None:
        """Redis answers PING and Prometheus's freshest ``redis_up`` sample is 1."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if _redis_ping(self.redis_port):
                self.redis_pid()
                try:
                    samples = self.prometheus_query(f'redis_up{{job="{SCRAPE_JOB}"}}')
                except (OSError, urllib.error.URLError, KeyError):
                    samples = []
                if samples and all(sample["value"][1] == "1" for sample in samples):
                    return
            time.sleep(0.2)
        raise TimeoutError(f"redis on port {self.redis_port} not up within {timeout_s} s")

    def wait_quiet(self, timeout_s: float = 30) -> None:
        """No Cache* alert pending/firing in Prometheus and none active in Alertmanager."""
        deadline = time.monotonic() + timeout_s
        last: tuple[list[Any], list[Any]] = ([], [])
        while time.monotonic() < deadline:
            try:
                pending = self.prometheus_query('ALERTS{alertname=~"Cache.*"}')
                active = self.alertmanager_alerts('alertname=~"Cache.*"')
            except (OSError, urllib.error.URLError, KeyError):
                pending, active = [{"error": "unreachable"}], []
            if not pending and not active:
                return
            last = (pending, active)
            time.sleep(0.2)
        raise TimeoutError(f"Cache* alerts still active after {timeout_s} s: {last}")


# --------------------------------------------------------------------------- the stack


def _wait(
    what: str, check: Any, timeout_s: float, processes: list[subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{what}: {process.args!r} exited with {process.returncode} during start-up"
                )
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready within {timeout_s} s")


def _ports_in_use(ports: dict[str, int]) -> list[str]:
    """Parts whose port something already listens on (a daemonized redis-server would not say)."""
    busy = []
    for name, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, port))
            except OSError:
                busy.append(f"{name} ({HOST}:{port})")
    return busy


def _create_silence(alertmanager_url: str) -> str:
    now = datetime.now(UTC)
    answer = http_json(
        f"{alertmanager_url}/api/v2/silences",
        method="POST",
        body={
            "matchers": [
                {"name": "alertname", "value": SILENCED_ALERT, "isRegex": False, "isEqual": True}
            ],
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=2)).isoformat(),
            "createdBy": SILENCE_CREATED_BY,
            "comment": SILENCE_COMMENT,
        },
    )
    silence_id: str = answer["silenceID"]
    return silence_id


@contextlib.contextmanager
def team_stack(directory: Path, base_port: int | None = None) -> Iterator[TeamStack]:
    """Start the team's stack in ``directory``; always stop everything it started on exit."""
    base = base_port_from_env() if base_port is None else base_port
    ports = {name: base + offset for name, offset in PORT_OFFSETS.items()}
    busy = _ports_in_use(ports)
    if busy:
        raise RuntimeError(
            f"team stack ports already in use: {', '.join(busy)}; "
            "set GAMEDAY_TEAM_STACK_BASE_PORT to another base"
        )
    directory = Path(directory)
    for sub in ("redis", "prometheus-data", "alertmanager-data"):
        (directory / sub).mkdir(parents=True, exist_ok=True)

    rules_path = directory / "storage-cache.rules.yml"
    rules_path.write_text(yaml.safe_dump(rules_document(), sort_keys=False))
    prometheus_config = directory / "prometheus.yml"
    prometheus_config.write_text(
        yaml.safe_dump(
            prometheus_document(ports["exporter"], ports["alertmanager"], rules_path),
            sort_keys=False,
        )
    )
    alertmanager_config = directory / "alertmanager.yml"
    alertmanager_config.write_text(
        yaml.safe_dump(alertmanager_document(ports["webhook"]), sort_keys=False)
    )

    token = secrets.token_hex(16)
    stack = TeamStack(
        directory=directory,
        prometheus_url=f"http://{HOST}:{ports['prometheus']}",
        alertmanager_url=f"http://{HOST}:{ports['alertmanager']}",
        proxy_prometheus_url=f"http://{HOST}:{ports['proxy_prometheus']}",
        proxy_alertmanager_url=f"http://{HOST}:{ports['proxy_alertmanager']}",
        token=token,
        redis_port=ports["redis"],
        rules_path=rules_path,
        alertmanager_config_path=alertmanager_config,
        _recorder=_WebhookRecorder(ports["webhook"]),
    )
    processes: list[subprocess.Popen[bytes]] = []
    proxies = _BearerProxies(
        {
            ports["proxy_prometheus"]: stack.prometheus_url,
            ports["proxy_alertmanager"]: stack.alertmanager_url,
        },
        token,
    )
    recorder_started = proxies_started = False

    def spawn(name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (directory / f"{name}.log").open("ab")
        try:
            process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        finally:
            log.close()
        processes.append(process)
        return process

    try:
        assert stack._recorder is not None
        stack._recorder.start()
        recorder_started = True
        proxies_started = True
        proxies.start()

        subprocess.run(stack.redis_start_command(), check=True, timeout=STOP_TIMEOUT_S)
        spawn(
            "exporter",
            [
                BINARIES["prometheus-redis-exporter"],
                f"--redis.addr=redis://{HOST}:{ports['redis']}",
                f"--web.listen-address={HOST}:{ports['exporter']}",
            ],
        )
        spawn(
            "alertmanager",
            [
                BINARIES["prometheus-alertmanager"],
                f"--config.file={alertmanager_config}",
                f"--storage.path={directory / 'alertmanager-data'}",
                f"--web.listen-address={HOST}:{ports['alertmanager']}",
                "--cluster.listen-address=",
            ],
        )
        spawn(
            "prometheus",
            [
                BINARIES["prometheus"],
                f"--config.file={prometheus_config}",
                f"--storage.tsdb.path={directory / 'prometheus-data'}",
                f"--web.listen-address={HOST}:{ports['prometheus']}",
                "--web.enable-lifecycle",
                "--rules.alert.resend-delay=1s",
            ],
        )
        _wait("redis", lambda: _redis_ping(ports["redis"]), 10, processes)
        stack.redis_pid()
        _wait(
            "alertmanager",
            lambda: _reachable(f"{stack.alertmanager_url}/-/ready"),
            30,
            processes,
        )
        stack.silence_id = _create_silence(stack.alertmanager_url)
        _wait("prometheus", lambda: _reachable(f"{stack.prometheus_url}/-/ready"), 30, processes)
        stack.wait_redis_up(timeout_s=30)
        yield stack
    finally:
        pids = [process.pid for process in processes if process.poll() is None]
        redis_pid = stack.redis_pid()
        if redis_pid is not None:
            pids.append(redis_pid)
        pids.extend(
            pid
            for pid in stack._redis_pids_seen
            if pid not in pids and _pid_alive(pid) and _is_our_redis(pid, stack.redis_port)
        )
        _terminate(pids)
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1)
        if proxies_started:
            proxies.stop()
        if recorder_started and stack._recorder is not None:
            stack._recorder.stop()


__all__ = [
    "PORT_OFFSETS",
    "RECEIVERS",
    "RULE_GROUP",
    "SCRAPE_JOB",
    "SILENCED_ALERT",
    "SILENCE_COMMENT",
    "SILENCE_CREATED_BY",
    "TeamStack",
    "base_port_from_env",
    "http_json",
    "missing_binaries",
    "team_stack",
]
