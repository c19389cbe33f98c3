"""gameday against a real Kubernetes control plane (tests/kube_cluster.py: etcd,
kube-apiserver, controller-manager, scheduler, kwok fake nodes, a kube-state-metrics
stand-in, Prometheus with experiments/kubernetes/rules, Alertmanager into gameday's sink).

The shipped experiments run through the real CLI with the cluster's target file. kwok
runs no containers: pods become Ready after a simulated start-up delay and no traffic
flows, so NetworkPolicies are proven as API objects and their revert, not by traffic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.interrupting import interrupt_mid_fault
from tests.kube_cluster import KubeCluster

from gameday.chaos.kubernetes import actions, probes

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments" / "kubernetes"
RUN_TIMEOUT_S = 240


@pytest.fixture
def cluster(kube_cluster: KubeCluster, tmp_path: Path) -> KubeCluster:
    """The session's cluster with the shop as the manifests say, before and after."""
    kube_cluster.reset_shop()
    yield kube_cluster  # type: ignore[misc]
    kube_cluster.reset_shop()


def gameday_env(tmp_path: Path) -> dict[str, str]:
    # Each test keeps its own fault ledger (gameday's state directory).
    return {**os.environ, "GAMEDAY_STATE_DIR": str(tmp_path / "state")}


def gameday(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameday.cli", *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        cwd=ROOT,
        env=gameday_env(tmp_path),
    )


