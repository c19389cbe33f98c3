"""Kubernetes faults, through chaostoolkit-kubernetes where it has the activity: each
checks the target's `allow`, records its revert in the target's fault ledger before it
is applied, and records the fault for attribution.

    - type: action
      name: kill 2 gateway pods
      provider:
        type: python
        module: gameday.chaos.kubernetes.actions
        func: terminate_pods
        arguments: {label_selector: app=gateway, qty: 2}

`ns` defaults to the target's namespace. Faults and what undoes them:

| fault | chaosk8s activity | revert (also the rollback / remediation) |
|---|---|---|
| `terminate_pods` | `pod.actions.terminate_pods` | waits until as many pods are Ready again |
| `scale_to_zero` (service down) | `scale_deployment`, `scale_statefulset` | `scale_back` |
| `partition_pods` | `networking.actions.create_network_policy` | `heal_partition` |
| `drain_node`, `cordon_node` | `node.actions.drain_nodes`, `cordon_node` | `uncordon_node` |
| `gpu_stress` (a Job on a GPU node) | (none: written here) | `stop_gpu_stress` |
| `flap_deployments` (camera flaps) | `scale_*` in a cycle | `stop_flapping` |
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

from chaosk8s.networking.actions import create_network_policy
from chaosk8s.node.actions import cordon_node as chaosk8s_cordon
from chaosk8s.node.actions import drain_nodes
from chaosk8s.pod.actions import terminate_pods as chaosk8s_terminate
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from kubernetes.client.exceptions import ApiException

from gameday.chaos.kubernetes import cluster, reverts
from gameday.chaos.kubernetes.selectors import equality_labels
from gameday.context import RunContext, run_context
from gameday.record.ledger import Revert
from gameday.targets.kubernetes import KubeAccess, kube_touches

__all__ = [
    "cordon_node",
    "drain_node",
    "flap_deployments",
    "gpu_stress",
    "heal_partition",
    "partition_pods",
    "scale_back",
    "scale_to_zero",
    "stop_flapping",
    "stop_gpu_stress",
    "terminate_pods",
    "uncordon_node",
]
REVERTS = reverts.__name__
WORKLOAD_KINDS = ("deployment", "statefulset")
GPU_RESOURCE = "nvidia.com/gpu"


def _access(context: RunContext) -> KubeAccess:
    target = context.target
    if target.kind != "kubernetes" or target.kubernetes is None:
        raise ActivityFailed(
            f"Kubernetes faults need a kubernetes target; target {target.name!r} is {target.kind}"
        )
    return target.kubernetes


def _namespace(context: RunContext, ns: str | None) -> str:
    return ns or _access(context).namespace


def _checked(context: RunContext, touches: str) -> KubeAccess:
    access = _access(context)
    if not context.target.allows(touches):
        raise ActivityFailed(
            f"{touches} is outside target {context.target.name!r}'s allow list "
            f"({', '.join(context.target.allow)})"
        )
    return access


def _revert(func: str, access: KubeAccess, **arguments: Any) -> Revert:
    return Revert(module=REVERTS, func=func, arguments={**arguments, **access.as_arguments()})


def _workload_kind(kind: str) -> str:
    kind = kind.lower()
    if kind not in WORKLOAD_KINDS:
        raise ActivityFailed(f"kind must be deployment or statefulset, not {kind!r}")
    return kind


def terminate_pods(
    label_selector: str,
    ns: str | None = None,
    qty: int = 1,
    mode: str = "fixed",
    rand: bool = False,
    grace_period: int = -1,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[str]:
    """Kill pods by label selector (`qty` pods, or `qty` percent with mode: percentage):
    their Deployment or StatefulSet replaces them, as in a real pod crash."""
    context = run_context(configuration)
    namespace = _namespace(context, ns)
    touches = kube_touches(namespace, "pods", label_selector)
    access = _checked(context, touches)
    api = cluster.core(access.as_arguments())
    before = len(api.list_namespaced_pod(namespace, label_selector=label_selector).items)
    revert = _revert(
        "ensure_pods_ready",
        access,
        namespace=namespace,
        label_selector=label_selector,
        count=before,
    )
    fault = f"pods {label_selector} killed in {namespace}"
    with (
        context.target.ledger().applying(fault, revert),
        cluster.chaosk8s_access(**access.as_arguments()) as k8s_secrets,
    ):
        deleted: list[str] = chaosk8s_terminate(
            label_selector=label_selector,
            ns=namespace,
            qty=qty,
            mode=mode,
            rand=rand,
            grace_period=grace_period,
            secrets=k8s_secrets,
        )
    if not deleted:
        context.target.ledger().clear_matching(revert)
        raise ActivityFailed(f"no pod matches {label_selector!r} in namespace {namespace}")
    context.record(
        "fault_applied",
        f"pods killed: {', '.join(deleted)}",
        fault="pods killed",
        touches=touches,
        pods=deleted,
    )
    return deleted


def scale_to_zero(
    name: str,
    kind: str = "deployment",
    ns: str | None = None,
    replicas: int = 0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Take a service down: scale its Deployment or StatefulSet to `replicas` (0: all
    gone); the revert scales it back to the replicas it had."""
    context = run_context(configuration)
    kind = _workload_kind(kind)
    namespace = _namespace(context, ns)
    touches = kube_touches(namespace, kind, name)
    access = _checked(context, touches)
    desired, _ = reverts.workload_available(kind, name, namespace, access.as_arguments())
    if desired <= replicas:
        raise ActivityFailed(
            f"{kind} {namespace}/{name} has {desired} replicas: scaling to {replicas} is no fault"
        )
    revert = _revert(
        "ensure_scaled", access, kind=kind, name=name, namespace=namespace, replicas=desired
    )
    with context.target.ledger().applying(
        f"{kind} {namespace}/{name} scaled to {replicas}", revert
    ):
        reverts.scale(kind, name, namespace, replicas, access.as_arguments())
    context.record(
        "fault_applied",
        f"{kind} {namespace}/{name} scaled {desired} → {replicas}",
        fault="scaled down",
        touches=touches,
        replicas_before=desired,
    )
    return {"name": name, "kind": kind, "namespace": namespace, "replicas_before": desired}


