"""A real Kubernetes control plane for the tests (and for trying gameday by hand), on 127.0.0.1.

:class:`KubeCluster` starts, from a directory the caller gives, with binaries built by
``scripts/kube-build`` (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
kwok) and Debian's Prometheus and Alertmanager:

1. an openssl-made CA, an API server serving certificate, an admin client certificate
   (``O=system:masters``), a service-account key pair, and ``kubeconfig`` (context and cluster
   ``gameday-local``, user ``admin``, the certificates embedded);
2. etcd, kube-apiserver (``Node,RBAC``), kube-controller-manager, kube-scheduler and kwok;
3. three fake nodes kwok keeps Ready (``tests/kube_assets/nodes.yaml``): ``kwok-node-0``,
   ``kwok-node-1`` and ``kwok-gpu-0`` (``nvidia.com/gpu: 1``, label ``gameday.dev/gpu=true``);
4. the system under test (``tests/kube_assets/shop.yaml``): namespace ``shop`` with
   Deployments ``gateway`` (3), ``redis`` (1), ``camera`` (2) and two Services. kwok runs no
   containers: pods become Running and Ready, no process runs and no traffic flows. A pod
   scheduled after start-up takes :data:`DEFAULT_POD_READY_DELAY_S` to become Ready, as a
   container's start would (the first pods do not wait: kwok restarts with that delay once the
   shop is up);
5. a STAND-IN for kube-state-metrics (``tests/kube_state_standin.py``: the real one cannot be
   fetched here), exporting kube-state-metrics' names from the real API server;
6. Prometheus (1 s scrape and evaluation, job ``kube-state-metrics``, the rule files given plus
   any ``*.yml`` in ``extra-rules/``) and Alertmanager (``severity=critical`` →
   ``oncall-pager``, ``severity=warning`` → ``team-chat``, else ``ops-default``), every
   receiver a webhook to a recorder (``tests/team_stack.py``'s, in a subprocess of its own) that
   appends each notification to ``deliveries.jsonl``;
7. ``target.yaml``, a gameday ``kind: kubernetes`` target for all of it.

Every process runs in a session of its own and is stopped by PID (SIGTERM, then SIGKILL).
Ports are the base port (``GAMEDAY_KUBE_BASE_PORT``, default 28600) plus :data:`PORT_OFFSETS`.
``cluster.json`` in the directory records PIDs, ports and URLs.

From a shell (``scripts/kube-cluster`` builds first, then runs this)::

    python tests/kube_cluster.py up --dir DIR [--base-port P]   # start, leave running
    python tests/kube_cluster.py status --dir DIR
    python tests/kube_cluster.py down --dir DIR
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: python tests/kube_cluster.py up …
    sys.path.insert(0, str(REPO))

from tests.team_stack import _pid_alive, _terminate, _WebhookRecorder  # noqa: E402

HOST = "127.0.0.1"
BASE_PORT_ENV = "GAMEDAY_KUBE_BASE_PORT"
DEFAULT_BASE_PORT = 28600
PORT_OFFSETS: dict[str, int] = {
    "etcd": 0,
    "etcd_peer": 1,
    "apiserver": 2,
    "controller_manager": 3,
    "scheduler": 4,
    "kwok": 5,
    "kube_state": 6,
    "prometheus": 7,
    "alertmanager": 8,
    "webhook": 9,
}
KUBERNETES_VERSION = "v1.36.3"
ETCD_VERSION = "v3.6.16"
KWOK_VERSION = "v0.8.0"
KUBE_BINARIES = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "kwok",
)
PROMETHEUS = "/usr/bin/prometheus"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"

CONTEXT = "gameday-local"
NAMESPACE = "shop"
SHOP_REPLICAS: Mapping[str, int] = {"gateway": 3, "redis": 1, "camera": 2}
FAKE_NODES = ("kwok-node-0", "kwok-node-1", "kwok-gpu-0")
FAKE_NODE_ANNOTATION = "kwok.x-k8s.io/node"
RECEIVERS = ("ops-default", "team-chat", "oncall-pager")
SCRAPE_JOB = "kube-state-metrics"
SERVICE_CIDR = "10.96.0.0/16"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"

ASSETS = REPO / "tests" / "kube_assets"
NODES_MANIFEST = ASSETS / "nodes.yaml"
SHOP_MANIFEST = ASSETS / "shop.yaml"
STANDIN = REPO / "tests" / "kube_state_standin.py"
KUBE_BUILD = REPO / "scripts" / "kube-build"
DEFAULT_RULES_DIR = REPO / "experiments" / "kubernetes" / "rules"

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0
KUBECTL_TIMEOUT_S = 60.0
POLL_S = 0.1

PR_SET_PDEATHSIG = 1

# Seconds kwok waits before a scheduled pod becomes Running and Ready, as a real container's
# start would take: without it a killed pod's replacement is Ready within about 0.5 s, before
# a 1 s scrape can see the gap. A pod annotated ``pod-ready.stage.kwok.x-k8s.io/delay: 2s``
# (Go duration) overrides it, as kwok's own general stages allow.
POD_READY_DELAY_ENV = "GAMEDAY_KUBE_POD_READY_DELAY_S"
DEFAULT_POD_READY_DELAY_S = 6.0
POD_READY_DELAY_ANNOTATION = "pod-ready.stage.kwok.x-k8s.io/delay"


# --------------------------------------------------------------------------- locations


def base_port_from_env() -> int:
    base = int(os.environ.get(BASE_PORT_ENV, str(DEFAULT_BASE_PORT)))
    top = base + max(PORT_OFFSETS.values())
    if base < 1024 or top >= 32768:
        raise ValueError(f"kube cluster ports {base}..{top} must lie within 1024..32767")
    return base


def default_kube_dir() -> Path:
    """Where scripts/kube-build puts the binaries (``GAMEDAY_KUBE_DIR`` overrides it)."""
    explicit = os.environ.get("GAMEDAY_KUBE_DIR")
    if explicit:
        return Path(explicit)
    cache = Path(os.environ.get("GAMEDAY_CACHE", str(Path.home() / ".cache" / "gameday")))
    return cache / f"kube-{KUBERNETES_VERSION}-etcd-{ETCD_VERSION}-kwok-{KWOK_VERSION}"


def _missing_kube_binaries(kube_dir: Path | None = None) -> list[str]:
    directory = default_kube_dir() if kube_dir is None else kube_dir
    missing = [
        str(directory / "bin" / name)
        for name in KUBE_BINARIES
        if not os.access(directory / "bin" / name, os.X_OK)
    ]
    if not (directory / "kwok-stages.yaml").is_file():
        missing.append(str(directory / "kwok-stages.yaml"))
    return missing


def kube_binaries_built(kube_dir: Path | None = None) -> bool:
    """scripts/kube-build has built everything into ``kube_dir`` (default: its cache)."""
    return not _missing_kube_binaries(kube_dir)


def missing_binaries(kube_dir: Path | None = None) -> list[str]:
    """What this cluster needs that is not there (kube binaries, stages, Prometheus, ...)."""
    missing = _missing_kube_binaries(kube_dir)
    missing.extend(path for path in (PROMETHEUS, ALERTMANAGER) if not Path(path).is_file())
    if shutil.which("openssl") is None:
        missing.append("openssl")
    return missing


def build(timeout_s: float = 3600.0) -> Path:
    """Run scripts/kube-build (instant when the binaries are cached; its log lines go to this
    process's stderr as they come) and return the directory it printed."""
    done = subprocess.run(
        [str(KUBE_BUILD)], stdout=subprocess.PIPE, text=True, check=True, timeout=timeout_s
    )
    return Path(done.stdout.strip().splitlines()[-1])


def default_rule_files() -> list[Path]:
    """Every rule file (``*.yml`` with ``groups:``) in experiments/kubernetes/rules/; not the
    ``promtool test rules`` files beside them. None while that folder is missing."""
    if not DEFAULT_RULES_DIR.is_dir():
        return []
    found = []
    for path in sorted(DEFAULT_RULES_DIR.glob("*.yml")):
        try:
            document = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError):
            found.append(path)  # Prometheus will say what is wrong with it
            continue
        if isinstance(document, dict) and "tests" in document and "groups" not in document:
            continue
        found.append(path)
    return found