def run_experiment(
    cluster: KubeCluster, tmp_path: Path, experiment: Path, target: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    report = tmp_path / "report"
    run = gameday(
        tmp_path,
        "run",
        str(experiment),
        "--target",
        str(target or cluster.target_file),
        "--yes",
        "--report-dir",
        str(report),
    )
    result_path = report / "result.json"
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    return run, result


def verdicts(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in result.get("expectations", [])}


def deployment(cluster: KubeCluster, name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        cluster.kubectl("-n", "shop", "get", "deployment", name, "-o", "json")
    )
    return found


def pod_names(cluster: KubeCluster, selector: str) -> set[str]:
    listed = json.loads(cluster.kubectl("-n", "shop", "get", "pods", "-l", selector, "-o", "json"))
    return {p["metadata"]["name"] for p in listed["items"]}


def network_policies(cluster: KubeCluster) -> list[str]:
    listed = json.loads(cluster.kubectl("-n", "shop", "get", "networkpolicies", "-o", "json"))
    return [p["metadata"]["name"] for p in listed["items"]]


def test_pod_kill_fires_routes_and_resolves_poddown(cluster: KubeCluster, tmp_path: Path) -> None:
    before = pod_names(cluster, "app=gateway")

    run, result = run_experiment(cluster, tmp_path, EXPERIMENTS / "pod-kill.yaml")

    assert run.returncode == 0, run.stdout + run.stderr
    assert result["status"] == "passed"
    found = verdicts(result)
    assert found["PodDown fires within 30s"]["passed"], found
    assert found["PodDown routed to oncall-pager within 30s"]["passed"], found
    assert result["measurements"]["mttd_s"]["PodDown"] < 30
    # The Deployment replaced the two killed pods: 3 available, 2 new names.
    assert deployment(cluster, "gateway")["status"]["availableReplicas"] == 3
    assert len(before - pod_names(cluster, "app=gateway")) == 2
    # Alertmanager really delivered the page, and the resolution after it.
    statuses = {
        d["status"] for d in cluster.deliveries("oncall-pager") if d["alertname"] == "PodDown"
    }
    assert statuses == {"firing", "resolved"}
    fault = [e for e in result["timeline"] if e["kind"] == "fault_applied"]
    assert fault and fault[0]["data"]["touches"] == "k8s:shop/pods/app=gateway"


def test_redis_down_scales_to_zero_and_back(cluster: KubeCluster, tmp_path: Path) -> None:
    run, result = run_experiment(cluster, tmp_path, EXPERIMENTS / "redis-down.yaml")

    assert run.returncode == 0, run.stdout + run.stderr
    found = verdicts(result)
    assert found["RedisDown routed to oncall-pager within 30s"]["passed"], found
    assert result["measurements"]["mttr_s"] is not None
    redis = deployment(cluster, "redis")
    assert redis["spec"]["replicas"] == 1
    assert redis["status"]["availableReplicas"] == 1
    assert any(d["alertname"] == "RedisDown" for d in cluster.deliveries("oncall-pager"))


def test_partition_creates_the_policy_and_heals_it(cluster: KubeCluster, tmp_path: Path) -> None:
    run, result = run_experiment(cluster, tmp_path, EXPERIMENTS / "partition.yaml")

    assert run.returncode == 0, run.stdout + run.stderr
    assert result["status"] == "passed"
    created = [e for e in result["timeline"] if e["kind"] == "fault_applied"]
    assert created[0]["data"]["policy"].startswith("gameday-partition-")
    assert network_policies(cluster) == []


def test_node_drain_moves_pods_and_uncordons(cluster: KubeCluster, tmp_path: Path) -> None:
    run, result = run_experiment(cluster, tmp_path, EXPERIMENTS / "node-drain.yaml")

    assert run.returncode == 0, run.stdout + run.stderr
    assert verdicts(result)["NodeUnschedulable (firing) delivered to team-chat within 30s"][
        "passed"
    ]
    node = json.loads(cluster.kubectl("get", "node", "kwok-node-0", "-o", "json"))
    assert not node["spec"].get("unschedulable", False)
    assert deployment(cluster, "gateway")["status"]["availableReplicas"] == 3


def test_a_namespace_outside_allow_is_refused_before_any_fault(
    cluster: KubeCluster, tmp_path: Path
) -> None:
    target = yaml.safe_load(cluster.target_file.read_text())
    target["allow"] = ["namespace:payments"]
    narrow = cluster.target_file.with_name("narrow-target.yaml")
    narrow.write_text(yaml.safe_dump(target))
    before = pod_names(cluster, "app=gateway")

    run, _ = run_experiment(cluster, tmp_path, EXPERIMENTS / "pod-kill.yaml", target=narrow)

    assert run.returncode == 2, run.stdout + run.stderr
    assert "k8s:shop/pods/app=gateway" in run.stderr
    assert pod_names(cluster, "app=gateway") == before


def every_fault_experiment(cluster: KubeCluster) -> dict[str, Any]:
    """Redis down, a partition, a cordon, GPU stress and camera flaps at once, then a
    wait that outlasts the test: only Ctrl-C ends it."""

    def action(title: str, func: str, **arguments: Any) -> dict[str, Any]:
        return {
            "type": "action",
            "name": title,
            "provider": {
                "type": "python",
                "module": "gameday.chaos.kubernetes.actions",
                "func": func,
                "arguments": arguments,
            },
        }

    return {
        "title": "every Kubernetes fault at once",
        "description": "interrupted mid-fault",
        "method": [
            action("redis down", "scale_to_zero", name="redis"),
            action("partition gateway", "partition_pods", label_selector="app=gateway"),
            action("cordon a node", "cordon_node", name="kwok-node-1"),
            action("gpu stress", "gpu_stress", image="gameday.local/gpu-burn:1", duration_s=600),
            action(
                "flap cameras", "flap_deployments", names=["camera"], times=50, down_s=2, up_s=2
            ),
            {
                "type": "probe",
                "name": "wait for an alert nobody raises",
                "provider": {
                    "type": "python",
                    "module": "gameday.chaos.alerts.probes",
                    "func": "alert_fires",
                    "arguments": {"alert": "NeverRaised", "within_s": 180},
                },
            },
        ],
    }


def test_ctrl_c_reverts_every_kubernetes_fault(cluster: KubeCluster, tmp_path: Path) -> None:
    path = tmp_path / "every-fault.yaml"
    path.write_text(yaml.safe_dump(every_fault_experiment(cluster), sort_keys=False))
    target = yaml.safe_load(cluster.target_file.read_text())
    target["allow"] = ["namespace:shop", "node:kwok-*"]

    def applied() -> bool:
        jobs = json.loads(cluster.kubectl("-n", "shop", "get", "jobs", "-o", "json"))["items"]
        return bool(jobs)

    code, output = interrupt_mid_fault(
        [
            "run",
            str(path),
            "--target",
            str(cluster.target_file),
            "--yes",
            "--report-dir",
            str(tmp_path / "report"),
        ],
        applied=applied,
        env=gameday_env(tmp_path),
        cwd=ROOT,
        timeout_s=90,
    )

    assert code == 130, output
    assert deployment(cluster, "redis")["status"].get("availableReplicas") == 1
    assert deployment(cluster, "camera")["spec"]["replicas"] == 2
    assert network_policies(cluster) == []
    node = json.loads(cluster.kubectl("get", "node", "kwok-node-1", "-o", "json"))
    assert not node["spec"].get("unschedulable", False)
    assert json.loads(cluster.kubectl("-n", "shop", "get", "jobs", "-o", "json"))["items"] == []
    ledger = tmp_path / "state" / "targets" / "local-control-plane" / "faults.json"
    assert json.loads(ledger.read_text()) == []


def test_gpu_stress_job_asks_for_a_gpu_and_is_deleted(
    cluster: KubeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GAMEDAY_STATE_DIR", str(tmp_path / "state"))
    configuration = {"gameday_target": str(cluster.target_file)}

    actions.gpu_stress(image="gameday.local/gpu-burn:1", gpus=1, configuration=configuration)
    job = json.loads(
        cluster.kubectl("-n", "shop", "get", "job", "gameday-gpu-stress", "-o", "json")
    )
    limits = job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits == {"nvidia.com/gpu": "1"}
    # Only the GPU node can take it: the scheduler put it there.
    cluster.wait_until(
        "the GPU pod scheduled on kwok-gpu-0", lambda: _job_pod_node(cluster) == "kwok-gpu-0"
    )

    actions.stop_gpu_stress(configuration=configuration)
    assert json.loads(cluster.kubectl("-n", "shop", "get", "jobs", "-o", "json"))["items"] == []


def _job_pod_node(cluster: KubeCluster) -> str | None:
    pods = json.loads(
        cluster.kubectl(
            "-n", "shop", "get", "pods", "-l", "job-name=gameday-gpu-stress", "-o", "json"
        )
    )["items"]
    return pods[0]["spec"].get("nodeName") if pods else None


def test_probes_read_the_cluster(
    cluster: KubeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GAMEDAY_STATE_DIR", str(tmp_path / "state"))
    configuration = {"gameday_target": str(cluster.target_file)}

    assert probes.replicas_available("gateway", configuration=configuration) == 3
    assert probes.pods_ready("app=camera", configuration=configuration) == 2
    assert probes.pod_restarts("app=gateway", configuration=configuration) == 0
    actions.scale_to_zero("camera", configuration=configuration)
    cluster.wait_until(
        "camera at 0 available",
        lambda: probes.replicas_available("camera", configuration=configuration) == 0,
    )
    scaled = probes.recent_events(
        reason="ScalingReplicaSet", since_s=60, configuration=configuration
    )
    assert any("camera" in (e["object"] or "") for e in scaled), scaled
    actions.scale_back("camera", configuration=configuration)
    assert probes.workload_restored("camera", within_s=30, configuration=configuration)


def test_camera_flaps_warn_and_recover(cluster: KubeCluster, tmp_path: Path) -> None:
    run, result = run_experiment(cluster, tmp_path, EXPERIMENTS / "camera-flap.yaml")

    assert run.returncode == 0, run.stdout + run.stderr
    assert verdicts(result)["CameraFeedDown (firing) delivered to team-chat within 30s"]["passed"]
    assert deployment(cluster, "camera")["status"]["availableReplicas"] == 2
    assert any(d["alertname"] == "CameraFeedDown" for d in cluster.deliveries("team-chat"))