def scale_back(
    name: str,
    kind: str = "deployment",
    ns: str | None = None,
    replicas: int | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """The remediation (and rollback) of `scale_to_zero` and flaps: back to the replicas
    recorded when the fault was applied (or `replicas`), waiting until all are available."""
    context = run_context(configuration)
    kind = _workload_kind(kind)
    namespace = _namespace(context, ns)
    access = _checked(context, kube_touches(namespace, kind, name))
    ledger = context.target.ledger()
    recorded = [
        e["revert"]
        for e in ledger.entries()
        if e["revert"]["func"] == "ensure_scaled"
        and e["revert"]["arguments"].get("name") == name
        and e["revert"]["arguments"].get("namespace") == namespace
        and e["revert"]["arguments"].get("kind") == kind
    ]
    if replicas is None:
        if not recorded:
            return {"name": name, "kind": kind, "namespace": namespace, "reverted": "nothing"}
        replicas = int(recorded[0]["arguments"]["replicas"])
    revert = _revert(
        "ensure_scaled", access, kind=kind, name=name, namespace=namespace, replicas=replicas
    )
    reverts.ensure_scaled(**revert["arguments"])
    for done in recorded:
        ledger.clear_matching(done)
    context.record(
        "fault_reverted", f"{kind} {namespace}/{name} back to {replicas}", touches=revert["func"]
    )
    return {"name": name, "kind": kind, "namespace": namespace, "replicas": replicas}


def _policy_name(namespace: str, label_selector: str) -> str:
    digest = hashlib.sha256(f"{namespace}/{label_selector}".encode()).hexdigest()[:10]
    return f"gameday-partition-{digest}"


def partition_pods(
    label_selector: str,
    ns: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Isolate the selected pods: a NetworkPolicy that denies all their ingress and egress
    (enforced by the cluster's network plugin); the revert removes it."""
    context = run_context(configuration)
    namespace = _namespace(context, ns)
    touches = kube_touches(namespace, "networkpolicy", label_selector)
    access = _checked(context, touches)
    name = _policy_name(namespace, label_selector)
    spec = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/managed-by": "gameday"},
            "annotations": {"gameday.dev/partition": label_selector},
        },
        "spec": {
            "podSelector": {"matchLabels": equality_labels(label_selector)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": [],
        },
    }
    revert = _revert("ensure_policy_removed", access, name=name, namespace=namespace)
    try:
        with (
            context.target.ledger().applying(
                f"pods {label_selector} partitioned in {namespace}", revert
            ),
            cluster.chaosk8s_access(**access.as_arguments()) as k8s_secrets,
        ):
            create_network_policy(spec=spec, ns=namespace, secrets=k8s_secrets)
    except ApiException as exc:
        raise cluster.failed(f"creating NetworkPolicy {namespace}/{name}", exc) from exc
    context.record(
        "fault_applied",
        f"pods {label_selector} isolated by NetworkPolicy {name}",
        fault="partitioned",
        touches=touches,
        policy=name,
    )
    return {"policy": name, "namespace": namespace, "label_selector": label_selector}


def heal_partition(
    label_selector: str,
    ns: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Remove the NetworkPolicy `partition_pods` created for this selector."""
    context = run_context(configuration)
    namespace = _namespace(context, ns)
    access = _checked(context, kube_touches(namespace, "networkpolicy", label_selector))
    name = _policy_name(namespace, label_selector)
    revert = _revert("ensure_policy_removed", access, name=name, namespace=namespace)
    reverts.ensure_policy_removed(**revert["arguments"])
    context.target.ledger().clear_matching(revert)
    context.record("fault_reverted", f"NetworkPolicy {name} removed", policy=name)
    return {"policy": name, "namespace": namespace, "removed": True}


def _node_fault(
    configuration: Configuration, name: str, done: str, apply: Callable[[dict[str, Any]], Any]
) -> list[str]:
    """Cordon or drain one node through chaosk8s (`apply(secrets)`), its uncordon recorded
    first."""
    context = run_context(configuration)
    touches = kube_touches(None, "node", name)
    access = _checked(context, touches)
    revert = _revert("ensure_uncordoned", access, nodes=[name])
    with (
        context.target.ledger().applying(f"node {name} {done}", revert),
        cluster.chaosk8s_access(**access.as_arguments()) as k8s_secrets,
    ):
        apply(k8s_secrets)
    context.record("fault_applied", f"node {name} {done}", fault=done, touches=touches)
    return [name]


def drain_node(
    name: str,
    timeout_s: int = 120,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[str]:
    """Drain a node (cordon it and evict its pods, as `kubectl drain --ignore-daemonsets`);
    the revert uncordons it."""
    return _node_fault(
        configuration,
        name,
        "drained",
        lambda k8s: drain_nodes(name=name, timeout=timeout_s, secrets=k8s),
    )


def cordon_node(
    name: str, configuration: Configuration = None, secrets: Secrets = None
) -> list[str]:
    """Mark a node unschedulable (its pods keep running); the revert uncordons it."""
    return _node_fault(
        configuration, name, "cordoned", lambda k8s: chaosk8s_cordon(name=name, secrets=k8s)
    )


def uncordon_node(
    name: str, configuration: Configuration = None, secrets: Secrets = None
) -> list[str]:
    """The remediation (and rollback) of a drain or cordon."""
    context = run_context(configuration)
    access = _checked(context, kube_touches(None, "node", name))
    revert = _revert("ensure_uncordoned", access, nodes=[name])
    reverts.ensure_uncordoned(**revert["arguments"])
    context.target.ledger().clear_matching(revert)
    context.record("fault_reverted", f"node {name} uncordoned", node=name)
    return [name]


def gpu_stress(
    image: str,
    ns: str | None = None,
    name: str = "gameday-gpu-stress",
    gpus: int = 1,
    duration_s: int = 300,
    command: list[str] | None = None,
    node_selector: dict[str, str] | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Load a GPU node: a Job whose pod asks for `gpus` × `nvidia.com/gpu` and runs the
    burn `image` you name (e.g. a gpu-burn build of yours) for `duration_s`; the revert
    deletes the Job and its pods. `command` overrides the image's entrypoint."""
    context = run_context(configuration)
    namespace = _namespace(context, ns)
    touches = kube_touches(namespace, "job", name)
    access = _checked(context, touches)
    container: dict[str, Any] = {
        "name": "gpu-burn",
        "image": image,
        "resources": {"limits": {GPU_RESOURCE: str(gpus)}},
        "env": [{"name": "GAMEDAY_DURATION_S", "value": str(duration_s)}],
    }
    if command:
        container["command"] = [str(part) for part in command]
    body: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "gameday"}},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": int(duration_s),
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/managed-by": "gameday"}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [container],
                    **({"nodeSelector": dict(node_selector)} if node_selector else {}),
                    "tolerations": [
                        {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}
                    ],
                },
            },
        },
    }
    revert = _revert("ensure_job_deleted", access, name=name, namespace=namespace)
    try:
        with context.target.ledger().applying(f"GPU stress Job {namespace}/{name}", revert):
            cluster.batch(access.as_arguments()).create_namespaced_job(namespace, body)  # type: ignore[arg-type]
    except ApiException as exc:
        raise cluster.failed(f"creating Job {namespace}/{name}", exc) from exc
    context.record(
        "fault_applied",
        f"GPU stress Job {name} ({gpus} × {GPU_RESOURCE}, {image})",
        fault="gpu stress",
        touches=touches,
    )
    return {"job": name, "namespace": namespace, "gpus": gpus, "image": image}