# --------------------------------------------------------------------------- certificates

_OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:10.96.0.1, DNS:localhost, DNS:kubernetes, \
DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
"""


@dataclass(frozen=True)
class Pki:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    admin_cert: Path
    admin_key: Path
    sa_key: Path
    sa_pub: Path


def _openssl(*args: str) -> None:
    done = subprocess.run(
        ["openssl", *args], capture_output=True, text=True, timeout=KUBECTL_TIMEOUT_S
    )
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {done.stderr.strip()}")


def make_pki(directory: Path) -> Pki:
    """CA, API server and admin certificates (ECDSA P-256), service-account key pair."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "openssl.cnf"
    config.write_text(_OPENSSL_CONFIG)
    pki = _pki_in(directory)
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl(
        "req", "-x509", "-config", str(config), "-extensions", "ca", *newkey,
        "-keyout", str(pki.ca_key), "-out", str(pki.ca_cert), "-days", "3650",
        "-subj", "/CN=gameday-local-ca",
    )  # fmt: skip
    for name, subject, extensions, cert, key in (
        ("apiserver", "/CN=kube-apiserver", "server", pki.server_cert, pki.server_key),
        ("admin", "/O=system:masters/CN=admin", "client", pki.admin_cert, pki.admin_key),
    ):
        csr = directory / f"{name}.csr"
        _openssl(
            "req", "-new", "-config", str(config), *newkey, "-keyout", str(key),
            "-out", str(csr), "-subj", subject,
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(pki.ca_cert), "-CAkey", str(pki.ca_key),
            "-CAcreateserial", "-days", "3650", "-extfile", str(config),
            "-extensions", extensions, "-out", str(cert),
        )  # fmt: skip
        csr.unlink()
    _openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-out", str(pki.sa_key),
    )  # fmt: skip
    _openssl("pkey", "-in", str(pki.sa_key), "-pubout", "-out", str(pki.sa_pub))
    for key in (pki.ca_key, pki.server_key, pki.admin_key, pki.sa_key):
        key.chmod(0o600)
    return pki


def kubeconfig_document(server: str, pki: Pki) -> dict[str, Any]:
    def embedded(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": embedded(pki.ca_cert),
                },
            }
        ],
        "users": [
            {
                "name": "admin",
                "user": {
                    "client-certificate-data": embedded(pki.admin_cert),
                    "client-key-data": embedded(pki.admin_key),
                },
            }
        ],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": "admin"}}],
        "current-context": CONTEXT,
    }


# --------------------------------------------------------------------------- monitoring configs


def prometheus_document(
    ports: Mapping[str, int], rule_files: Sequence[Path], extra_rules_dir: Path
) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in rule_files] + [str(extra_rules_dir / "*.yml")],
        "alerting": {
            "alertmanagers": [
                {"static_configs": [{"targets": [f"{HOST}:{ports['alertmanager']}"]}]}
            ]
        },
        "scrape_configs": [
            {
                "job_name": SCRAPE_JOB,
                "honor_labels": True,  # as kube-state-metrics' own ServiceMonitor has it
                "static_configs": [{"targets": [f"{HOST}:{ports['kube_state']}"]}],
            }
        ],
    }


