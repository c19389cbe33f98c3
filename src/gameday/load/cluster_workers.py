"""Locust workers as pods in the target's cluster (`workers_in: cluster`), for the master
`LocustProcess` starts on this machine.

In the target's namespace, labelled `app.kubernetes.io/managed-by: gameday` and
`gameday.dev/load: NAME`:

    ConfigMap  gameday-locust-NAME          the user's locustfile and locust_pod_worker.py
    Deployment gameday-locust-workers-NAME  N replicas of `locust -f /mnt/locust/… --worker
                                            --master-host MASTER_HOST --master-port PORT`

The master binds MASTER_HOST, the address the pods reach this machine at. The workers run
the user's locustfile and a one-line plugin (report every second); gameday's exporter and
watchdog stay with the master (see locust_pod_worker.py). Their removal, `remove_workers`
with plain values, is recorded in the target's fault ledger before anything is created, so
the next run (or the engine's sweep after this one) removes what a crashed gameday left; it
is forgotten once the Deployment, the ConfigMap and every pod are gone.

A pod in phase Failed or in CrashLoopBackOff counts as a worker that exited.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes.client as client
from kubernetes.client.exceptions import ApiException

from gameday.errors import EnvironmentProblem, GamedayError
from gameday.load.placement import default_image
from gameday.record.ledger import FaultLedger, Revert
from gameday.targets.kubernetes import api_client

logger = logging.getLogger("gameday.load.cluster_workers")

MANAGED_BY = ("app.kubernetes.io/managed-by", "gameday")
LOAD_LABEL = "gameday.dev/load"
MOUNT = "/mnt/locust"
CONTAINER = "locust-worker"
POD_PLUGIN = Path(__file__).with_name("locust_pod_worker.py")
FALLBACK_KEY = "locustfile.py"
CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
TERMINATION_GRACE_S = 5
REMOVE_TIMEOUT_S = 120.0
API_TIMEOUT_S = 10.0
CHECK_INTERVAL_S = 1.0
POLL_S = 0.5
CRASH_LOOP = "CrashLoopBackOff"


def configmap_name(name: str) -> str:
    return f"gameday-locust-{name}"


def deployment_name(name: str) -> str:
    return f"gameday-locust-workers-{name}"


def selector(name: str) -> str:
    return f"{LOAD_LABEL}={name}"


@dataclass(frozen=True)
class PodExit:
    """A worker pod that stopped: its name, why (Failed's reason, or CrashLoopBackOff) and
    its container's exit code when the cluster reports one."""

    pod: str
    reason: str
    code: int | None


def pod_exit(pod: client.V1Pod) -> PodExit | None:
    """The pod as an exited worker: phase Failed, or a container in CrashLoopBackOff."""
    status = pod.status
    if status is None:
        return None
    name = str(pod.metadata.name) if pod.metadata is not None else "?"
    containers = status.container_statuses or []
    if status.phase == "Failed":
        codes = [
            c.state.terminated.exit_code
            for c in containers
            if c.state is not None and c.state.terminated is not None
        ]
        return PodExit(name, status.reason or "Failed", codes[0] if codes else None)
    for container in containers:
        waiting = container.state.waiting if container.state is not None else None
        if waiting is not None and waiting.reason == CRASH_LOOP:
            last = container.last_state.terminated if container.last_state is not None else None
            return PodExit(name, CRASH_LOOP, last.exit_code if last is not None else None)
    return None


def pod_state(pod: client.V1Pod) -> str:
    """What `kubectl get pods` shows as its status, roughly: a container's waiting reason
    (ContainerCreating, ImagePullBackOff, …), else the phase."""
    status = pod.status
    if pod.metadata is not None and pod.metadata.deletion_timestamp is not None:
        return "Terminating"
    for container in (status.container_statuses if status is not None else None) or []:
        if container.state is not None and container.state.waiting is not None:
            return str(container.state.waiting.reason or "Waiting")
    return str(status.phase if status is not None and status.phase else "Unknown")


@dataclass(kw_only=True)
class ClusterWorkers:
    """N Locust workers as a Deployment in a cluster; what `LocustProcess` needs of its
    workers (`locust_process.Workers`).

    :param count: how many worker pods
    :param locustfile: the user's locustfile (its content goes into the ConfigMap)
    :param master_host: the address the pods reach this machine at; the master binds it
    :param master_port: the port the master binds there
    :param namespace: where the ConfigMap and the Deployment go (the target's namespace)
    :param workdir: where the description of a worker pod that exited is written
    :param image: the workers' image (default: Locust's, at the version installed here)
    :param kubeconfig, context, in_cluster: how to reach the cluster (a target's access)
    :param ledger: the target's fault ledger: the removal is recorded there first
    :param name: names the objects and labels them (`gameday.dev/load`); random by default
    :param remove_timeout_s: how long `stop` waits until every pod is gone
    """

    count: int
    locustfile: Path
    master_host: str
    master_port: int
    namespace: str
    workdir: Path
    image: str = field(default_factory=default_image)
    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    ledger: FaultLedger | None = None
    name: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    remove_timeout_s: float = REMOVE_TIMEOUT_S
    _entry: str | None = field(default=None, init=False)
    _started: bool = field(default=False, init=False)
    _removed: bool = field(default=False, init=False)
    _exits: dict[str, tuple[Path, int | None]] = field(default_factory=dict, init=False)
    _checked_at: float = field(default=float("-inf"), init=False)

    # --- what the master needs ----------------------------------------------------------

    @property
    def bind_host(self) -> str:
        return self.master_host

    @property
    def pids(self) -> list[int]:
        return []  # nothing runs on this machine

    @property
    def log_paths(self) -> list[Path]:
        """The description (status, log tail) of each worker pod that exited."""
        return [path for path, _ in self._exits.values()]

    # --- the objects --------------------------------------------------------------------

    @property
    def labels(self) -> dict[str, str]:
        return {MANAGED_BY[0]: MANAGED_BY[1], LOAD_LABEL: self.name}

    @property
    def locustfile_key(self) -> str:
        key = self.locustfile.name
        return key if CONFIGMAP_KEY.match(key) and key != POD_PLUGIN.name else FALLBACK_KEY

    def arguments(self) -> list[str]:
        """The worker container's arguments (the image's entrypoint is `locust`)."""
        files = ",".join(f"{MOUNT}/{key}" for key in (self.locustfile_key, POD_PLUGIN.name))
        return [
            "-f",
            files,
            "--worker",
            "--master-host",
            self.master_host,
            "--master-port",
            str(self.master_port),
            "--loglevel",
            "WARNING",
        ]

    def config_map(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": self._metadata(configmap_name(self.name)),
            "data": {
                self.locustfile_key: self.locustfile.read_text(),
                POD_PLUGIN.name: POD_PLUGIN.read_text(),
            },
        }

    def deployment(self) -> dict[str, Any]:
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": self._metadata(deployment_name(self.name)),
            "spec": {
                "replicas": self.count,
                "selector": {"matchLabels": {LOAD_LABEL: self.name}},
                "template": {
                    "metadata": {"labels": self.labels},
                    "spec": {
                        "terminationGracePeriodSeconds": TERMINATION_GRACE_S,
                        "containers": [
                            {
                                "name": CONTAINER,
                                "image": self.image,
                                "args": self.arguments(),
                                "volumeMounts": [
                                    {"name": "locustfile", "mountPath": MOUNT, "readOnly": True}
                                ],
                            }
                        ],
                        "volumes": [
                            {"name": "locustfile", "configMap": {"name": configmap_name(self.name)}}
                        ],
                    },
                },
            },
        }

    def _metadata(self, name: str) -> dict[str, Any]:
        return {"name": name, "namespace": self.namespace, "labels": self.labels}

    @property
    def revert(self) -> Revert:
        return Revert(
            module=__name__,
            func=remove_workers.__name__,
            arguments={
                "name": self.name,
                "namespace": self.namespace,
                "kubeconfig": self.kubeconfig,
                "context": self.context,
                "in_cluster": self.in_cluster,
            },
        )

    @property
    def fault(self) -> str:
        """How the ledger (and a later run's timeline) names them."""
        return (
            f"Locust worker pods: Deployment {self.namespace}/{deployment_name(self.name)} "
            f"and ConfigMap {configmap_name(self.name)}"
        )

    # --- lifecycle ----------------------------------------------------------------------

    def start(self, env: dict[str, str]) -> None:
        """Record the removal in the ledger, then create the ConfigMap and the Deployment;
        the master waits for the pods to connect. (`env` is for local processes: unused.)"""
        self.workdir.mkdir(parents=True, exist_ok=True)
        config_map, deployment = self.config_map(), self.deployment()
        if self.ledger is not None:
            self._entry = self.ledger.add(self.fault, self.revert)
        self._started = True
        try:
            with self._client() as api:
                _call(
                    "creating ConfigMap",
                    lambda: client.CoreV1Api(api).create_namespaced_config_map(
                        self.namespace,
                        _model(client.V1ConfigMap, config_map),
                        _request_timeout=API_TIMEOUT_S,
                    ),
                    self.namespace,
                )
                _call(
                    "creating Deployment",
                    lambda: client.AppsV1Api(api).create_namespaced_deployment(
                        self.namespace,
                        _model(client.V1Deployment, deployment),
                        _request_timeout=API_TIMEOUT_S,
                    ),
                    self.namespace,
                )
        except BaseException:
            self.stop(0)
            raise

    def exited(self) -> list[tuple[Path, int | None]]:
        """Each worker pod that failed or crash-loops: the file describing it and its exit
        code. The cluster is asked at most once a second; an unanswered question counts as
        nothing exited (the master's deadline still holds)."""
        now = time.monotonic()
        if self._started and now - self._checked_at >= CHECK_INTERVAL_S:
            self._checked_at = now
            pods = self._pods()
            for pod in pods or []:
                if pod.metadata is not None and pod.metadata.deletion_timestamp is not None:
                    continue
                found = pod_exit(pod)
                if found is not None and found.pod not in self._exits:
                    self._exits[found.pod] = (self._describe_exit(found), found.code)
        return list(self._exits.values())

    def describe(self) -> str:
        """Where the workers are, for a message about workers that did not connect."""
        pods = self._pods()
        states = Counter(pod_state(pod) for pod in pods or [])
        seen = (
            "not listed"
            if pods is None
            else ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "none yet"
        )
        return (
            f"the worker pods are in namespace {self.namespace} ({seen}) and connect to the "
            f"master at {self.master_host}:{self.master_port}; see kubectl -n {self.namespace} "
            f"get pods -l {selector(self.name)}"
        )

    def stop(self, timeout_s: float, *, grace_s: float = 0.0) -> None:
        """Remove the ConfigMap and the Deployment and wait until every pod is gone, then
        forget the revert (the master told the workers to quit already: nothing waits for
        them). When removal fails, the ledger keeps it: the engine's sweep after the run,
        or the next run, tries again. Idempotent."""
        if not self._started or self._removed:
            return
        try:
            remove_workers(
                self.name,
                self.namespace,
                self.kubeconfig,
                self.context,
                self.in_cluster,
                timeout_s=max(timeout_s, self.remove_timeout_s),
            )
        except GamedayError as exc:
            logger.warning("%s; the fault ledger keeps their removal", exc.message)
            return
        self._removed = True
        if self.ledger is not None and self._entry is not None:
            self.ledger.remove(self._entry)

    # --- helpers --------------------------------------------------------------------------

    def _client(self) -> client.ApiClient:
        return api_client(self.kubeconfig, self.context, self.in_cluster)

    def _pods(self) -> list[client.V1Pod] | None:
        try:
            with self._client() as api:
                found = client.CoreV1Api(api).list_namespaced_pod(
                    self.namespace,
                    label_selector=selector(self.name),
                    _request_timeout=API_TIMEOUT_S,
                )
        except (ApiException, GamedayError, OSError) as exc:
            logger.warning("could not list the Locust worker pods: %s", exc)
            return None
        return list(found.items)

    def _describe_exit(self, found: PodExit) -> Path:
        """A file with the pod's last log lines, then what happened to it."""
        path = self.workdir / f"locust-worker-{found.pod}.log"
        try:
            with self._client() as api:
                log = client.CoreV1Api(api).read_namespaced_pod_log(
                    found.pod,
                    self.namespace,
                    tail_lines=20,
                    previous=found.reason == CRASH_LOOP,
                    _request_timeout=API_TIMEOUT_S,
                )
        except (ApiException, GamedayError, OSError) as exc:
            log = f"(no log: {getattr(exc, 'reason', None) or exc})"
        code = f" (exit code {found.code})" if found.code is not None else ""
        status = f"pod {found.pod} in namespace {self.namespace}: {found.reason}{code}"
        path.write_text(f"{str(log).rstrip()}\n{status}\n".lstrip())
        return path


