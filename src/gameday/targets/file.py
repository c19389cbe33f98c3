"""Target files: the system under test, named in YAML (`gameday run … --target FILE`).

    kind: external                      # lab | external | containers | kubernetes
    name: staging                       # shown in reports [default: the file's name]
    prometheus:
      url: https://prom.staging.example:9090
      auth: {bearer_token: {env: PROM_TOKEN}}          # or basic: {username, password}
      tls: {ca_file: ca.pem, cert_file: client.pem, key_file: client-key.pem}
    alertmanager:
      url: https://am.staging.example:9093
      config_file: alertmanager.yml     # for the pre-flight [default: its /api/v2/status]
    sink: {url: http://127.0.0.1:9099}  # gameday's notification sink, when a receiver uses it
    load: {host: https://api.staging.example}
    slo: {error_ratio: '…', latency_p95_s: '…', requests_per_s: '…'}
    rules: [rules/cache.yml]            # the alert rules (labels for the pre-flight)
    allow: ['process:/usr/bin/redis-cli -p 6390 *']   # what faults may touch

A `kind: containers` target adds `containers: [NAMES]` (the system's Docker
containers) and optionally `docker: {host: unix:///…}` (default: $DOCKER_HOST);
its `allow` names the containers faults may touch (`shop-redis` or
`container:shop-*`).

A `kind: kubernetes` target adds how to reach the cluster's API (default: the
kubeconfig $KUBECONFIG names, else ~/.kube/config, and its current context) and
the namespace faults default to:

    kubernetes: {kubeconfig: ~/.kube/config, context: staging, namespace: shop}
    kubernetes: {in_cluster: true, namespace: shop}    # gameday runs in a pod
    allow: ['namespace:shop', 'selector:shop/app=gateway', 'node:pool-a-*']

Credentials are never written in the file: `{env: NAME}` reads an environment
variable, `{secret: SCOPE.KEY}` one of the experiment's Chaos Toolkit secrets.
Every key is checked; a mistake is an InvalidInputError (exit 2) naming the file,
the key and the fix. Relative paths are relative to the target file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gameday.documents import read_yaml
from gameday.errors import InvalidInputError
from gameday.observe.http import HttpSettings
from gameday.targets.kubernetes import KubeAccess
from gameday.targets.target import Target, lab_target

KINDS = ("lab", "external", "containers", "kubernetes")
KUBERNETES_KEYS = {"kubeconfig", "context", "namespace", "in_cluster"}
NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
TOP_KEYS = {
    "kind",
    "name",
    "prometheus",
    "alertmanager",
    "sink",
    "load",
    "slo",
    "rules",
    "allow",
    "lab_dir",
    "containers",
    "docker",
    "kubernetes",
}
ENDPOINT_KEYS = {"url", "auth", "tls"}
SLO_KEY = re.compile(r"^(error_ratio|requests_per_s|latency_p(\d{1,2}(?:\.\d+)?)_s)$")
SLO_KEYS_HINT = "error_ratio, requests_per_s, latency_p95_s (or latency_p<NN>_s)"
CREDENTIAL_HINT = (
    "write {env: VARIABLE} or {secret: SCOPE.KEY} (a Chaos Toolkit secret of the "
    "experiment); credentials are never written in target files"
)


class _Reader:
    """Reads one target document, naming the file and key of every mistake."""

    def __init__(self, source: str, base: Path, secrets: Mapping[str, Any] | None) -> None:
        self.source = source
        self.base = base
        self.secrets = secrets

    def fail(self, message: str, where: str, hint: str | None = None) -> InvalidInputError:
        return InvalidInputError(message, source=self.source, where=where, hint=hint)

    def mapping(self, value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail("must be a mapping", where, f"keys: {', '.join(sorted(allowed))}")
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise self.fail(
                f"unknown key {unknown[0]!r}",
                f"{where}.{unknown[0]}".lstrip("."),
                f"known keys here: {', '.join(sorted(allowed))}",
            )
        return value

    def text(self, value: Any, where: str, hint: str | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail("must be a non-empty string", where, hint)
        return value.strip()

    def url(self, value: Any, where: str) -> str:
        url = self.text(value, where, "e.g. https://prometheus.example:9090")
        if not re.match(r"^https?://[^/\s]+", url):
            raise self.fail(f"{url!r} is not an http(s) URL", where, "write http(s)://host:port")
        return url.rstrip("/")

    def path(self, value: Any, where: str) -> Path:
        path = (self.base / self.text(value, where)).resolve()
        if not path.is_file():
            raise self.fail(
                f"file {value!r} not found (looked in {path})",
                where,
                "paths in a target file are relative to it",
            )
        return path

    def credential(self, value: Any, where: str) -> str:
        if not isinstance(value, dict) or len(value) != 1:
            raise self.fail("must be {env: NAME} or {secret: SCOPE.KEY}", where, CREDENTIAL_HINT)
        ((how, name),) = value.items()
        name = self.text(name, f"{where}.{how}")
        if how == "env":
            found = os.environ.get(name)
            if not found:
                raise self.fail(
                    f"environment variable {name} is not set (or empty)",
                    f"{where}.env",
                    f"export {name}=… before running gameday",
                )
            return found
        if how == "secret":
            scope, _, key = name.partition(".")
            secret = (self.secrets or {}).get(scope, {})
            found = secret.get(key) if isinstance(secret, dict) else None
            if not isinstance(found, str) or not found:
                raise self.fail(
                    f"no Chaos Toolkit secret {name!r} in the experiment",
                    f"{where}.secret",
                    f"declare it in the experiment: secrets: {{{scope}: {{{key or 'KEY'}: …}}}}",
                )
            return found
        raise self.fail(f"unknown credential source {how!r}", where, CREDENTIAL_HINT)

    def http(self, endpoint: dict[str, Any], where: str) -> HttpSettings:
        auth = self.mapping(endpoint.get("auth") or {}, f"{where}.auth", {"bearer_token", "basic"})
        tls = self.mapping(
            endpoint.get("tls") or {}, f"{where}.tls", {"ca_file", "cert_file", "key_file"}
        )
        if "bearer_token" in auth and "basic" in auth:
            raise self.fail(
                "give bearer_token or basic, not both",
                f"{where}.auth",
                "keep the one the server expects and remove the other",
            )
        token = (
            self.credential(auth["bearer_token"], f"{where}.auth.bearer_token")
            if "bearer_token" in auth
            else None
        )
        basic: tuple[str, str] | None = None
        if "basic" in auth:
            pair = self.mapping(auth["basic"], f"{where}.auth.basic", {"username", "password"})
            if "username" not in pair or "password" not in pair:
                raise self.fail(
                    "needs username and password",
                    f"{where}.auth.basic",
                    "basic: {username: NAME, password: {env: VARIABLE}}",
                )
            user = pair["username"]
            username = (
                self.credential(user, f"{where}.auth.basic.username")
                if isinstance(user, dict)
                else self.text(user, f"{where}.auth.basic.username")
            )
            basic = (username, self.credential(pair["password"], f"{where}.auth.basic.password"))
        files = {key: str(self.path(tls[key], f"{where}.tls.{key}")) for key in tls}
        if "key_file" in files and "cert_file" not in files:
            raise self.fail(
                "key_file needs cert_file",
                f"{where}.tls.key_file",
                "add cert_file: the client certificate that key_file is the key of",
            )
        return HttpSettings(
            bearer_token=token,
            basic_auth=basic,
            ca_file=files.get("ca_file"),
            cert_file=files.get("cert_file"),
            key_file=files.get("key_file"),
        )

    def strings(self, value: Any, where: str) -> list[str]:
        if not isinstance(value, list):
            raise self.fail("must be a list", where, "a YAML list, e.g. [a, b]")
        return [self.text(item, f"{where}[{index}]") for index, item in enumerate(value)]


def read_target_file(path: Path, secrets: Mapping[str, Any] | None = None) -> Target:
    """The target a file names; InvalidInputError (exit 2) when any key is wrong."""
    document = read_yaml(path)
    return target_from_mapping(
        document, source=str(path), base=path.parent, secrets=secrets, default_name=path.stem
    )


def target_from_mapping(
    document: Any,
    *,
    source: str,
    base: Path,
    secrets: Mapping[str, Any] | None = None,
    default_name: str = "target",
    where: str = "",
) -> Target:
    """A target from its mapping (a target file, or a plan's inline `target:`)."""
    reader = _Reader(source, base, secrets)
    prefix = f"{where}." if where else ""
    raw = reader.mapping(document, where, TOP_KEYS)
    kind = raw.get("kind")
    if kind not in KINDS:
        raise reader.fail(
            f"kind must be one of {', '.join(KINDS)}, not {kind!r}",
            f"{prefix}kind",
            "kind: external names your own Prometheus and Alertmanager; kind: lab the lab",
        )
    name = reader.text(raw.get("name", default_name), f"{prefix}name")
    if kind == "lab":
        extra = sorted(set(raw) - {"kind", "name", "lab_dir", "allow"})
        if extra:
            raise reader.fail(
                f"{extra[0]!r} does not apply to the lab",
                f"{prefix}{extra[0]}",
                "the lab knows its own parts; use kind: external for another system",
            )
        lab_dir = (
            (base / reader.text(raw["lab_dir"], f"{prefix}lab_dir")).resolve()
            if "lab_dir" in raw
            else None
        )
        return lab_target(lab_dir, name=name, source=source)
    if "lab_dir" in raw:
        raise reader.fail(
            "lab_dir applies to kind: lab only",
            f"{prefix}lab_dir",
            "remove it, or write kind: lab to run against the lab",
        )
    containers: tuple[str, ...] = ()
    docker_host: str | None = None
    if kind == "containers":
        if "containers" not in raw:
            raise reader.fail(
                "a containers target needs containers: the names of the system's containers",
                f"{prefix}containers",
                "e.g. containers: [shop-redis, shop-app]",
            )
        containers = tuple(reader.strings(raw["containers"], f"{prefix}containers"))
        docker = reader.mapping(raw.get("docker") or {}, f"{prefix}docker", {"host"})
        if "host" in docker:
            docker_host = reader.text(
                docker["host"], f"{prefix}docker.host", "e.g. unix:///var/run/docker.sock"
            )
    else:
        for key in ("containers", "docker"):
            if key in raw:
                raise reader.fail(
                    f"{key} applies to kind: containers only",
                    f"{prefix}{key}",
                    "write kind: containers for a system of Docker containers",
                )
    kubernetes: KubeAccess | None = None
    if kind == "kubernetes":
        kubernetes = _kube_access(reader, raw.get("kubernetes") or {}, f"{prefix}kubernetes")
    elif "kubernetes" in raw:
        raise reader.fail(
            "kubernetes applies to kind: kubernetes only",
            f"{prefix}kubernetes",
            "write kind: kubernetes for a system on a Kubernetes cluster",
        )
    if "prometheus" not in raw:
        raise reader.fail(
            f"a{'n' if kind == 'external' else ''} {kind} target needs prometheus",
            f"{prefix}prometheus",
            "prometheus: {url: https://prometheus.example:9090}",
        )
    prometheus = reader.mapping(raw["prometheus"], f"{prefix}prometheus", ENDPOINT_KEYS)
    alertmanager = (
        reader.mapping(
            raw["alertmanager"], f"{prefix}alertmanager", ENDPOINT_KEYS | {"config_file"}
        )
        if "alertmanager" in raw
        else None
    )
    sink = reader.mapping(raw.get("sink") or {}, f"{prefix}sink", {"url"})
    load = reader.mapping(raw.get("load") or {}, f"{prefix}load", {"host"})
    if not isinstance(raw.get("slo") or {}, dict):
        raise reader.fail("must be a mapping of name: PromQL", f"{prefix}slo", SLO_KEYS_HINT)
    slo: dict[str, Any] = raw.get("slo") or {}
    for key in slo:
        if not SLO_KEY.match(str(key)):
            raise reader.fail(f"unknown SLO query {key!r}", f"{prefix}slo.{key}", SLO_KEYS_HINT)
    if "allow" not in raw:
        raise reader.fail(
            f"a{'n' if kind == 'external' else ''} {kind} target needs allow: the faults it "
            "may receive",
            f"{prefix}allow",
            "list patterns such as 'process:/usr/bin/redis-cli *' (see `gameday run --help`)",
        )
    return Target(
        kind=str(kind),
        name=name,
        containers=containers,
        docker_host=docker_host,
        kubernetes=kubernetes,
        source=source,
        prometheus_url=reader.url(prometheus.get("url"), f"{prefix}prometheus.url"),
        prometheus_http=reader.http(prometheus, f"{prefix}prometheus"),
        alertmanager_url=(
            reader.url(alertmanager.get("url"), f"{prefix}alertmanager.url")
            if alertmanager is not None
            else None
        ),
        alertmanager_http=(
            reader.http(alertmanager, f"{prefix}alertmanager")
            if alertmanager is not None
            else HttpSettings()
        ),
        alertmanager_config=(
            reader.path(alertmanager["config_file"], f"{prefix}alertmanager.config_file")
            if alertmanager is not None and "config_file" in alertmanager
            else None
        ),
        sink_url=reader.url(sink["url"], f"{prefix}sink.url") if "url" in sink else None,
        load_host=reader.url(load["host"], f"{prefix}load.host") if "host" in load else None,
        slo_queries={
            str(k): reader.text(v, f"{prefix}slo.{k}", "a PromQL expression")
            for k, v in slo.items()
        },
        rule_files=tuple(
            reader.path(item, f"{prefix}rules[{index}]")
            for index, item in enumerate(reader.strings(raw.get("rules") or [], f"{prefix}rules"))
        ),
        allow=tuple(reader.strings(raw["allow"], f"{prefix}allow")),
        lab=None,
    )


def _kube_access(reader: _Reader, value: Any, where: str) -> KubeAccess:
    raw = reader.mapping(value, where, KUBERNETES_KEYS)
    in_cluster = raw.get("in_cluster", False)
    if not isinstance(in_cluster, bool):
        raise reader.fail("must be true or false", f"{where}.in_cluster")
    namespace = reader.text(raw.get("namespace", "default"), f"{where}.namespace")
    if not NAMESPACE.match(namespace):
        raise reader.fail(
            f"{namespace!r} is not a Kubernetes namespace name",
            f"{where}.namespace",
            "lower-case letters, digits and '-', at most 63 characters",
        )
    context = reader.text(raw["context"], f"{where}.context") if "context" in raw else None
    if in_cluster:
        for key in ("kubeconfig", "context"):
            if key in raw:
                raise reader.fail(
                    f"{key} does not apply with in_cluster: true",
                    f"{where}.{key}",
                    "in a pod gameday uses its service account; remove one of the two",
                )
        return KubeAccess(in_cluster=True, namespace=namespace)
    if "kubeconfig" in raw:
        written = os.path.expanduser(reader.text(raw["kubeconfig"], f"{where}.kubeconfig"))
        config = (reader.base / written).resolve()
        where_config = f"{where}.kubeconfig"
    else:
        config = Path(
            os.path.expanduser(os.environ.get("KUBECONFIG") or "~/.kube/config")
        ).resolve()
        where_config = where
    if not config.is_file():
        raise reader.fail(
            f"kubeconfig {str(config)!r} not found",
            where_config,
            "name it with kubeconfig: PATH (relative to the target file), set $KUBECONFIG, "
            "or write in_cluster: true when gameday runs in a pod",
        )
    return KubeAccess(kubeconfig=str(config), context=context, namespace=namespace)


@dataclass(frozen=True)
class TargetSpec:
    """A target as written (a file, or a plan's inline mapping), resolved per experiment:
    its `{secret: …}` credentials come from that experiment's Chaos Toolkit secrets."""

    document: Any
    source: str
    base: Path
    default_name: str
    where: str = ""

    @property
    def kind(self) -> str:
        kind = self.document.get("kind") if isinstance(self.document, dict) else None
        return str(kind)

    def resolve(self, secrets: Mapping[str, Any] | None = None) -> Target:
        return target_from_mapping(
            self.document,
            source=self.source,
            base=self.base,
            secrets=secrets,
            default_name=self.default_name,
            where=self.where,
        )


def target_spec(path: Path) -> TargetSpec:
    """A target file, read (YAML errors: exit 2) but not yet resolved."""
    return TargetSpec(
        document=read_yaml(path), source=str(path), base=path.parent, default_name=path.stem
    )
