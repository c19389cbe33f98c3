"""How a kubernetes target is reached, and what its `allow` patterns mean.

A Kubernetes fault touches `k8s:NAMESPACE/KIND/WHAT` (WHAT: an object's name or a
label selector) or `k8s:node/NAME` for a node. A target's `allow` names them:

    allow:
      - namespace:shop              # anything in namespace shop
      - selector:shop/app=gateway   # pods (and policies) selected by exactly app=gateway
      - node:kwok-*                 # nodes (drain, cordon)
      - k8s:shop/deployment/redis   # or any shell-style pattern of the full form
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from gameday.errors import EnvironmentProblem

K8S_PREFIX = "k8s:"
NODE_SCOPE = "node"


@dataclass(frozen=True)
class KubeAccess:
    """A cluster's API: a kubeconfig file (and context), or the pod's own service account
    when gameday runs inside the cluster. Plain values, so a fault's revert can carry it
    to a later process."""

    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    namespace: str = "default"

    def as_arguments(self) -> dict[str, Any]:
        return {
            "kubeconfig": self.kubeconfig,
            "context": self.context,
            "in_cluster": self.in_cluster,
        }

    def describe(self) -> str:
        if self.in_cluster:
            return "in-cluster service account"
        return f"{self.kubeconfig}" + (f" (context {self.context})" if self.context else "")


@dataclass(frozen=True)
class KubeTouch:
    """What a Kubernetes fault touches, parsed from `k8s:NAMESPACE/KIND/WHAT`."""

    namespace: str | None  # None: cluster-scoped (a node)
    kind: str
    what: str

    @classmethod
    def parse(cls, touches: str) -> KubeTouch | None:
        if not touches.startswith(K8S_PREFIX):
            return None
        body = touches.removeprefix(K8S_PREFIX)
        if body.startswith(f"{NODE_SCOPE}/"):
            return cls(namespace=None, kind=NODE_SCOPE, what=body.split("/", 1)[1])
        namespace, _, rest = body.partition("/")
        kind, _, what = rest.partition("/")
        return cls(namespace=namespace, kind=kind, what=what)

    def allowed_by(self, pattern: str) -> bool:
        scope, _, value = pattern.partition(":")
        if scope == "namespace" and value:
            return self.namespace is not None and fnmatch.fnmatchcase(self.namespace, value)
        if scope == "node" and value:
            return self.kind == NODE_SCOPE and fnmatch.fnmatchcase(self.what, value)
        if scope == "selector" and "/" in value:
            namespace, selector = value.split("/", 1)
            return (
                self.namespace is not None
                and fnmatch.fnmatchcase(self.namespace, namespace)
                and _same_selector(self.what, selector)
            )
        return False


def kube_touches(namespace: str | None, kind: str, what: str) -> str:
    if namespace is None:
        return f"{K8S_PREFIX}{NODE_SCOPE}/{what}"
    return f"{K8S_PREFIX}{namespace}/{kind}/{what}"


def _same_selector(left: str, right: str) -> bool:
    """Label selectors equal as sets of terms (`a=1,b=2` is `b=2, a=1`)."""

    def terms(selector: str) -> set[str]:
        return {term.replace(" ", "") for term in selector.split(",") if term.strip()}

    return terms(left) == terms(right)


# What each Kubernetes activity touches: (kind, the argument naming what, its default).
GAMEDAY_ACTIONS: dict[str, tuple[str, str, str]] = {
    "terminate_pods": ("pods", "label_selector", ""),
    "partition_pods": ("networkpolicy", "label_selector", ""),
    "heal_partition": ("networkpolicy", "label_selector", ""),
    "scale_to_zero": ("", "name", ""),
    "scale_back": ("", "name", ""),
    "flap_deployments": ("", "names", ""),
    "stop_flapping": ("", "names", ""),
    "gpu_stress": ("job", "name", "gameday-gpu-stress"),
    "stop_gpu_stress": ("job", "name", "gameday-gpu-stress"),
    "drain_node": (NODE_SCOPE, "name", ""),
    "cordon_node": (NODE_SCOPE, "name", ""),
    "uncordon_node": (NODE_SCOPE, "name", ""),
}
CHAOSK8S_KINDS = {"pod": "pods", "networking": "networkpolicy"}


def activity_touches(module: str, func: str, arguments: dict[str, Any]) -> str:
    """What a gameday or chaostoolkit-kubernetes activity touches. gameday's default to
    the target's namespace (left empty here: `k8s:/…`, see `in_namespace`); chaosk8s'
    own default is `default`, as chaosk8s does."""
    if module.startswith("chaosk8s."):
        domain = module.split(".")[1]
        kind = CHAOSK8S_KINDS.get(domain, domain)
        what = next(
            (
                str(arguments[key])
                for key in ("label_selector", "name", "name_pattern")
                if arguments.get(key)
            ),
            "*",
        )
        return kube_touches(
            None if kind == NODE_SCOPE else str(arguments.get("ns") or "default"), kind, what
        )
    kind, key, default = GAMEDAY_ACTIONS.get(func, ("", "name", ""))
    value = arguments.get(key, default)
    what = ",".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
    if kind == NODE_SCOPE:
        return kube_touches(None, NODE_SCOPE, what)
    kind = kind or str(arguments.get("kind") or "deployment").lower()
    return kube_touches(str(arguments.get("ns") or ""), kind, what)


def in_namespace(touches: str, namespace: str) -> str:
    """`k8s:/KIND/WHAT` (no namespace given) in the target's namespace."""
    prefix = f"{K8S_PREFIX}/"
    return (
        f"{K8S_PREFIX}{namespace}/{touches[len(prefix) :]}"
        if touches.startswith(prefix)
        else touches
    )


def api_client(
    kubeconfig: str | None = None, context: str | None = None, in_cluster: bool = False
) -> client.ApiClient:
    """A client of its own for the cluster (never the kubernetes package's global default,
    which chaostoolkit-kubernetes sets); EnvironmentProblem (exit 3) when it cannot be made."""
    try:
        if in_cluster:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return client.ApiClient(configuration)
        found: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, context=context
        )
        return found
    except (ConfigException, OSError) as exc:
        where = "the in-cluster service account" if in_cluster else f"kubeconfig {kubeconfig}"
        raise EnvironmentProblem(f"cannot reach the cluster through {where}: {exc}") from exc
