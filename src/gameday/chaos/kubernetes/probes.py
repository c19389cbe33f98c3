"""What a kubernetes target's workloads are doing, as its API server reports it.

    - type: probe
      name: gateway back to 3 available replicas
      tolerance: true
      provider:
        type: python
        module: gameday.chaos.kubernetes.probes
        func: workload_restored
        arguments: {name: gateway, within_s: 60}

The alert, routing and SLO probes (`gameday.chaos.alerts.probes`,
`gameday.chaos.slo.probes`) run against the cluster's own Prometheus and Alertmanager
named in the target file, as for any target.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from chaoslib.types import Configuration, Secrets
from kubernetes.client.exceptions import ApiException

from gameday.chaos.kubernetes import cluster, reverts
from gameday.chaos.kubernetes.actions import WORKLOAD_KINDS, _access, _namespace, _policy_name
from gameday.context import run_context

__all__ = [
    "network_policy_present",
    "pod_restarts",
    "pods_ready",
    "recent_events",
    "replicas_available",
    "workload_restored",
]


def replicas_available(
    name: str,
    kind: str = "deployment",
    ns: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> int:
    """Available replicas of a Deployment or StatefulSet (judge it with a tolerance)."""
    context = run_context(configuration)
    access = _access(context).as_arguments()
    _, available = reverts.workload_available(kind.lower(), name, _namespace(context, ns), access)
    return available


def workload_restored(
    name: str,
    kind: str = "deployment",
    ns: str | None = None,
    within_s: float = 60,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """Whether every desired replica of the workload is available within `within_s` of
    the fault (of the probe's start outside a gameday run)."""
    context = run_context(configuration)
    kind = kind.lower()
    if kind not in WORKLOAD_KINDS:
        return False
    access = _access(context).as_arguments()
    namespace = _namespace(context, ns)
    start, _ = context.reference_time()
    deadline = time.monotonic() + max(0.0, within_s - (datetime.now(UTC) - start).total_seconds())
    while True:
        desired, available = reverts.workload_available(kind, name, namespace, access)
        if desired > 0 and available >= desired:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        context.waiting(f"{kind} {namespace}/{name}: {available}/{desired} available", left)
        time.sleep(min(reverts.POLL_S, left))


def _pods(configuration: Configuration, label_selector: str, ns: str | None) -> list[Any]:
    context = run_context(configuration)
    api = cluster.core(_access(context).as_arguments())
    found: list[Any] = api.list_namespaced_pod(
        _namespace(context, ns), label_selector=label_selector
    ).items
    return found


def pods_ready(
    label_selector: str,
    ns: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> int:
    """How many pods the selector matches that are Ready (and not being deleted)."""
    return sum(1 for p in _pods(configuration, label_selector, ns) if reverts.pod_serving(p))


def pod_restarts(
    label_selector: str,
    ns: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> int:
    """Container restarts summed over the selected pods."""
    pods = _pods(configuration, label_selector, ns)
    return sum(
        int(status.restart_count or 0)
        for pod in pods
        for status in (pod.status.container_statuses if pod.status else None) or []
    )


def recent_events(
    ns: str | None = None,
    reason: str | None = None,
    involved_kind: str | None = None,
    since_s: float | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """The namespace's events since the fault (the last `since_s` seconds, when given;
    outside a gameday run, where no fault is seen, give it), optionally of one `reason`
    (Killing, ScalingReplicaSet, …) or object kind."""
    context = run_context(configuration)
    api = cluster.core(_access(context).as_arguments())
    since = (
        datetime.now(UTC) - timedelta(seconds=since_s)
        if since_s is not None
        else context.reference_time()[0]
    )
    found: list[dict[str, Any]] = []
    for event in api.list_namespaced_event(_namespace(context, ns)).items:
        at = event.last_timestamp or event.event_time or event.metadata.creation_timestamp
        if at is None or at < since:
            continue
        if reason and event.reason != reason:
            continue
        involved = event.involved_object
        if involved_kind and (involved is None or involved.kind != involved_kind):
            continue
        found.append(
            {
                "at": at.isoformat(),
                "reason": event.reason,
                "object": f"{involved.kind}/{involved.name}" if involved else None,
                "message": event.message,
            }
        )
    return found


def network_policy_present(
    label_selector: str,
    ns: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """Whether the NetworkPolicy `partition_pods` creates for this selector exists."""
    context = run_context(configuration)
    namespace = _namespace(context, ns)
    api = cluster.networking(_access(context).as_arguments())
    try:
        api.read_namespaced_network_policy(_policy_name(namespace, label_selector), namespace)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise cluster.failed("reading NetworkPolicy", exc) from exc
    return True
