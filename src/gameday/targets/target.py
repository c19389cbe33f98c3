"""Where a run and the extension's activities find the system under test.

A target is the lab (the default) or an external system named by a target file
(`targets/file.py`). An experiment's `configuration` may name one too, for plain
`chaos run`: `gameday_target` (a target file), or `gameday_lab_dir` (the lab's
directory; default: $GAMEDAY_LAB_DIR, else ./.lab), or `prometheus_url` and
`notification_sink_url` directly.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaoslib.exceptions import ActivityFailed

from gameday.errors import GamedayError
from gameday.lab.config import LabConfig, load_running_config, resolve_lab_dir
from gameday.lab.supervisor import SupervisorClient
from gameday.observe.alertmanager import Alertmanager
from gameday.observe.http import PLAIN, HttpSettings
from gameday.observe.prometheus import REQUEST_TIMEOUT_S, Prometheus
from gameday.record.ledger import FaultLedger
from gameday.targets.kubernetes import KubeAccess, KubeTouch

LAB_DIR_KEY = "gameday_lab_dir"
STATE_DIR_ENV = "GAMEDAY_STATE_DIR"
TARGET_FILE_KEY = "gameday_target"


@dataclass(frozen=True)
class Target:
    """The system under test: its monitoring, its load host, what faults may touch.

    :param kind: "lab" (the lab, or a system shaped like it), "external", "containers"
        or "kubernetes"
    :param containers: a containers target's container names; `docker_host` its engine
        (None: $DOCKER_HOST or the local socket)
    :param kubernetes: a kubernetes target's API access and default namespace
    :param lab: the lab's configuration (None for any other system)
    :param sink_url: gameday's notification sink, when the system's Alertmanager sends to it
    :param slo_queries: server-side SLO queries by name (error_ratio, latency_p95_s, …);
        empty: the lab gateway's metrics
    :param allow: patterns of the faults this target may receive (see `experiment.faults`)
    """

    prometheus_url: str
    sink_url: str | None
    lab: LabConfig | None
    kind: str = "lab"
    name: str = "lab"
    source: str | None = None
    prometheus_http: HttpSettings = PLAIN
    alertmanager_url: str | None = None
    alertmanager_http: HttpSettings = PLAIN
    alertmanager_config: Path | None = None
    load_host: str | None = None
    slo_queries: Mapping[str, str] = field(default_factory=dict)
    rule_files: tuple[Path, ...] = ()
    allow: tuple[str, ...] = ()
    containers: tuple[str, ...] = ()
    docker_host: str | None = None
    kubernetes: KubeAccess | None = None

    @property
    def is_lab(self) -> bool:
        return self.kind == "lab"

    @property
    def time_scale(self) -> float:
        """K when the lab runs its rules in compressed time (1: real time)."""
        return self.lab.time_scale if self.lab is not None else 1.0

    def prometheus(self, timeout: float = REQUEST_TIMEOUT_S) -> Prometheus:
        return Prometheus(self.prometheus_url, timeout=timeout, http=self.prometheus_http)

    def alertmanager(self) -> Alertmanager | None:
        if self.alertmanager_url is None:
            return None
        return Alertmanager(self.alertmanager_url, http=self.alertmanager_http)

    def allows(self, touches: str) -> bool:
        """Whether an action's target (`process:…`, `http:…`, `python:…`,
        `container:NAME`, `k8s:NAMESPACE/KIND/WHAT`) matches one of `allow`'s patterns:
        shell-style on the whole; a container may be named bare (`shop-redis` as well as
        `container:shop-redis`); Kubernetes objects by `namespace:`, `selector:` and
        `node:` patterns (`targets/kubernetes.py`)."""
        bare = touches.removeprefix("container:") if touches.startswith("container:") else None
        kube = KubeTouch.parse(touches)
        return any(
            fnmatch.fnmatchcase(touches, pattern)
            or (bare is not None and fnmatch.fnmatchcase(bare, pattern))
            or (kube is not None and kube.allowed_by(pattern))
            for pattern in self.allow
        )

    def secret_values(self) -> list[str]:
        """Credentials of this target: scrubbed from every report, log and line printed."""
        return self.prometheus_http.secret_values() + self.alertmanager_http.secret_values()

    def supervisor(self) -> SupervisorClient:
        if self.lab is None:
            raise ActivityFailed("this activity needs the gameday lab; none is configured")
        return SupervisorClient(self.lab.supervisor_url)

    def ledger(self) -> FaultLedger:
        found = self.own_ledger()
        if found is None:
            raise ActivityFailed(
                "this activity needs the gameday lab, a containers or a kubernetes target; "
                f"target {self.name!r} is neither"
            )
        return found

    def own_ledger(self) -> FaultLedger | None:
        """Where gameday's own faults on this target record their reverts: the lab's
        ledger, or, for containers and Kubernetes, one kept per target in gameday's state
        directory. None for an external system (its faults are plain actions with
        rollbacks)."""
        if self.lab is not None:
            return fault_ledger(self.lab)
        if self.kind in ("containers", "kubernetes"):
            return FaultLedger(state_dir(self.name) / "faults.json")
        return None


def state_dir(target_name: str) -> Path:
    """gameday's state for one target: $GAMEDAY_STATE_DIR, else $XDG_STATE_HOME/gameday,
    else ~/.local/state/gameday; one folder per target."""
    base = os.environ.get(STATE_DIR_ENV) or os.path.join(
        os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state"), "gameday"
    )
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", target_name).strip("-") or "target"
    return Path(base) / "targets" / slug


def fault_ledger(lab: LabConfig) -> FaultLedger:
    return FaultLedger(lab.run / "faults.json")


def lab_dir_of(configuration: Mapping[str, Any] | None) -> Path:
    return resolve_lab_dir((configuration or {}).get(LAB_DIR_KEY))


def lab_target(lab_dir: Path | None, *, name: str = "lab", source: str | None = None) -> Target:
    """The lab as a target, from its running configuration (EnvironmentProblem when the
    lab is not up)."""
    lab = load_running_config(resolve_lab_dir(str(lab_dir) if lab_dir else None))
    return _of_lab(lab, name=name, source=source)


def _of_lab(lab: LabConfig, *, name: str = "lab", source: str | None = None) -> Target:
    return Target(
        prometheus_url=lab.prometheus_url,
        sink_url=lab.sink_url,
        lab=lab,
        name=name,
        source=source,
        alertmanager_url=lab.alertmanager_url,
        load_host=lab.gateway_url,
    )


def resolve_target(configuration: Mapping[str, Any] | None) -> Target:
    """The target an experiment's configuration names (for activities outside a gameday
    run); raises chaoslib's ActivityFailed when it cannot be found."""
    config = dict(configuration or {})
    try:
        if config.get(TARGET_FILE_KEY):
            from gameday.targets.file import read_target_file

            return read_target_file(Path(str(config[TARGET_FILE_KEY])))
        if config.get("prometheus_url") and config.get("notification_sink_url"):
            # A system shaped like the lab (its metric names, its sink) at other URLs.
            return Target(
                prometheus_url=str(config["prometheus_url"]),
                sink_url=str(config["notification_sink_url"]),
                lab=None,
                name="configuration",
            )
        return _of_lab(load_running_config(lab_dir_of(config)))
    except GamedayError as exc:
        raise ActivityFailed(exc.message + (f" ({exc.hint})" if exc.hint else "")) from exc
