"""A STAND-IN for kube-state-metrics, written by gameday's tests. It is not kube-state-metrics.

The real kube-state-metrics cannot be fetched from the Go module proxy on the machines the
tests run on (see /work/shared/notes/components.md), and in a real cluster it is there. So the
tests' control plane (tests/kube_cluster.py) runs this small exporter instead: every
``--interval`` seconds it lists Deployments, StatefulSets, Pods, Nodes, Jobs and
NetworkPolicies from the real API server through the ``kubernetes`` Python client, and serves,
in the Prometheus text format, the few series gameday's rules and probes use, under
kube-state-metrics' own names and labels:

- ``kube_deployment_spec_replicas``, ``kube_deployment_status_replicas``,
  ``kube_deployment_status_replicas_available`` ``{namespace, deployment}``
- ``kube_statefulset_replicas``, ``kube_statefulset_status_replicas_ready``
  ``{namespace, statefulset}``
- ``kube_pod_status_phase{namespace, pod, uid, phase}`` (1 for the current phase, 0 for the
  other four)
- ``kube_pod_status_ready{namespace, pod, uid, condition="true"|"false"|"unknown"}``
- ``kube_pod_container_status_restarts_total{namespace, pod, uid, container}``
- ``kube_node_spec_unschedulable{node}``, ``kube_node_status_condition{node, condition,
  status="true"|"false"|"unknown"}`` (every condition the node reports)
- ``kube_job_status_active{namespace, job_name}``
- ``kube_networkpolicy_labels{namespace, networkpolicy}`` (1 per policy)

plus ``gameday_kube_state_standin 1``, so a query can tell it from the real thing.

``/metrics`` serves the latest snapshot (the last good one while the API server does not
answer); ``/healthz`` answers 200 once a first snapshot was taken, 503 before.

Run: ``python tests/kube_state_standin.py --kubeconfig K --port P [--interval 0.5]``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

from kubernetes import client, config

HOST = "127.0.0.1"
POD_PHASES = ("Pending", "Succeeded", "Failed", "Unknown", "Running")
CONDITION_STATUSES = ("true", "false", "unknown")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# name → (type, help), in the order they are written; the help texts are kube-state-metrics'.
FAMILIES: dict[str, tuple[str, str]] = {
    "gameday_kube_state_standin": (
        "gauge",
        "1: these kube_* series come from a stand-in for kube-state-metrics written by "
        "gameday's tests (tests/kube_state_standin.py), not from kube-state-metrics.",
    ),
    "kube_deployment_spec_replicas": (
        "gauge",
        "Number of desired pods for a deployment.",
    ),
    "kube_deployment_status_replicas": (
        "gauge",
        "The number of replicas per deployment.",
    ),
    "kube_deployment_status_replicas_available": (
        "gauge",
        "The number of available replicas per deployment.",
    ),
    "kube_statefulset_replicas": (
        "gauge",
        "Number of desired pods for a StatefulSet.",
    ),
    "kube_statefulset_status_replicas_ready": (
        "gauge",
        "The number of ready replicas per StatefulSet.",
    ),
    "kube_pod_status_phase": (
        "gauge",
        "The pods current phase.",
    ),
    "kube_pod_status_ready": (
        "gauge",
        "Describes whether the pod is ready to serve requests.",
    ),
    "kube_pod_container_status_restarts_total": (
        "counter",
        "The number of container restarts per container.",
    ),
    "kube_node_spec_unschedulable": (
        "gauge",
        "Whether a node can schedule new pods.",
    ),
    "kube_node_status_condition": (
        "gauge",
        "The condition of a cluster node.",
    ),
    "kube_job_status_active": (
        "gauge",
        "The number of actively running pods.",
    ),
    "kube_networkpolicy_labels": (
        "gauge",
        "Kubernetes labels converted to Prometheus labels.",
    ),
}

Sample = tuple[str, dict[str, str], float]
ToSamples = Callable[[Sequence[dict[str, Any]]], list[Sample]]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render(samples: Iterable[Sample]) -> str:
    """The Prometheus text format: every family of :data:`FAMILIES` with HELP and TYPE, its
    samples under it (a family without samples keeps its HELP and TYPE, as client libraries do)."""
    by_family: dict[str, list[str]] = {name: [] for name in FAMILIES}
    for name, labels, value in samples:
        body = ",".join(f'{key}="{_escape(text)}"' for key, text in labels.items())
        series = f"{name}{{{body}}}" if body else name
        by_family[name].append(f"{series} {_number(value)}")
    lines: list[str] = []
    for name, (kind, help_text) in FAMILIES.items():
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(by_family[name])
    return "\n".join(lines) + "\n"


def _condition_status(status: str | None) -> str:
    lowered = (status or "Unknown").lower()
    return lowered if lowered in CONDITION_STATUSES else "unknown"


def deployment_samples(items: Sequence[dict[str, Any]]) -> list[Sample]:
    out: list[Sample] = []
    for item in items:
        meta, spec, status = item["metadata"], item.get("spec", {}), item.get("status", {})
        labels = {"namespace": meta["namespace"], "deployment": meta["name"]}
        out.append(("kube_deployment_spec_replicas", labels, spec.get("replicas", 1)))
        out.append(("kube_deployment_status_replicas", labels, status.get("replicas", 0)))
        out.append(
            (
                "kube_deployment_status_replicas_available",
                labels,
                status.get("availableReplicas", 0),
            )
        )
    return out


def statefulset_samples(items: Sequence[dict[str, Any]]) -> list[Sample]:
    out: list[Sample] = []
    for item in items:
        meta, spec, status = item["metadata"], item.get("spec", {}), item.get("status", {})
        labels = {"namespace": meta["namespace"], "statefulset": meta["name"]}
        out.append(("kube_statefulset_replicas", labels, spec.get("replicas", 1)))
        out.append(
            ("kube_statefulset_status_replicas_ready", labels, status.get("readyReplicas", 0))
        )
    return out


def pod_samples(items: Sequence[dict[str, Any]]) -> list[Sample]:
    out: list[Sample] = []
    for item in items:
        meta, status = item["metadata"], item.get("status", {})
        base = {"namespace": meta["namespace"], "pod": meta["name"], "uid": meta.get("uid", "")}
        current = status.get("phase")
        if current:  # kube-state-metrics writes no phase series for a pod without one
            for phase in POD_PHASES:
                out.append(
                    ("kube_pod_status_phase", {**base, "phase": phase}, float(phase == current))
                )
        for condition in status.get("conditions") or []:
            if condition.get("type") != "Ready":
                continue
            now = _condition_status(condition.get("status"))
            for value in CONDITION_STATUSES:
                out.append(
                    ("kube_pod_status_ready", {**base, "condition": value}, float(value == now))
                )
        for container in status.get("containerStatuses") or []:
            out.append(
                (
                    "kube_pod_container_status_restarts_total",
                    {**base, "container": container.get("name", "")},
                    container.get("restartCount", 0),
                )
            )
    return out


def node_samples(items: Sequence[dict[str, Any]]) -> list[Sample]:
    out: list[Sample] = []
    for item in items:
        name = item["metadata"]["name"]
        unschedulable = bool(item.get("spec", {}).get("unschedulable", False))
        out.append(("kube_node_spec_unschedulable", {"node": name}, float(unschedulable)))
        for condition in item.get("status", {}).get("conditions") or []:
            now = _condition_status(condition.get("status"))
            for value in CONDITION_STATUSES:
                labels = {"node": name, "condition": condition.get("type", ""), "status": value}
                out.append(("kube_node_status_condition", labels, float(value == now)))
    return out


def job_samples(items: Sequence[dict[str, Any]]) -> list[Sample]:
    return [
        (
            "kube_job_status_active",
            {"namespace": item["metadata"]["namespace"], "job_name": item["metadata"]["name"]},
            item.get("status", {}).get("active", 0),
        )
        for item in items
    ]


def networkpolicy_samples(items: Sequence[dict[str, Any]]) -> list[Sample]:
    return [
        (
            "kube_networkpolicy_labels",
            {
                "namespace": item["metadata"]["namespace"],
                "networkpolicy": item["metadata"]["name"],
            },
            1,
        )
        for item in items
    ]


class Snapshotter:
    """Lists the objects through the API server and renders them; keeps the latest text."""

    def __init__(self, api_client: client.ApiClient) -> None:
        apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
        batch, networking = client.BatchV1Api(api_client), client.NetworkingV1Api(api_client)
        self._lists: list[tuple[Callable[..., Any], ToSamples]] = [
            (apps.list_deployment_for_all_namespaces, deployment_samples),
            (apps.list_stateful_set_for_all_namespaces, statefulset_samples),
            (core.list_pod_for_all_namespaces, pod_samples),
            (core.list_node, node_samples),
            (batch.list_job_for_all_namespaces, job_samples),
            (networking.list_network_policy_for_all_namespaces, networkpolicy_samples),
        ]
        self._lock = threading.Lock()
        self._text: bytes | None = None

    def take(self) -> None:
        samples: list[Sample] = [("gameday_kube_state_standin", {}, 1)]
        for list_call, to_samples in self._lists:
            # Raw JSON: the client's model objects cost far more CPU than the data needs.
            # resourceVersion=0: served from the API server's watch cache, as informers list.
            answer = list_call(resource_version="0", _preload_content=False, _request_timeout=5)
            samples.extend(to_samples(json.loads(answer.data).get("items") or []))
        text = render(samples).encode()
        with self._lock:
            self._text = text

    def text(self) -> bytes | None:
        with self._lock:
            return self._text


def _serve(snapshots: Snapshotter, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            text = snapshots.text()
            path = self.path.split("?")[0]
            if path == "/metrics" and text is not None:
                self._answer(200, text, CONTENT_TYPE)
            elif path in ("/healthz", "/livez", "/readyz") and text is not None:
                self._answer(200, b"OK\n", "text/plain")
            elif path in ("/metrics", "/healthz", "/livez", "/readyz"):
                self._answer(503, b"no snapshot yet\n", "text/plain")
            else:
                self._answer(404, b"not found\n", "text/plain")

        def _answer(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((HOST, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="standin-http", daemon=True).start()
    return server


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--context", default=None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--interval", type=float, default=0.5)
    options = parser.parse_args(argv)

    api_client = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=options.kubeconfig, context=options.context
    )
    snapshots = Snapshotter(api_client)
    server = _serve(snapshots, options.port)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    failing = False
    while not stopping.is_set():
        started = time.monotonic()
        try:
            snapshots.take()
            if failing:
                print("kube-state stand-in: the API server answers again", file=sys.stderr)
            failing = False
        except Exception as error:  # keep serving the last good snapshot
            if not failing:
                print(f"kube-state stand-in: listing failed: {error}", file=sys.stderr)
            failing = True
        stopping.wait(max(0.0, options.interval - (time.monotonic() - started)))
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
