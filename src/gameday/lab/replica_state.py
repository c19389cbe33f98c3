"""Replica state of the lab's parts, exported under kube-state-metrics' names.

Reads supervisord's process table and publishes it as a Kubernetes cluster's
kube-state-metrics would (``kube_deployment_status_replicas_available{deployment=
"gateway"}`` …), so the same alert rules work in the lab and on Kubernetes. A
replica counts as available when it runs and is not paused (SIGSTOP): a paused
pod fails its readiness probe. Restarts (a replica that died and was started
again by the supervisor) are counted here and kept in a file across restarts of
this exporter.

Run as ``python -m gameday.lab.replica_state --lab-config LAB.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import REGISTRY, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from gameday.lab.config import HOST, LabConfig
from gameday.lab.extras.runtime import optional_groups, started_extras
from gameday.lab.processes import record_pids
from gameday.lab.supervisor import ProcessInfo, SupervisorClient

logger = logging.getLogger("gameday.lab.replica_state")
NAMESPACE = "lab"
POLL_INTERVAL_S = 0.5


def is_paused(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] in {"T", "t"}


def is_available(info: ProcessInfo) -> bool:
    return info["statename"] == "RUNNING" and not is_paused(info["pid"])


class RestartCounter:
    """Counts replicas that died and came back under a new PID, persisted to a file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._last: dict[str, tuple[int, str]] = {}
        try:
            self.counts: dict[str, int] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.counts = {}

    def observe(self, processes: list[ProcessInfo]) -> None:
        """Count restarts since the last observation."""
        changed = False
        with self._lock:
            for info in processes:
                name = info["name"]
                pid, state = info["pid"], info["statename"]
                previous = self._last.get(name)
                died = bool(pid and previous and previous[0] and pid != previous[0])
                if died and previous is not None and previous[1] != "STOPPED":
                    self.counts[name] = self.counts.get(name, 0) + 1
                    changed = True
                if pid or state == "STOPPED" or previous is None:
                    self._last[name] = (pid, state)
                self.counts.setdefault(name, 0)
            if changed:
                self._path.write_text(json.dumps(self.counts))


class ReplicaStateCollector(Collector):
    """:param deployments: the parts to export (empty: every part of the lab)
    :param not_started: the supervisor groups of opt-in parts not started (read at each
        scrape): like a Deployment never applied, they are no deployment at all, not
        one with 0 of 1 replicas available"""

    def __init__(
        self,
        supervisor: SupervisorClient,
        restarts: RestartCounter,
        deployments: tuple[str, ...] = (),
        not_started: Callable[[], set[str]] = set,
    ) -> None:
        self._supervisor = supervisor
        self._restarts = restarts
        self._deployments = frozenset(deployments)
        self._not_started = not_started

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        try:
            processes = self._supervisor.processes()
        except Exception as exc:  # the supervisor going away must not break the scrape
            logger.warning("supervisor unreachable: %s", exc)
            return
        self._restarts.observe(processes)
        deployment_labels = ["namespace", "deployment"]
        spec = GaugeMetricFamily(
            "kube_deployment_spec_replicas", "Desired replicas.", labels=deployment_labels
        )
        running = GaugeMetricFamily(
            "kube_deployment_status_replicas", "Replicas running.", labels=deployment_labels
        )
        available = GaugeMetricFamily(
            "kube_deployment_status_replicas_available",
            "Replicas available (running and ready).",
            labels=deployment_labels,
        )
        unavailable = GaugeMetricFamily(
            "kube_deployment_status_replicas_unavailable",
            "Replicas unavailable.",
            labels=deployment_labels,
        )
        ready = GaugeMetricFamily(
            "kube_pod_status_ready",
            "Whether the pod is ready.",
            labels=["namespace", "pod", "condition"],
        )
        restarts = CounterMetricFamily(
            "kube_pod_container_status_restarts",
            "Times the replica died and was restarted.",
            labels=["namespace", "pod", "container"],
        )
        groups: dict[str, list[ProcessInfo]] = {}
        hidden = self._not_started()
        for info in processes:
            if info["group"] in hidden:
                continue
            if not self._deployments or info["group"] in self._deployments:
                groups.setdefault(info["group"], []).append(info)
        for group, members in sorted(groups.items()):
            up = sum(1 for info in members if info["statename"] == "RUNNING")
            ok = sum(1 for info in members if is_available(info))
            spec.add_metric([NAMESPACE, group], len(members))
            running.add_metric([NAMESPACE, group], up)
            available.add_metric([NAMESPACE, group], ok)
            unavailable.add_metric([NAMESPACE, group], len(members) - ok)
            for info in members:
                is_ready = is_available(info)
                ready.add_metric([NAMESPACE, info["name"], "true"], 1.0 if is_ready else 0.0)
                ready.add_metric([NAMESPACE, info["name"], "false"], 0.0 if is_ready else 1.0)
                restarts.add_metric(
                    [NAMESPACE, info["name"], group], self._restarts.counts.get(info["name"], 0)
                )
        yield from (spec, running, available, unavailable, ready, restarts)


def restarts_file(config: LabConfig) -> Path:
    return config.run / "restarts.json"


def read_restarts(config: LabConfig) -> dict[str, int]:
    try:
        counts: dict[str, int] = json.loads(restarts_file(config).read_text())
    except (OSError, ValueError):
        return {}
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description="gameday lab replica-state exporter")
    parser.add_argument("--lab-config", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    config = LabConfig.load(args.lab_config)
    supervisor = SupervisorClient(config.supervisor_url, timeout=2.0)
    counter = RestartCounter(restarts_file(config))
    optional = optional_groups(config)

    def not_started() -> set[str]:
        started = set(started_extras(config))
        return {group for group, part in optional.items() if part not in started}

    REGISTRY.register(ReplicaStateCollector(supervisor, counter, config.deployments, not_started))
    start_http_server(config.ports.replica_state, addr=HOST)
    # Poll between scrapes too, so a replica killed and restarted within one
    # scrape interval is still counted, and a replacement's PID is recorded.
    recorded: dict[str, int] = {}
    while True:
        try:
            infos = supervisor.processes()
            counter.observe(infos)
            pids = {info["name"]: info["pid"] for info in infos if info["pid"]}
            if pids != recorded:
                record_pids(config.pids_file, pids)
                recorded = pids
        except Exception as exc:
            logger.debug("poll failed: %s", exc)
        time.sleep(POLL_INTERVAL_S)


if __name__ == "__main__":
    main()
