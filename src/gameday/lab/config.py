"""Where the lab lives: its directory and its ports, derived from one base port."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from gameday.errors import InvalidInputError, LabError

DEFAULT_BASE_PORT = 17800
DEFAULT_LAB_DIR = ".lab"
LAB_DIR_ENV = "GAMEDAY_LAB_DIR"
BASE_PORT_ENV = "GAMEDAY_LAB_BASE_PORT"
GATEWAY_REPLICAS = 3
ETCD_MEMBERS = 3
CAMERAS = 4
HOST = "127.0.0.1"


@dataclass(frozen=True)
class LabPorts:
    """Every TCP port the lab listens on. All bound to 127.0.0.1."""

    gateway: int
    gateway_metrics: tuple[int, ...]
    sink: int
    replica_state: int
    supervisor: int
    redis: int
    redis_exporter: int
    etcd_client: tuple[int, ...]
    etcd_peer: tuple[int, ...]
    etcd_peer_proxy: tuple[int, ...]
    peer_proxy_control: int
    prometheus: int
    alertmanager: int
    load_metrics: int
    cameras: tuple[int, ...]
    vision: int
    # The opt-in parts (`lab.extras`): reserved at every `lab up`, used once started.
    postgres: int
    postgres_exporter: int
    nats: int
    nats_monitor: int
    queue_exporter: int
    queue_producer: int
    queue_consumer: int
    node_exporter: int
    memory_hog: int
    tls_endpoint: int
    blackbox: int
    latency_redis: int
    latency_control: int
    latency_etcd: tuple[int, ...]

    @classmethod
    def from_base(cls, base: int, overrides: dict[str, int] | None = None) -> LabPorts:
        if not 1024 <= base <= 65000:
            raise InvalidInputError(
                f"base port {base} is out of range",
                hint="choose a base port between 1024 and 65000",
            )
        values: dict[str, object] = {
            "gateway": base,
            "gateway_metrics": tuple(base + 1 + i for i in range(GATEWAY_REPLICAS)),
            "sink": base + 10,
            "replica_state": base + 11,
            "supervisor": base + 12,
            "redis": base + 20,
            "redis_exporter": base + 21,
            "etcd_client": tuple(base + 30 + i for i in range(ETCD_MEMBERS)),
            "etcd_peer": tuple(base + 33 + i for i in range(ETCD_MEMBERS)),
            "etcd_peer_proxy": tuple(base + 36 + i for i in range(ETCD_MEMBERS)),
            "peer_proxy_control": base + 39,
            "prometheus": base + 40,
            "alertmanager": base + 41,
            "load_metrics": base + 50,
            "cameras": tuple(base + 60 + i for i in range(CAMERAS)),
            "vision": base + 64,
            "postgres": base + 70,
            "postgres_exporter": base + 71,
            "nats": base + 72,
            "nats_monitor": base + 73,
            "queue_exporter": base + 74,
            "queue_producer": base + 75,
            "queue_consumer": base + 76,
            "node_exporter": base + 77,
            "memory_hog": base + 78,
            "tls_endpoint": base + 79,
            "blackbox": base + 80,
            "latency_redis": base + 81,
            "latency_control": base + 82,
            "latency_etcd": tuple(base + 83 + i for i in range(ETCD_MEMBERS)),
        }
        for name, port in (overrides or {}).items():
            current = values.get(name)
            if current is None:
                known = ", ".join(sorted(values))
                raise InvalidInputError(f"unknown port name {name!r}", hint=f"use one of: {known}")
            if isinstance(current, tuple):
                raise InvalidInputError(
                    f"port {name!r} is a range of {len(current)} ports",
                    hint="move the whole lab with --base-port instead",
                )
            values[name] = port
        return cls(**values)  # type: ignore[arg-type]

    def all(self) -> dict[str, int]:
        """Every port by a unique name (ranges numbered), for conflict checks."""
        named: dict[str, int] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, tuple):
                for index, port in enumerate(value):
                    named[f"{item.name}[{index}]"] = port
            else:
                named[item.name] = value
        return named


@dataclass(frozen=True)
class LabConfig:
    """The lab's directory (state, data, logs, configs) and its ports.

    :param extra_rule_files: rule files Prometheus loads besides (or instead of) the lab's
    :param time_scale: K when the rules run in compressed time (every duration divided by
        K): what the lab measures is K times faster than production would be
    :param system: the system whose rules the lab runs (a lab profile's `system`), for reports
    :param replace_lab_rules: Prometheus loads only `extra_rule_files`, not the lab's rules
    :param label_values: label → {production value: lab value}, mapped in every matcher of
        `extra_rule_files`
    :param deployments: the lab parts exported under kube-state-metrics' names (empty: all):
        a profile plays the system's deployments only, so its rules see no others
    :param adapted_exprs: alert → the expression that replaces its own in `extra_rule_files`
    """

    directory: Path
    ports: LabPorts
    extra_rule_files: tuple[Path, ...] = field(default=())
    time_scale: float = 1.0
    system: str | None = None
    replace_lab_rules: bool = False
    label_values: dict[str, dict[str, str]] = field(default_factory=dict, hash=False)
    adapted_exprs: dict[str, str] = field(default_factory=dict, hash=False)
    deployments: tuple[str, ...] = ()

    @property
    def config_file(self) -> Path:
        return self.directory / "lab.json"

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    @property
    def run(self) -> Path:
        return self.directory / "run"

    @property
    def load_pids_file(self) -> Path:
        """The PIDs of the load generators runs started (for recovery after a crash)."""
        return self.run / "load" / "locust.pids"

    @property
    def load_targets_file(self) -> Path:
        """Prometheus file-based discovery of the load generator's metrics, while load runs."""
        return self.directory / "config" / "load-targets.json"

    @property
    def pids_file(self) -> Path:
        return self.run / "pids.json"

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def notifications_file(self) -> Path:
        # Outside data/ on purpose: data/ is wiped at each `lab up`, deliveries are kept.
        return self.directory / "notifications.jsonl"

    def url(self, port: int, path: str = "") -> str:
        return f"http://{HOST}:{port}{path}"

    @property
    def prometheus_url(self) -> str:
        return self.url(self.ports.prometheus)

    @property
    def alertmanager_url(self) -> str:
        return self.url(self.ports.alertmanager)

    @property
    def gateway_url(self) -> str:
        return self.url(self.ports.gateway)

    @property
    def sink_url(self) -> str:
        return self.url(self.ports.sink)

    @property
    def supervisor_url(self) -> str:
        return self.url(self.ports.supervisor, "/RPC2")

    @property
    def etcd_endpoints(self) -> list[str]:
        return [self.url(port) for port in self.ports.etcd_client]

    @property
    def camera_urls(self) -> list[str]:
        """The RTSP stream of each simulated camera, camera-0 first."""
        return [f"rtsp://{HOST}:{port}/stream" for port in self.ports.cameras]

    @property
    def vision_url(self) -> str:
        return self.url(self.ports.vision)

    @property
    def peer_proxy_url(self) -> str:
        return self.url(self.ports.peer_proxy_control)

    def save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        document = {
            "directory": str(self.directory),
            "ports": asdict(self.ports),
            "extra_rule_files": [str(path) for path in self.extra_rule_files],
            "time_scale": self.time_scale,
            "system": self.system,
            "replace_lab_rules": self.replace_lab_rules,
            "label_values": self.label_values,
            "adapted_exprs": self.adapted_exprs,
            "deployments": list(self.deployments),
        }
        self.config_file.write_text(json.dumps(document, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> LabConfig:
        document = json.loads(path.read_text())
        ports = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in document["ports"].items()
        }
        # A lab.json written before a port was added: that port at its place from the base.
        ports = {**asdict(LabPorts.from_base(int(document["ports"]["gateway"]))), **ports}
        return cls(
            directory=Path(document["directory"]),
            ports=LabPorts(**ports),  # type: ignore[arg-type]
            extra_rule_files=tuple(Path(p) for p in document.get("extra_rule_files", [])),
            time_scale=float(document.get("time_scale", 1.0)),
            system=document.get("system"),
            replace_lab_rules=bool(document.get("replace_lab_rules", False)),
            label_values=document.get("label_values") or {},
            adapted_exprs=document.get("adapted_exprs") or {},
            deployments=tuple(document.get("deployments") or ()),
        )


def resolve_lab_dir(option: str | os.PathLike[str] | None) -> Path:
    """The lab directory: the option, else $GAMEDAY_LAB_DIR, else ./.lab; always absolute."""
    chosen = option or os.environ.get(LAB_DIR_ENV) or DEFAULT_LAB_DIR
    return Path(chosen).expanduser().resolve()


def resolve_base_port(option: int | None) -> int:
    if option is not None:
        return option
    raw = os.environ.get(BASE_PORT_ENV)
    if raw is None:
        return DEFAULT_BASE_PORT
    try:
        return int(raw)
    except ValueError:
        raise InvalidInputError(
            f"${BASE_PORT_ENV} is {raw!r}, not a port number", hint="set it to e.g. 17800"
        ) from None


def load_running_config(directory: Path) -> LabConfig:
    """The configuration a running (or crashed) lab was started with."""
    path = directory / "lab.json"
    if not path.is_file():
        raise LabError(
            f"no lab in {str(directory)!r}",
            part="lab",
            hint="start one with `gameday lab up`, or point --lab-dir at the lab's directory",
        )
    return LabConfig.load(path)
