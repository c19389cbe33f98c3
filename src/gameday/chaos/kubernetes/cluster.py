"""A kubernetes target's API, for gameday's faults and probes and for chaostoolkit-kubernetes.

chaosk8s builds its client from $KUBECONFIG (read by the kubernetes package once, at
import) or from the pod's service account when $CHAOSTOOLKIT_IN_POD is "true";
`chaosk8s_access` points both at the target's cluster for the length of one call, so
its activities run unmodified against the target's kubeconfig and context.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chaoslib.exceptions import ActivityFailed
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.config import kube_config

from gameday.errors import GamedayError
from gameday.targets.kubernetes import api_client as kube_api_client

_env_lock = threading.Lock()
NO_KUBECONFIG = "/nonexistent/gameday-in-cluster"


def api_client(
    kubeconfig: str | None = None, context: str | None = None, in_cluster: bool = False
) -> client.ApiClient:
    try:
        return kube_api_client(kubeconfig, context, in_cluster)
    except GamedayError as exc:
        raise ActivityFailed(exc.message) from exc


def core(access: dict[str, Any]) -> client.CoreV1Api:
    return client.CoreV1Api(api_client(**access))


def apps(access: dict[str, Any]) -> client.AppsV1Api:
    return client.AppsV1Api(api_client(**access))


def batch(access: dict[str, Any]) -> client.BatchV1Api:
    return client.BatchV1Api(api_client(**access))


def networking(access: dict[str, Any]) -> client.NetworkingV1Api:
    return client.NetworkingV1Api(api_client(**access))


@contextmanager
def chaosk8s_access(
    kubeconfig: str | None = None, context: str | None = None, in_cluster: bool = False
) -> Iterator[dict[str, Any]]:
    """The `secrets` to pass a chaosk8s activity so that it acts on this cluster."""
    with _env_lock:
        saved_env = {key: os.environ.get(key) for key in ("KUBECONFIG", "CHAOSTOOLKIT_IN_POD")}
        saved_default = kube_config.KUBE_CONFIG_DEFAULT_LOCATION
        path = NO_KUBECONFIG if in_cluster else (kubeconfig or saved_default)
        os.environ["KUBECONFIG"] = path
        kube_config.KUBE_CONFIG_DEFAULT_LOCATION = path
        if in_cluster:
            os.environ["CHAOSTOOLKIT_IN_POD"] = "true"
        secrets: dict[str, Any] = {"KUBERNETES_VERIFY_SSL": "true"}
        if context:
            secrets["KUBERNETES_CONTEXT"] = context
        try:
            yield secrets
        finally:
            kube_config.KUBE_CONFIG_DEFAULT_LOCATION = saved_default
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def failed(what: str, exc: ApiException) -> ActivityFailed:
    reason = exc.reason or ""
    return ActivityFailed(f"{what}: the API server answered {exc.status} {reason}".rstrip())