def remove_workers(
    name: str,
    namespace: str,
    kubeconfig: str | None = None,
    context: str | None = None,
    in_cluster: bool = False,
    timeout_s: float = REMOVE_TIMEOUT_S,
) -> None:
    """Revert of `workers_in: cluster`, as the fault ledger runs it (plain values): delete the
    workers' Deployment and ConfigMap (`name` as in `gameday-locust-workers-NAME`) and wait
    until no ReplicaSet or pod labelled `gameday.dev/load=NAME` is left. Idempotent;
    EnvironmentProblem naming what is left after `timeout_s`."""
    with api_client(kubeconfig, context, in_cluster) as api:
        apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
        _delete(
            f"Deployment {namespace}/{deployment_name(name)}",
            lambda: apps.delete_namespaced_deployment(
                deployment_name(name),
                namespace,
                propagation_policy="Background",
                _request_timeout=API_TIMEOUT_S,
            ),
        )
        _delete(
            f"ConfigMap {namespace}/{configmap_name(name)}",
            lambda: core.delete_namespaced_config_map(
                configmap_name(name), namespace, _request_timeout=API_TIMEOUT_S
            ),
        )
        labelled = selector(name)

        def left() -> str | None:
            sets = apps.list_namespaced_replica_set(
                namespace, label_selector=labelled, _request_timeout=API_TIMEOUT_S
            ).items
            pods = core.list_namespaced_pod(
                namespace, label_selector=labelled, _request_timeout=API_TIMEOUT_S
            ).items
            if not sets and not pods:
                return None
            return f"{len(sets)} ReplicaSets and {len(pods)} pods"

        deadline = time.monotonic() + timeout_s
        try:
            while (still := left()) is not None:
                if time.monotonic() > deadline:
                    raise EnvironmentProblem(
                        f"the Locust worker pods in namespace {namespace} were not removed "
                        f"within {timeout_s:g}s: {still} labelled {labelled} left",
                        hint=f"kubectl -n {namespace} delete deployment,replicaset,pod,configmap "
                        f"-l {labelled}",
                    )
                time.sleep(POLL_S)
        except ApiException as exc:
            raise _failed(f"listing the Locust worker pods in namespace {namespace}", exc) from exc


def _model(kind: Any, manifest: dict[str, Any]) -> Any:
    return kind.from_dict(manifest)


def _call(what: str, request: Callable[[], object], namespace: str) -> None:
    try:
        request()
    except ApiException as exc:
        raise _failed(f"{what} for the Locust workers in namespace {namespace}", exc) from exc


def _delete(what: str, request: Callable[[], object]) -> None:
    try:
        request()
    except ApiException as exc:
        if exc.status != 404:
            raise _failed(f"deleting {what}", exc) from exc


def _failed(what: str, exc: ApiException) -> EnvironmentProblem:
    reason = f"{exc.status} {exc.reason or ''}".rstrip()
    return EnvironmentProblem(
        f"{what}: the API server answered {reason}",
        hint="gameday's account needs create, delete and list on configmaps, deployments, "
        "replicasets and pods there (see examples/kubernetes/gameday-cronjob.yaml)",
    )