def stop_gpu_stress(
    name: str = "gameday-gpu-stress",
    ns: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    context = run_context(configuration)
    namespace = _namespace(context, ns)
    access = _checked(context, kube_touches(namespace, "job", name))
    revert = _revert("ensure_job_deleted", access, name=name, namespace=namespace)
    reverts.ensure_job_deleted(**revert["arguments"])
    context.target.ledger().clear_matching(revert)
    context.record("fault_reverted", f"GPU stress Job {name} deleted", job=name)
    return {"job": name, "namespace": namespace, "deleted": True}


def flap_deployments(
    names: list[str],
    ns: str | None = None,
    kind: str = "deployment",
    times: int = 3,
    down_s: float = 5,
    up_s: float = 5,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Flap workloads (e.g. camera Deployments) in the background: scaled to 0 for
    `down_s`, back for `up_s`, `times` times, then left at their replicas. Returns at
    once; `stop_flapping` (or the revert) stops the cycle and scales them back."""
    context = run_context(configuration)
    kind = _workload_kind(kind)
    namespace = _namespace(context, ns)
    access = _access(context)
    plans: list[tuple[str, int, threading.Event]] = []
    for name in names:
        _checked(context, kube_touches(namespace, kind, name))
        desired, _ = reverts.workload_available(kind, name, namespace, access.as_arguments())
        plans.append((name, desired, threading.Event()))
    for name, desired, stop in plans:
        revert = _revert(
            "ensure_scaled", access, kind=kind, name=name, namespace=namespace, replicas=desired
        )
        context.target.ledger().add(f"{kind} {namespace}/{name} flapping", revert)
        thread = threading.Thread(
            target=_flap,
            args=(kind, name, namespace, desired, access, times, down_s, up_s, stop),
            name=f"gameday-flap-{name}",
            daemon=True,
        )
        reverts.flapping[f"{namespace}/{kind}/{name}"] = (stop, thread)
        thread.start()
    context.record(
        "fault_applied",
        f"{len(names)} {kind}s flapping ({times} × {down_s:g}s down / {up_s:g}s up)",
        fault="flapping",
        touches=",".join(kube_touches(namespace, kind, n) for n in names),
    )
    return {"flapping": list(names), "namespace": namespace, "times": times}


def _flap(
    kind: str,
    name: str,
    namespace: str,
    replicas: int,
    access: KubeAccess,
    times: int,
    down_s: float,
    up_s: float,
    stop: threading.Event,
) -> None:
    arguments = access.as_arguments()
    for _ in range(times):
        if stop.is_set():
            return
        reverts.scale(kind, name, namespace, 0, arguments)
        if stop.wait(down_s):
            return
        reverts.scale(kind, name, namespace, replicas, arguments)
        if stop.wait(up_s):
            return


def stop_flapping(
    names: list[str],
    ns: str | None = None,
    kind: str = "deployment",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Stop the flapping and scale each workload back to its recorded replicas."""
    return [
        scale_back(name, kind=kind, ns=ns, configuration=configuration, secrets=secrets)
        for name in names
    ]