def alertmanager_document(webhook_port: int) -> dict[str, Any]:
    def webhook(receiver: str) -> dict[str, Any]:
        url = f"http://{HOST}:{webhook_port}/{receiver}"
        return {"name": receiver, "webhook_configs": [{"url": url, "send_resolved": True}]}

    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": "ops-default",
            "group_by": ["alertname", "namespace"],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "1h",
            "routes": [
                {"matchers": ['severity="critical"'], "receiver": "oncall-pager"},
                {"matchers": ['severity="warning"'], "receiver": "team-chat"},
            ],
        },
        "receivers": [webhook(name) for name in RECEIVERS],
    }


def kwok_stages(built: Path, pod_ready_delay_s: float) -> str:
    """scripts/kube-build's kwok stages with a delay on the pod-ready stage."""
    documents = [document for document in yaml.safe_load_all(built.read_text()) if document]
    found = False
    for document in documents:
        if document.get("kind") == "Stage" and document["metadata"]["name"] == "pod-ready":
            document["spec"]["delay"] = {
                "durationMilliseconds": round(pod_ready_delay_s * 1000),
                "durationFrom": {
                    "expressionFrom": f'.metadata.annotations["{POD_READY_DELAY_ANNOTATION}"]'
                },
            }
            found = True
    if not found:
        raise RuntimeError(f"no pod-ready Stage in {built}")
    return yaml.safe_dump_all(documents, sort_keys=False)


TARGET_TEMPLATE = """\
kind: kubernetes
name: local-control-plane
kubernetes: {{kubeconfig: kubeconfig, context: {context}, namespace: {namespace}}}
prometheus: {{url: {prometheus}}}
alertmanager: {{url: {alertmanager}}}
allow: ['namespace:{namespace}', 'node:kwok-*']
"""


# --------------------------------------------------------------------------- processes

# Looked up once, in the parent: the child between fork and exec only makes the call.
try:
    _PRCTL: Callable[..., int] | None = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _PRCTL = None


def _die_with_parent(signum: int) -> Callable[[], None]:
    """A preexec_fn: the child gets ``signum`` when the process that started it dies."""

    def set_death_signal() -> None:  # in the child, before exec: only the call
        if _PRCTL is not None:
            _PRCTL(PR_SET_PDEATHSIG, signum)

    return set_death_signal


# The signal each part gets when the process that started it (not detached) dies without
# stopping it. SIGTERM, except the API server: terminated together with etcd it stayed in
# its graceful shutdown, retrying etcd, for good (seen over 80 s); its data is throwaway.
DEATH_SIGNALS: Mapping[str, int] = {"kube-apiserver": signal.SIGKILL}


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _still_ours(pid: int, argv: Sequence[str]) -> bool:
    """The PID is alive and still runs what we started (guards against PID reuse)."""
    return _pid_alive(pid) and _cmdline(pid)[: len(argv)] == list(argv)


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _ports_in_use(ports: Mapping[str, int]) -> list[str]:
    busy = []
    for name, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, port))
            except OSError:
                busy.append(f"{name} ({HOST}:{port})")
    return busy


@dataclass
class _Process:
    name: str
    argv: list[str]
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _http_json(url: str, *, method: str = "GET", timeout_s: float = 5.0) -> Any:
    request = urllib.request.Request(url, method=method)
    with _NO_PROXY.open(request, timeout=timeout_s) as response:
        return json.loads(response.read() or b"null")


def _http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        opener = _NO_PROXY
        if context is not None:
            opener = urllib.request.build_opener(
                urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
            )
        with opener.open(url, timeout=2.0) as response:
            return 200 <= int(response.status) < 300
    except (OSError, urllib.error.URLError, ssl.SSLError):
        return False


