"""The tests' Kubernetes control plane itself (tests/kube_cluster.py): real API server,
controllers and scheduler, kwok's fake nodes, the kube-state-metrics stand-in, Prometheus and
Alertmanager. Tests that change the shared cluster put it back with ``reset_shop()``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests import kube_state_standin as standin
from tests.kube_cluster import (
    FAKE_NODES,
    KUBERNETES_VERSION,
    NAMESPACE,
    REPO,
    KubeCluster,
    base_port_from_env,
)
from tests.team_stack import _pid_alive

# A cluster of its own, away from the session's, for the tests that stop one.
OWN_BASE_PORT = base_port_from_env() + 40


def _available(cluster: KubeCluster, deployment: str) -> float | None:
    return cluster.prometheus_value(
        f'kube_deployment_status_replicas_available{{namespace="{NAMESPACE}",'
        f'deployment="{deployment}"}}'
    )


def _pods(cluster: KubeCluster, selector: str) -> list[dict[str, Any]]:
    answer = json.loads(
        cluster.kubectl("get", "pods", "-n", NAMESPACE, "-l", selector, "-o", "json")
    )
    items: list[dict[str, Any]] = answer["items"]
    return items


def _running_and_ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status", {})
    return (
        not pod["metadata"].get("deletionTimestamp")
        and status.get("phase") == "Running"
        and any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
    )


# --------------------------------------------------------------------------- without a cluster


def test_standin_renders_kube_state_metrics_names() -> None:
    pod = {
        "metadata": {"namespace": "shop", "name": "gateway-1", "uid": "u1"},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "gateway", "restartCount": 2}],
        },
    }
    text = standin.render([("gameday_kube_state_standin", {}, 1), *standin.pod_samples([pod])])
    lines = text.splitlines()
    assert any(
        line.startswith("# HELP gameday_kube_state_standin") and "stand-in" in line
        for line in lines
    )
    assert "gameday_kube_state_standin 1" in lines
    base = 'namespace="shop",pod="gateway-1",uid="u1"'
    assert f'kube_pod_status_phase{{{base},phase="Running"}} 1' in lines
    assert f'kube_pod_status_phase{{{base},phase="Pending"}} 0' in lines
    assert f'kube_pod_status_ready{{{base},condition="true"}} 1' in lines
    assert f'kube_pod_status_ready{{{base},condition="false"}} 0' in lines
    assert f'kube_pod_container_status_restarts_total{{{base},container="gateway"}} 2' in lines
    assert "# TYPE kube_pod_container_status_restarts_total counter" in lines


# --------------------------------------------------------------------------- clusters of their own


def test_stop_leaves_no_process_alive(kube_build_dir: Path, tmp_path: Path) -> None:
    cluster = KubeCluster(tmp_path / "kube", OWN_BASE_PORT, kube_dir=kube_build_dir)
    pids: dict[str, int] = {}
    try:
        cluster.start()
        pids = cluster.pids()
        assert set(pids) >= {"etcd", "kube-apiserver", "kwok", "prometheus", "alertmanager"}
        assert all(_pid_alive(pid) for pid in pids.values())
        rss = cluster.rss_mib()
        print(f"ready after {cluster.ready_after_s:.1f} s; RSS {sum(rss.values()):.0f} MiB {rss}")
    finally:
        cluster.stop()
    assert not [name for name, pid in pids.items() if _pid_alive(pid)]
    cluster.stop()  # a second stop is harmless
    assert not cluster.cluster_file.exists()


def test_command_line_up_status_down(kube_build_dir: Path, tmp_path: Path) -> None:
    directory = tmp_path / "kube-cli"
    script = [sys.executable, str(REPO / "tests" / "kube_cluster.py")]
    env = {**os.environ, "GAMEDAY_KUBE_DIR": str(kube_build_dir)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*script, *args, "--dir", str(directory)],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
        )

    pids: list[int] = []
    try:
        up = run("up", "--base-port", str(OWN_BASE_PORT))
        assert up.returncode == 0, up.stdout + up.stderr
        assert "kube-apiserver ready in" in up.stdout
        recorded = json.loads((directory / "cluster.json").read_text())
        pids = [int(process["pid"]) for process in recorded["processes"]]
        assert pids and all(_pid_alive(pid) for pid in pids)  # it outlived `up`
        status = run("status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert "/readyz: ok" in status.stdout
    finally:
        down = run("down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert not [pid for pid in pids if _pid_alive(pid)]
    assert run("status").returncode == 1


# --------------------------------------------------------------------------- the session cluster


def test_the_api_server_is_the_version_built(kube_cluster: KubeCluster) -> None:
    versions = json.loads(kube_cluster.kubectl("version", "-o", "json"))
    assert versions["serverVersion"]["gitVersion"] == KUBERNETES_VERSION
    assert versions["clientVersion"]["gitVersion"] == KUBERNETES_VERSION
    assert kube_cluster.api_get("/version")["gitVersion"] == KUBERNETES_VERSION


def test_target_file_and_kubeconfig(kube_cluster: KubeCluster) -> None:
    target = yaml.safe_load(kube_cluster.target_file.read_text())
    assert target == {
        "kind": "kubernetes",
        "name": "local-control-plane",
        "kubernetes": {"kubeconfig": "kubeconfig", "context": "gameday-local", "namespace": "shop"},
        "prometheus": {"url": kube_cluster.prometheus_url},
        "alertmanager": {"url": kube_cluster.alertmanager_url},
        "allow": ["namespace:shop", "node:kwok-*"],
    }
    assert (kube_cluster.target_file.parent / "kubeconfig") == kube_cluster.kubeconfig
    assert kube_cluster.kubectl("config", "current-context").strip() == "gameday-local"
    assert kube_cluster.prometheus_url.startswith("http://127.0.0.1:")


def test_fake_nodes_are_ready(kube_cluster: KubeCluster) -> None:
    nodes = {
        item["metadata"]["name"]: item
        for item in json.loads(kube_cluster.kubectl("get", "nodes", "-o", "json"))["items"]
    }
    assert set(FAKE_NODES) <= set(nodes)
    for name in FAKE_NODES:
        node = nodes[name]
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True", name
        assert node["metadata"]["labels"]["type"] == "kwok"
        assert node["metadata"]["annotations"]["kwok.x-k8s.io/node"] == "fake"
        assert node["status"]["allocatable"]["pods"] == "110"
    gpu = nodes["kwok-gpu-0"]
    assert gpu["status"]["allocatable"]["nvidia.com/gpu"] == "1"
    assert gpu["status"]["capacity"]["nvidia.com/gpu"] == "1"
    assert gpu["metadata"]["labels"]["gameday.dev/gpu"] == "true"


def test_a_deleted_gateway_pod_is_recreated(kube_cluster: KubeCluster) -> None:
    try:
        before = _pods(kube_cluster, "app=gateway")
        assert len(before) == 3 and all(_running_and_ready(pod) for pod in before)
        victim = before[0]["metadata"]["name"]
        kube_cluster.kubectl("delete", "pod", victim, "-n", NAMESPACE, "--wait=false")

        def replaced() -> bool:
            pods = [pod for pod in _pods(kube_cluster, "app=gateway") if _running_and_ready(pod)]
            names = {pod["metadata"]["name"] for pod in pods}
            return len(pods) == 3 and victim not in names

        took = kube_cluster.wait_until("gateway back at 3 ready pods", replaced, timeout_s=30)
        print(f"gateway pod recreated and ready in {took:.1f} s")
    finally:
        kube_cluster.reset_shop()


def test_the_standin_reaches_prometheus(kube_cluster: KubeCluster) -> None:
    assert _available(kube_cluster, "gateway") == 3
    assert _available(kube_cluster, "redis") == 1
    assert _available(kube_cluster, "camera") == 2
    assert (
        kube_cluster.prometheus_value('gameday_kube_state_standin{job="kube-state-metrics"}') == 1
    )
    running = kube_cluster.prometheus_value(
        f'sum(kube_pod_status_phase{{namespace="{NAMESPACE}",phase="Running"}})'
    )
    assert running == 6
    for node in FAKE_NODES:
        ready = kube_cluster.prometheus_value(
            f'kube_node_status_condition{{node="{node}",condition="Ready",status="true"}}'
        )
        assert ready == 1, node


def test_redis_scaled_to_zero_shows_and_pages(kube_cluster: KubeCluster) -> None:
    alertname = "GamedayTestRedisUnavailable"
    rules = {
        "groups": [
            {
                "name": "gameday-test-control-plane",
                "interval": "1s",
                "rules": [
                    {
                        "alert": alertname,
                        "expr": 'kube_deployment_status_replicas_available{deployment="redis"} < 1',
                        "for": "1s",
                        "labels": {"severity": "critical"},
                        "annotations": {"summary": "redis has no available replica"},
                    }
                ],
            }
        ]
    }

    def pages_since(moment: float) -> list[dict[str, Any]]:
        return [
            delivery
            for delivery in kube_cluster.deliveries("oncall-pager")
            if delivery["received_at"] >= moment
            and delivery["payload"].get("status") == "firing"
            and any(
                alert["labels"].get("alertname") == alertname
                for alert in delivery["payload"].get("alerts", [])
            )
        ]

    with kube_cluster.extra_rules("gameday-test-control-plane", rules):
        try:
            assert _available(kube_cluster, "redis") == 1
            scaled_at = time.time()
            kube_cluster.kubectl("scale", "deployment", "redis", "-n", NAMESPACE, "--replicas=0")
            shown = kube_cluster.wait_until(
                "Prometheus shows redis at 0", lambda: _available(kube_cluster, "redis") == 0, 30
            )
            paged = kube_cluster.wait_until(
                "the page reached oncall-pager", lambda: bool(pages_since(scaled_at)), 30
            )
            print(f"redis at 0 in Prometheus after {shown:.1f} s; paged {paged:.1f} s later")
            assert not [
                delivery
                for receiver in ("team-chat", "ops-default")
                for delivery in kube_cluster.deliveries(receiver)
                if delivery["received_at"] >= scaled_at
                and alertname in json.dumps(delivery["payload"])
            ]
        finally:
            kube_cluster.reset_shop()
    assert _available(kube_cluster, "redis") == 1


@pytest.mark.parametrize("resource", ["networkpolicy", "job"])
def test_reset_shop_removes_what_tests_add(kube_cluster: KubeCluster, resource: str) -> None:
    manifests = {
        "networkpolicy": {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "deny-gateway", "namespace": NAMESPACE},
            "spec": {
                "podSelector": {"matchLabels": {"app": "gateway"}},
                "policyTypes": ["Ingress"],
            },
        },
        "job": {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "one-off", "namespace": NAMESPACE},
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "one-off", "image": "gameday.local/job:1"}],
                    }
                }
            },
        },
    }
    try:
        kube_cluster.kubectl("apply", "-f", "-", input_text=json.dumps(manifests[resource]))
        kube_cluster.kubectl("cordon", "kwok-node-1")
        if resource == "networkpolicy":
            series = (
                f'kube_networkpolicy_labels{{namespace="{NAMESPACE}",networkpolicy="deny-gateway"}}'
            )
        else:
            series = f'kube_job_status_active{{namespace="{NAMESPACE}",job_name="one-off"}}'
        cordoned = 'kube_node_spec_unschedulable{node="kwok-node-1"}'
        kube_cluster.wait_until(
            f"{series} and {cordoned} == 1 in Prometheus",
            lambda: (
                kube_cluster.prometheus_value(series) is not None
                and kube_cluster.prometheus_value(cordoned) == 1
            ),
        )
    finally:
        kube_cluster.reset_shop()
    assert kube_cluster.kubectl("get", resource, "-n", NAMESPACE, "-o", "name").strip() == ""
    node = json.loads(kube_cluster.kubectl("get", "node", "kwok-node-1", "-o", "json"))
    assert not node["spec"].get("unschedulable", False)
