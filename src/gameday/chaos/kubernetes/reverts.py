"""The reverts of gameday's Kubernetes faults, as the fault ledger runs them: module-level
functions whose arguments are plain values (the object, the recorded state, the cluster's
access), so a later run or `gameday recover` can run them without this run's context.

Each is idempotent and waits until the cluster reports the state restored, or raises
ActivityFailed naming what is still missing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from chaosk8s.deployment.actions import scale_deployment
from chaosk8s.networking.actions import remove_network_policy
from chaosk8s.node.actions import uncordon_node
from chaosk8s.statefulset.actions import scale_statefulset
from chaoslib.exceptions import ActivityFailed
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from gameday.chaos.kubernetes import cluster

RESTORE_TIMEOUT_S = 120.0
POLL_S = 0.5
# Flapping loops of this process, by the workload they flap: the revert stops them (and
# waits for a scale call in flight) before it scales back.
flapping: dict[str, tuple[threading.Event, threading.Thread]] = {}


def access_of(kubeconfig: str | None, context: str | None, in_cluster: bool) -> dict[str, Any]:
    return {"kubeconfig": kubeconfig, "context": context, "in_cluster": in_cluster}


def wait_for(check: Callable[[], str | None], timeout_s: float) -> None:
    """Poll `check` (None: done; a string: what is still missing) until done or timeout."""
    deadline = time.monotonic() + timeout_s
    missing = check()
    while missing is not None:
        if time.monotonic() > deadline:
            raise ActivityFailed(f"not restored within {timeout_s:g}s: {missing}")
        time.sleep(POLL_S)
        missing = check()


def workload_available(
    kind: str, name: str, namespace: str, access: dict[str, Any]
) -> tuple[int, int]:
    """(desired replicas, available replicas) of a Deployment or StatefulSet."""
    api = cluster.apps(access)
    try:
        if kind == "statefulset":
            found: Any = api.read_namespaced_stateful_set(name, namespace)
        else:
            found = api.read_namespaced_deployment(name, namespace)
    except ApiException as exc:
        raise cluster.failed(f"reading {kind} {namespace}/{name}", exc) from exc
    status = found.status
    available = int(status.available_replicas or 0) if status is not None else 0
    return int(found.spec.replicas or 0), available


def scale(kind: str, name: str, namespace: str, replicas: int, access: dict[str, Any]) -> None:
    """Scale through chaosk8s' own actions."""
    with cluster.chaosk8s_access(**access) as secrets:
        if kind == "statefulset":
            scale_statefulset(name, replicas, ns=namespace, secrets=secrets)
        else:
            scale_deployment(name, replicas, ns=namespace, secrets=secrets)


def ensure_scaled(
    kind: str,
    name: str,
    namespace: str,
    replicas: int,
    timeout_s: float = RESTORE_TIMEOUT_S,
    kubeconfig: str | None = None,
    context: str | None = None,
    in_cluster: bool = False,
) -> None:
    """Revert of scale-down and flaps: back to the recorded replicas, all available."""
    access = access_of(kubeconfig, context, in_cluster)
    loop = flapping.pop(f"{namespace}/{kind}/{name}", None)
    if loop is not None:
        stop, thread = loop
        stop.set()
        thread.join(timeout=30)
    scale(kind, name, namespace, replicas, access)

    def missing() -> str | None:
        desired, available = workload_available(kind, name, namespace, access)
        if desired == replicas and available >= replicas:
            return None
        return f"{kind} {namespace}/{name} has {available} of {replicas} replicas available"

    wait_for(missing, timeout_s)


def ensure_pods_ready(
    namespace: str,
    label_selector: str,
    count: int,
    timeout_s: float = RESTORE_TIMEOUT_S,
    kubeconfig: str | None = None,
    context: str | None = None,
    in_cluster: bool = False,
) -> None:
    """Revert of a pod kill: nothing to undo (the workload's controller replaces the pods),
    but the fault is over only when as many pods as before are Ready again."""
    api = cluster.core(access_of(kubeconfig, context, in_cluster))

    def missing() -> str | None:
        pods = api.list_namespaced_pod(namespace, label_selector=label_selector).items
        ready = [p for p in pods if pod_serving(p)]
        if len(ready) >= count:
            return None
        return f"{len(ready)} of {count} pods {label_selector!r} in {namespace} are Ready"

    wait_for(missing, timeout_s)


def pod_serving(pod: client.V1Pod) -> bool:
    """Ready, and not on its way out."""
    if pod.metadata is not None and pod.metadata.deletion_timestamp is not None:
        return False
    conditions = (pod.status.conditions if pod.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def ensure_policy_removed(
    name: str,
    namespace: str,
    kubeconfig: str | None = None,
    context: str | None = None,
    in_cluster: bool = False,
) -> None:
    """Revert of a partition: the NetworkPolicy gameday created is gone."""
    access = access_of(kubeconfig, context, in_cluster)
    try:
        with cluster.chaosk8s_access(**access) as secrets:
            remove_network_policy(name, ns=namespace, secrets=secrets)
    except ApiException as exc:
        if exc.status != 404:
            raise cluster.failed(f"removing NetworkPolicy {namespace}/{name}", exc) from exc


def ensure_uncordoned(
    nodes: list[str],
    kubeconfig: str | None = None,
    context: str | None = None,
    in_cluster: bool = False,
) -> None:
    """Revert of a drain or cordon: the nodes accept pods again."""
    access = access_of(kubeconfig, context, in_cluster)
    with cluster.chaosk8s_access(**access) as secrets:
        for node in nodes:
            uncordon_node(name=node, secrets=secrets)


def ensure_job_deleted(
    name: str,
    namespace: str,
    timeout_s: float = RESTORE_TIMEOUT_S,
    kubeconfig: str | None = None,
    context: str | None = None,
    in_cluster: bool = False,
) -> None:
    """Revert of GPU stress: the Job and its pods are gone."""
    access = access_of(kubeconfig, context, in_cluster)
    jobs = cluster.batch(access)
    try:
        jobs.delete_namespaced_job(name, namespace, propagation_policy="Foreground")
    except ApiException as exc:
        if exc.status != 404:
            raise cluster.failed(f"deleting Job {namespace}/{name}", exc) from exc
    pods = cluster.core(access)

    def missing() -> str | None:
        try:
            jobs.read_namespaced_job(name, namespace)
            return f"Job {namespace}/{name} still exists"
        except ApiException as exc:
            if exc.status != 404:
                raise cluster.failed(f"reading Job {namespace}/{name}", exc) from exc
        left = pods.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items
        return f"{len(left)} pods of Job {name} left" if left else None

    wait_for(missing, timeout_s)