class KubectlError(RuntimeError):
    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        super().__init__(f"kubectl {' '.join(args)} exited with {returncode}: {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


# --------------------------------------------------------------------------- the cluster


class KubeCluster:
    """A control plane with fake nodes, the shop, a kube-state-metrics stand-in, Prometheus,
    Alertmanager and a webhook recorder; see the module docstring.

    :param directory: everything it writes goes there (certificates, data, logs, configs)
    :param base_port: first port; default ``GAMEDAY_KUBE_BASE_PORT`` or 28600
    :param kube_dir: scripts/kube-build's directory; default :func:`default_kube_dir`
    :param rule_files: Prometheus rule files; default :func:`default_rule_files`
    :param pod_ready_delay_s: a scheduled pod's simulated start-up time; default
        ``GAMEDAY_KUBE_POD_READY_DELAY_S`` or :data:`DEFAULT_POD_READY_DELAY_S`
    :param log: where progress lines go; default stderr
    """

    def __init__(
        self,
        directory: Path,
        base_port: int | None = None,
        *,
        kube_dir: Path | None = None,
        rule_files: Sequence[Path] | None = None,
        pod_ready_delay_s: float | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.directory = Path(directory).resolve()
        self.base_port = base_port_from_env() if base_port is None else base_port
        self.ports = {name: self.base_port + offset for name, offset in PORT_OFFSETS.items()}
        self.kube_dir = default_kube_dir() if kube_dir is None else Path(kube_dir)
        self.pod_ready_delay_s = (
            float(os.environ.get(POD_READY_DELAY_ENV, str(DEFAULT_POD_READY_DELAY_S)))
            if pod_ready_delay_s is None
            else pod_ready_delay_s
        )
        self.rule_files = [
            Path(path).resolve()
            for path in (default_rule_files() if rule_files is None else rule_files)
        ]
        self._log = log if log is not None else _stderr_line
        self._processes: list[_Process] = []
        self._started_at = 0.0
        self.ready_after_s: float | None = None
        self.pki: Pki | None = None

    # ----------------------------------------------------------------- where things are

    @property
    def kubeconfig(self) -> Path:
        return self.directory / "kubeconfig"

    @property
    def target_file(self) -> Path:
        return self.directory / "target.yaml"

    @property
    def cluster_file(self) -> Path:
        return self.directory / "cluster.json"

    @property
    def deliveries_file(self) -> Path:
        return self.directory / "deliveries.jsonl"

    @property
    def extra_rules_dir(self) -> Path:
        return self.directory / "extra-rules"

    @property
    def logs_dir(self) -> Path:
        return self.directory / "logs"

    @property
    def apiserver_url(self) -> str:
        return f"https://{HOST}:{self.ports['apiserver']}"

    @property
    def prometheus_url(self) -> str:
        return f"http://{HOST}:{self.ports['prometheus']}"

    @property
    def alertmanager_url(self) -> str:
        return f"http://{HOST}:{self.ports['alertmanager']}"

    @property
    def kube_state_url(self) -> str:
        return f"http://{HOST}:{self.ports['kube_state']}"

    @property
    def webhook_url(self) -> str:
        return f"http://{HOST}:{self.ports['webhook']}"

    def binary(self, name: str) -> str:
        return str(self.kube_dir / "bin" / name)

    def pids(self) -> dict[str, int]:
        """Name → PID of every process this object started and has not stopped."""
        return {process.name: process.pid for process in self._processes}

    def rss_mib(self) -> dict[str, float]:
        """Resident memory of each running process, MiB."""
        return {process.name: _rss_mib(process.pid) for process in self._processes}

    # ----------------------------------------------------------------- start

    def start(self, *, detach: bool = False) -> None:
        """Start everything and wait until the shop is available and Prometheus sees it.

        ``detach``: the processes outlive this one (``up``); otherwise each gets SIGTERM when
        this process dies, so a killed test session leaves nothing behind. Either way they run
        in sessions of their own (a Ctrl-C in the terminal reaches only this process). On any
        failure, whatever was started is stopped before the exception propagates.
        """
        if self._processes:
            raise RuntimeError("this cluster is already started")
        missing = missing_binaries(self.kube_dir)
        if missing:
            raise RuntimeError(
                f"missing: {', '.join(missing)}; run scripts/kube-build (Kubernetes) and "
                "apt-get install prometheus prometheus-alertmanager openssl"
            )
        busy = _ports_in_use(self.ports)
        if busy:
            raise RuntimeError(
                f"kube cluster ports already in use: {', '.join(busy)}; "
                f"set {BASE_PORT_ENV} to another base"
            )
        self._started_at = time.monotonic()
        try:
            self._start(detach)
        except BaseException:
            self.stop()
            raise

    def _start(self, detach: bool) -> None:
        self._prepare_directory()
        self.pki = pki = make_pki(self.directory / "pki")
        self.kubeconfig.write_text(
            yaml.safe_dump(kubeconfig_document(self.apiserver_url, pki), sort_keys=False)
        )
        self.kubeconfig.chmod(0o600)
        prometheus_config = self.directory / "prometheus.yml"
        prometheus_config.write_text(
            yaml.safe_dump(
                prometheus_document(self.ports, self.rule_files, self.extra_rules_dir),
                sort_keys=False,
            )
        )
        alertmanager_config = self.directory / "alertmanager.yml"
        alertmanager_config.write_text(
            yaml.safe_dump(alertmanager_document(self.ports["webhook"]), sort_keys=False)
        )
        (self.directory / "kwok-stages.yaml").write_text(
            kwok_stages(self.kube_dir / "kwok-stages.yaml", self.pod_ready_delay_s)
        )
        self._progress("certificates and configuration written")

        spawn = self._spawner(detach)
        spawn("etcd", self._etcd_argv())
        spawn("webhook-recorder", self._recorder_argv())
        spawn("alertmanager", self._alertmanager_argv(alertmanager_config))
        spawn("prometheus", self._prometheus_argv(prometheus_config))
        # It lists until the API server answers: its Python start-up overlaps the others'.
        spawn("kube-state-standin", self._standin_argv())
        self._wait_all({"etcd": lambda: self._etcd_healthy()})

        # The API server's clients wait for it themselves; started now, their start-up
        # overlaps its own.
        spawn("kube-apiserver", self._apiserver_argv(pki))
        spawn("kube-controller-manager", self._controller_manager_argv(pki))
        spawn("kube-scheduler", self._scheduler_argv())
        # kwok plays the shop's first pods without the start-up delay (start-up stays quick),
        # then restarts with it, below.
        kwok = spawn("kwok", self._kwok_argv(self.kube_dir / "kwok-stages.yaml"))
        self._wait_all({"kube-apiserver": lambda: self._api_ok("/readyz")})

        self.kubectl("apply", "-f", str(NODES_MANIFEST))
        # The shop's Namespace first: its pods need its default service account to exist.
        namespace = next(
            document
            for document in yaml.safe_load_all(SHOP_MANIFEST.read_text())
            if document and document.get("kind") == "Namespace"
        )
        self.kubectl("apply", "-f", "-", input_text=yaml.safe_dump(namespace))
        self._wait_all(
            {
                "service account default/default": lambda: self._api_ok(
                    "/api/v1/namespaces/default/serviceaccounts/default"
                ),
                f"service account {NAMESPACE}/default": lambda: self._api_ok(
                    f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/default"
                ),
            }
        )
        self.kubectl("apply", "-f", str(SHOP_MANIFEST))
        self._write_target_file()
        self._wait_all(
            {
                "kube-controller-manager": lambda: self._component_healthy("controller_manager"),
                "kube-scheduler": lambda: self._component_healthy("scheduler"),
                "kwok": lambda: _http_ok(f"http://{HOST}:{self.ports['kwok']}/healthz"),
                "fake nodes": self.nodes_ready,
                "shop deployments": self.shop_available,
                "kube-state stand-in": lambda: _http_ok(f"{self.kube_state_url}/healthz"),
                "alertmanager": lambda: _http_ok(f"{self.alertmanager_url}/-/ready"),
                "prometheus": lambda: _http_ok(f"{self.prometheus_url}/-/ready"),
            }
        )
        if self.pod_ready_delay_s > 0:
            self._restart_kwok(kwok, spawn)
        self._wait_all({"shop in prometheus": self.prometheus_sees_shop})
        self.ready_after_s = time.monotonic() - self._started_at
        self._write_cluster_file()
        self._log(f"[kube-cluster] ready in {self.ready_after_s:.1f} s: {self.target_file}")

    def _restart_kwok(self, kwok: _Process, spawn: Callable[[str, list[str]], _Process]) -> None:
        """Stop the first kwok; start one whose pods take the start-up delay to be Ready."""
        _terminate([kwok.pid], STOP_TIMEOUT_S)
        with contextlib.suppress(subprocess.TimeoutExpired):
            kwok.popen.wait(timeout=1)
        self._processes.remove(kwok)
        # A new kwok does not take over nodes whose lease another kwok holds until the lease
        # expires (40 s): the leases of the one just stopped go with it.
        self.kubectl("delete", "lease", "-n", "kube-node-lease", "--ignore-not-found", *FAKE_NODES)
        spawn("kwok", self._kwok_argv(self.directory / "kwok-stages.yaml"))
        self._wait_all(
            {
                f"kwok (pods start in {self.pod_ready_delay_s:g} s)": lambda: _http_ok(
                    f"http://{HOST}:{self.ports['kwok']}/healthz"
                )
            }
        )

    def _prepare_directory(self) -> None:
        """A fresh start: data of an earlier run in this directory is removed."""
        for name in (
            "etcd-data", "prometheus-data", "alertmanager-data", "pki", "logs", "extra-rules",
        ):  # fmt: skip
            shutil.rmtree(self.directory / name, ignore_errors=True)
        for name in ("deliveries.jsonl", "cluster.json", "target.yaml", "kwok-stages.yaml"):
            (self.directory / name).unlink(missing_ok=True)
        for name in ("etcd-data", "prometheus-data", "alertmanager-data", "logs", "extra-rules"):
            (self.directory / name).mkdir(parents=True, exist_ok=True)
        (self.directory / "etcd-data").chmod(0o700)
        self.deliveries_file.touch()

    def _spawner(self, detach: bool) -> Callable[[str, list[str]], _Process]:
        env = dict(os.environ)
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"

        def spawn(name: str, argv: list[str]) -> _Process:
            log_path = self.logs_dir / f"{name}.log"
            death_signal = DEATH_SIGNALS.get(name, signal.SIGTERM)
            with log_path.open("ab") as log:
                popen = subprocess.Popen(
                    argv,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self.directory,
                    env=env,
                    start_new_session=True,
                    preexec_fn=None if detach else _die_with_parent(death_signal),
                )
            process = _Process(name=name, argv=argv, popen=popen, log=log_path)
            self._processes.append(process)
            return process

        return spawn

    # ----------------------------------------------------------------- argv of each part

    def _recorder_argv(self) -> list[str]:
        return [
            sys.executable,
            str(Path(__file__).resolve()),
            "webhook-recorder",
            "--port",
            str(self.ports["webhook"]),
            "--file",
            str(self.deliveries_file),
        ]

    def _alertmanager_argv(self, config: Path) -> list[str]:
        return [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={self.directory / 'alertmanager-data'}",
            f"--web.listen-address={HOST}:{self.ports['alertmanager']}",
            "--cluster.listen-address=",
        ]

    def _prometheus_argv(self, config: Path) -> list[str]:
        return [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.directory / 'prometheus-data'}",
            f"--web.listen-address={HOST}:{self.ports['prometheus']}",
            "--web.enable-lifecycle",
            "--rules.alert.resend-delay=1s",
        ]

    def _etcd_argv(self) -> list[str]:
        client = f"http://{HOST}:{self.ports['etcd']}"
        peer = f"http://{HOST}:{self.ports['etcd_peer']}"
        return [
            self.binary("etcd"),
            "--name=gameday-local",
            f"--data-dir={self.directory / 'etcd-data'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=gameday-local={peer}",
            "--initial-cluster-state=new",
            "--log-level=warn",
            "--unsafe-no-fsync",  # a throwaway test cluster: no need to wait on the disk
        ]

    def _apiserver_argv(self, pki: Pki) -> list[str]:
        return [
            self.binary("kube-apiserver"),
            f"--etcd-servers=http://{HOST}:{self.ports['etcd']}",
            f"--bind-address={HOST}",
            f"--advertise-address={HOST}",
            f"--secure-port={self.ports['apiserver']}",
            f"--tls-cert-file={pki.server_cert}",
            f"--tls-private-key-file={pki.server_key}",
            f"--client-ca-file={pki.ca_cert}",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC",
            "--endpoint-reconciler-type=none",
            "--kubelet-preferred-address-types=InternalIP",
            "--profiling=false",
        ]

    def _controller_manager_argv(self, pki: Pki) -> list[str]:
        kubeconfig = str(self.kubeconfig)
        return [
            self.binary("kube-controller-manager"),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            f"--bind-address={HOST}",
            f"--secure-port={self.ports['controller_manager']}",
            "--leader-elect=false",
            "--use-service-account-credentials=false",
            f"--service-account-private-key-file={pki.sa_key}",
            f"--root-ca-file={pki.ca_cert}",
            f"--cluster-signing-cert-file={pki.ca_cert}",
            f"--cluster-signing-key-file={pki.ca_key}",
            "--profiling=false",
        ]

    def _scheduler_argv(self) -> list[str]:
        kubeconfig = str(self.kubeconfig)
        return [
            self.binary("kube-scheduler"),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            f"--bind-address={HOST}",
            f"--secure-port={self.ports['scheduler']}",
            "--leader-elect=false",
            "--profiling=false",
        ]

    def _kwok_argv(self, stages: Path) -> list[str]:
        return [
            self.binary("kwok"),
            f"--kubeconfig={self.kubeconfig}",
            f"--config={stages}",
            "--manage-all-nodes=false",
            f"--manage-nodes-with-annotation-selector={FAKE_NODE_ANNOTATION}=fake",
            f"--node-ip={HOST}",
            f"--node-port={self.ports['kwok']}",
            f"--server-address={HOST}:{self.ports['kwok']}",
            "--node-lease-duration-seconds=40",
        ]

    def _standin_argv(self) -> list[str]:
        return [
            sys.executable,
            str(STANDIN),
            f"--kubeconfig={self.kubeconfig}",
            f"--port={self.ports['kube_state']}",
            "--interval=0.5",
        ]

    # ----------------------------------------------------------------- waiting

    def _progress(self, message: str) -> None:
        self._log(f"[kube-cluster] {message} in {time.monotonic() - self._started_at:.1f} s")

    def _check_processes(self) -> None:
        for process in self._processes:
            code = process.popen.poll()
            if code is not None:
                raise RuntimeError(
                    f"{process.name} exited with {code} during start-up; "
                    f"the end of {process.log}:\n{_log_tail(process.log)}"
                )

    def _wait_all(
        self, checks: Mapping[str, Callable[[], bool]], timeout_s: float = START_TIMEOUT_S
    ) -> None:
        """Poll every check until all hold; a line for each as it comes ready."""
        pending = dict(checks)
        deadline = time.monotonic() + timeout_s
        while pending:
            self._check_processes()
            for name, check in list(pending.items()):
                try:
                    ok = check()
                except (OSError, ValueError, KeyError, urllib.error.URLError, ssl.SSLError):
                    ok = False
                if ok:
                    del pending[name]
                    self._progress(f"{name} ready")
            if pending and time.monotonic() > deadline:
                raise TimeoutError(
                    f"not ready within {timeout_s:g} s: {', '.join(pending)}; "
                    f"logs in {self.logs_dir}"
                )
            if pending:
                time.sleep(POLL_S)

    def wait_until(
        self, what: str, check: Callable[[], bool], timeout_s: float = 60.0, every_s: float = 0.2
    ) -> float:
        """Poll ``check`` until it holds; seconds it took. TimeoutError names ``what``."""
        started = time.monotonic()
        deadline = started + timeout_s
        while True:
            try:
                if check():
                    return time.monotonic() - started
            except (OSError, ValueError, KeyError, urllib.error.URLError, ssl.SSLError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not within {timeout_s:g} s")
            time.sleep(every_s)

    def _etcd_healthy(self) -> bool:
        answer = _http_json(f"http://{HOST}:{self.ports['etcd']}/health", timeout_s=2.0)
        return isinstance(answer, dict) and answer.get("health") == "true"

    def _component_healthy(self, part: str) -> bool:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # its own self-signed serving certificate
        return _http_ok(f"https://{HOST}:{self.ports[part]}/healthz", context)

    # ----------------------------------------------------------------- the API

    def _ssl_context(self) -> ssl.SSLContext:
        pki = self.pki if self.pki is not None else _pki_in(self.directory / "pki")
        context = ssl.create_default_context(cafile=str(pki.ca_cert))
        context.load_cert_chain(str(pki.admin_cert), str(pki.admin_key))
        return context

    def _api_ok(self, path: str) -> bool:
        return _http_ok(self.apiserver_url + path, self._ssl_context())

    def api_get(self, path: str, timeout_s: float = 5.0) -> Any:
        """GET a path of the API server as admin; the decoded JSON."""
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=self._ssl_context()),
        )
        with opener.open(self.apiserver_url + path, timeout=timeout_s) as response:
            return json.loads(response.read())

    def api_client(self) -> Any:
        """A ``kubernetes.client.ApiClient`` for this cluster (the Python client)."""
        from kubernetes import config

        return config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(self.kubeconfig), context=CONTEXT
        )

    def kubectl(
        self, *args: str, input_text: str | None = None, timeout_s: float = KUBECTL_TIMEOUT_S
    ) -> str:
        """Run the built kubectl with this cluster's kubeconfig; its stdout.

        :raises KubectlError: on a non-zero exit, with kubectl's stderr
        """
        done = subprocess.run(
            [self.binary("kubectl"), f"--kubeconfig={self.kubeconfig}", *args],
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        if done.returncode != 0:
            raise KubectlError(args, done.returncode, done.stderr)
        return done.stdout

    def nodes_ready(self) -> bool:
        """Every fake node exists and reports Ready=True."""
        items = self.api_get("/api/v1/nodes")["items"]
        ready = {
            item["metadata"]["name"]
            for item in items
            for condition in item.get("status", {}).get("conditions") or []
            if condition.get("type") == "Ready" and condition.get("status") == "True"
        }
        return all(name in ready for name in FAKE_NODES)

    def shop_available(self, replicas: Mapping[str, int] = SHOP_REPLICAS) -> bool:
        """Each Deployment has rolled out exactly its replicas, all available, and the shop
        holds no other pod (none terminating, none of a Job)."""
        items = self.api_get(f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments")["items"]
        by_name = {item["metadata"]["name"]: item for item in items}
        for name, wanted in replicas.items():
            item = by_name.get(name)
            if item is None:
                return False
            status = item.get("status", {})
            if (
                item["spec"].get("replicas") != wanted
                or status.get("observedGeneration", 0) < item["metadata"]["generation"]
                or status.get("replicas", 0) != wanted
                or status.get("updatedReplicas", 0) != wanted
                or status.get("availableReplicas", 0) != wanted
            ):
                return False
        pods = self.api_get(f"/api/v1/namespaces/{NAMESPACE}/pods")["items"]
        return len(pods) == sum(replicas.values()) and not any(
            pod["metadata"].get("deletionTimestamp") for pod in pods
        )

    # ----------------------------------------------------------------- Prometheus, Alertmanager

    def prometheus_query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query; the ``data.result`` list."""
        query = urllib.parse.urlencode({"query": promql})
        answer = _http_json(f"{self.prometheus_url}/api/v1/query?{query}")
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def prometheus_value(self, promql: str) -> float | None:
        """The single sample's value, None when the query gives none (raises on several)."""
        result = self.prometheus_query(promql)
        if not result:
            return None
        if len(result) > 1:
            raise ValueError(f"{promql} gave {len(result)} series")
        return float(result[0]["value"][1])

    def prometheus_sees_shop(self, replicas: Mapping[str, int] = SHOP_REPLICAS) -> bool:
        for name, wanted in replicas.items():
            value = self.prometheus_value(
                "kube_deployment_status_replicas_available"
                f'{{namespace="{NAMESPACE}",deployment="{name}"}}'
            )
            if value != wanted:
                return False
        return True

    def alertmanager_alerts(self, filter_: str | None = None) -> list[dict[str, Any]]:
        """GET /api/v2/alerts, optionally with one ``filter`` matcher."""
        query = "" if filter_ is None else "?" + urllib.parse.urlencode({"filter": filter_})
        alerts: list[dict[str, Any]] = _http_json(f"{self.alertmanager_url}/api/v2/alerts{query}")
        return alerts

    def deliveries(self, receiver: str | None = None) -> list[dict[str, Any]]:
        """Recorded notifications, oldest first: ``{"receiver", "received_at", "payload"}`` as
        tests/team_stack.py records them, plus ``status`` (firing/resolved) and ``alertname``
        (routes group by alertname, so one notification carries one) from the payload."""
        out = []
        try:
            lines = self.deliveries_file.read_text().splitlines()
        except FileNotFoundError:
            return []
        for line in lines:
            try:
                item = json.loads(line)
            except ValueError:  # a line being written right now
                continue
            if receiver is None or item["receiver"] == receiver:
                payload = item.get("payload") or {}
                item["status"] = payload.get("status")
                item["alertname"] = (payload.get("commonLabels") or {}).get("alertname")
                out.append(item)
        return out

    def reload_prometheus(self) -> None:
        request = urllib.request.Request(f"{self.prometheus_url}/-/reload", method="POST")
        with _NO_PROXY.open(request, timeout=10.0) as response:
            if response.status != 200:
                raise RuntimeError(f"Prometheus reload answered {response.status}")

    def rule_groups(self) -> list[str]:
        answer = _http_json(f"{self.prometheus_url}/api/v1/rules")
        return [group["name"] for group in answer["data"]["groups"]]

    @contextlib.contextmanager
    def extra_rules(self, name: str, document: Mapping[str, Any]) -> Iterator[Path]:
        """A rule file of the caller's, loaded (Prometheus reloaded) for the ``with`` block and
        removed after it, even when the block fails."""
        path = self.extra_rules_dir / f"{name}.yml"
        groups = [group["name"] for group in document["groups"]]
        path.write_text(yaml.safe_dump(dict(document), sort_keys=False))
        try:
            self.reload_prometheus()
            self.wait_until(
                f"rule groups {groups} loaded",
                lambda: all(group in self.rule_groups() for group in groups),
                timeout_s=15,
            )
            yield path
        finally:
            path.unlink(missing_ok=True)
            self.reload_prometheus()

    # ----------------------------------------------------------------- restore

    def reset_shop(self, timeout_s: float = 60.0) -> None:
        """Back to the state start() left: nodes present and uncordoned, the shop's manifest
        applied again (gateway/redis/camera at 3/1/2), no NetworkPolicy and no Job in the
        shop; waits until all is available and Prometheus shows it."""
        self.kubectl("apply", "-f", str(NODES_MANIFEST))
        self.kubectl("uncordon", *FAKE_NODES)
        self.kubectl("apply", "-f", str(SHOP_MANIFEST))
        self.kubectl("delete", "networkpolicies", "--all", "-n", NAMESPACE)
        self.kubectl(
            "delete", "jobs", "--all", "-n", NAMESPACE, "--cascade=foreground",
            "--wait=true", f"--timeout={int(timeout_s)}s",
        )  # fmt: skip
        self.wait_until("fake nodes Ready", self.nodes_ready, timeout_s)
        self.wait_until("shop available", self.shop_available, timeout_s)
        self.wait_until("Prometheus sees the shop", self.prometheus_sees_shop, timeout_s)

    # ----------------------------------------------------------------- files

    def _write_target_file(self) -> None:
        self.target_file.write_text(
            TARGET_TEMPLATE.format(
                context=CONTEXT,
                namespace=NAMESPACE,
                prometheus=self.prometheus_url,
                alertmanager=self.alertmanager_url,
            )
        )

    def _write_cluster_file(self) -> None:
        document = {
            "directory": str(self.directory),
            "base_port": self.base_port,
            "ports": self.ports,
            "urls": {
                "apiserver": self.apiserver_url,
                "prometheus": self.prometheus_url,
                "alertmanager": self.alertmanager_url,
                "kube_state": self.kube_state_url,
                "webhook": self.webhook_url,
            },
            "kubeconfig": str(self.kubeconfig),
            "context": CONTEXT,
            "target_file": str(self.target_file),
            "deliveries_file": str(self.deliveries_file),
            "kube_dir": str(self.kube_dir),
            "ready_after_s": self.ready_after_s,
            "processes": [
                {"name": process.name, "pid": process.pid, "argv": process.argv}
                for process in self._processes
            ],
        }
        self.cluster_file.write_text(json.dumps(document, indent=2) + "\n")

    # ----------------------------------------------------------------- stop

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop every process started here by PID: SIGTERM, then SIGKILL after ``timeout_s``.
        Safe to call twice, and after a failed start."""
        processes, self._processes = self._processes, []
        _stop_in_order(
            [(process.name, process.pid) for process in processes if _pid_alive(process.pid)],
            timeout_s,
        )
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(timeout=1)
        self.cluster_file.unlink(missing_ok=True)


# The API server's clients first, then the API server, then etcd: stopped together, the API
# server outlived a 15 s grace waiting on the etcd that had gone; in this order all three
# steps took about 2 s.
STOP_ORDER: Mapping[str, int] = {"kube-apiserver": 1, "etcd": 2}


def _stop_in_order(processes: Sequence[tuple[str, int]], timeout_s: float) -> None:
    """SIGTERM (then SIGKILL after ``timeout_s``) by PID, one tier of :data:`STOP_ORDER` at a
    time; every tier is stopped even when an earlier one needed SIGKILL."""
    for tier in sorted({STOP_ORDER.get(name, 0) for name, _ in processes}):
        _terminate([pid for name, pid in processes if STOP_ORDER.get(name, 0) == tier], timeout_s)


def _pki_in(directory: Path) -> Pki:
    return Pki(
        ca_cert=directory / "ca.crt",
        ca_key=directory / "ca.key",
        server_cert=directory / "apiserver.crt",
        server_key=directory / "apiserver.key",
        admin_cert=directory / "admin.crt",
        admin_key=directory / "admin.key",
        sa_key=directory / "sa.key",
        sa_pub=directory / "sa.pub",
    )


def _stderr_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- recorded clusters


def read_cluster_file(directory: Path) -> dict[str, Any] | None:
    path = Path(directory) / "cluster.json"
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return document


def stop_recorded(directory: Path, timeout_s: float = STOP_TIMEOUT_S) -> list[str]:
    """Stop every process cluster.json lists that still runs what was started (by PID);
    the names of those it stopped."""
    document = read_cluster_file(directory)
    if document is None:
        return []
    running = [
        process
        for process in document["processes"]
        if _still_ours(int(process["pid"]), process["argv"])
    ]
    _stop_in_order([(str(process["name"]), int(process["pid"])) for process in running], timeout_s)
    (Path(directory) / "cluster.json").unlink(missing_ok=True)
    return [str(process["name"]) for process in running]


# --------------------------------------------------------------------------- the recorder


def run_webhook_recorder(port: int, deliveries_file: Path) -> int:
    """tests/team_stack.py's recorder, also appending each delivery to a JSONL file (so
    another process can read them), until SIGTERM or SIGINT."""

    class JsonlRecorder(_WebhookRecorder):
        def _record(self, receiver: str, payload: Any) -> None:
            item = {"receiver": receiver, "received_at": time.time(), "payload": payload}
            with self._lock:
                self._deliveries.append(item)
                with deliveries_file.open("a") as out:
                    out.write(json.dumps(item) + "\n")

    recorder = JsonlRecorder(port)
    stopping: list[int] = []

    def stop(signum: int, frame: object) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    recorder.start()
    while not stopping:
        time.sleep(0.2)
    recorder.stop()
    return 0


# --------------------------------------------------------------------------- command line


def _up(directory: Path, base_port: int | None, pod_ready_delay_s: float | None) -> int:
    existing = read_cluster_file(directory)
    if existing is not None and any(
        _still_ours(int(process["pid"]), process["argv"]) for process in existing["processes"]
    ):
        print(f"a cluster already runs from {directory}; `down --dir {directory}` first")
        return 1
    cluster = KubeCluster(
        directory,
        base_port,
        pod_ready_delay_s=pod_ready_delay_s,
        log=lambda line: print(line, flush=True),
    )
    cluster.start(detach=True)
    rss = cluster.rss_mib()
    print(f"processes: {', '.join(f'{name} {pid}' for name, pid in cluster.pids().items())}")
    print(f"memory: {sum(rss.values()):.0f} MiB RSS in all")
    print(f"export KUBECONFIG={cluster.kubeconfig}")
    print(f"target:       {cluster.target_file}")
    print(f"prometheus:   {cluster.prometheus_url}")
    print(f"alertmanager: {cluster.alertmanager_url}")
    print(f"deliveries:   {cluster.deliveries_file}")
    return 0


def _status(directory: Path) -> int:
    document = read_cluster_file(directory)
    if document is None:
        print(f"no cluster recorded in {directory}")
        return 1
    alive = 0
    for process in document["processes"]:
        pid = int(process["pid"])
        ours = _still_ours(pid, process["argv"])
        alive += ours
        memory = f"{_rss_mib(pid):6.0f} MiB" if ours else ""
        print(f"{process['name']:<24} {pid:>8} {'running' if ours else 'GONE':<8} {memory}")
    cluster = KubeCluster(
        directory, int(document["base_port"]), kube_dir=Path(document["kube_dir"])
    )
    ready = cluster._api_ok("/readyz")
    print(f"kube-apiserver /readyz: {'ok' if ready else 'not answering'}")
    for name, url in document["urls"].items():
        print(f"{name:<12} {url}")
    return 0 if ready and alive == len(document["processes"]) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kube_cluster.py", description="The tests' Kubernetes control plane on 127.0.0.1."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start it and leave it running")
    up.add_argument("--dir", required=True, type=Path)
    up.add_argument("--base-port", type=int, default=None)
    up.add_argument(
        "--pod-ready-delay",
        type=float,
        default=None,
        help=f"seconds before a scheduled pod is Ready (default {DEFAULT_POD_READY_DELAY_S:g})",
    )
    for name, text in (("down", "stop every process cluster.json lists"), ("status", "show it")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--dir", required=True, type=Path)
    recorder = commands.add_parser("webhook-recorder", help="(internal) the webhook recorder")
    recorder.add_argument("--port", required=True, type=int)
    recorder.add_argument("--file", required=True, type=Path)
    options = parser.parse_args(argv)

    if options.command == "webhook-recorder":
        return run_webhook_recorder(options.port, options.file)
    directory = Path(options.dir).resolve()
    if options.command == "up":
        directory.mkdir(parents=True, exist_ok=True)
        return _up(directory, options.base_port, options.pod_ready_delay)
    if options.command == "down":
        stopped = stop_recorded(directory)
        print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
        return 0
    return _status(directory)


if __name__ == "__main__":
    sys.exit(main())
