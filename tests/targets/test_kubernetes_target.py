"""kind: kubernetes target files, what Kubernetes activities touch, and how `allow` judges
it; refusals come before anything reaches a cluster (no cluster is needed here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from chaoslib.exceptions import ActivityFailed

from gameday.chaos.kubernetes.selectors import equality_labels
from gameday.engine.preflight import check_against_target, check_fault_kinds
from gameday.errors import InvalidInputError
from gameday.experiment import read_experiment
from gameday.targets.file import read_target_file
from gameday.targets.kubernetes import KubeAccess, activity_touches, in_namespace

ROOT = Path(__file__).resolve().parents[2]
KUBE_EXPERIMENTS = sorted((ROOT / "experiments" / "kubernetes").glob("*.yaml"))
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: not-used}}]
contexts: [{name: staging, context: {cluster: c, user: u}}]
current-context: staging
"""


def write_target(directory: Path, **kubernetes: Any) -> Path:
    (directory / "kubeconfig").write_text(KUBECONFIG, encoding="utf-8")
    document = {
        "kind": "kubernetes",
        "name": "staging",
        "kubernetes": {"kubeconfig": "kubeconfig", "namespace": "shop", **kubernetes},
        "prometheus": {"url": "http://127.0.0.1:9"},
        "allow": ["namespace:shop", "node:pool-a-*"],
    }
    path = directory / "target.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_a_kubernetes_target_reads_its_access_and_namespace(tmp_path: Path) -> None:
    target = read_target_file(write_target(tmp_path, context="staging"))

    assert target.kind == "kubernetes"
    assert target.kubernetes == KubeAccess(
        kubeconfig=str((tmp_path / "kubeconfig").resolve()), context="staging", namespace="shop"
    )
    assert target.own_ledger() is not None  # its faults record reverts like containers'


def test_kubeconfig_defaults_to_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_target(tmp_path)
    document = yaml.safe_load(path.read_text())
    del document["kubernetes"]["kubeconfig"]
    path.write_text(yaml.safe_dump(document))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))

    assert read_target_file(path).kubernetes.kubeconfig == str(tmp_path / "kubeconfig")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        ({"kubeconfig": "missing.yaml"}, "kubernetes.kubeconfig", "not found"),
        ({"namespace": "Shop_1"}, "kubernetes.namespace", "not a Kubernetes namespace"),
        ({"in_cluster": "yes"}, "kubernetes.in_cluster", "true or false"),
        ({"in_cluster": True}, "kubernetes.kubeconfig", "does not apply"),
        ({"cluster": "x"}, "kubernetes.cluster", "unknown key"),
    ],
)
def test_bad_kubernetes_keys_are_refused(
    tmp_path: Path, change: dict[str, Any], where: str, says: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_target_file(write_target(tmp_path, **change))

    assert caught.value.where == where
    assert says in caught.value.message
    assert caught.value.exit_code == 2


def test_kubernetes_key_on_another_kind_is_refused(tmp_path: Path) -> None:
    path = write_target(tmp_path)
    document = yaml.safe_load(path.read_text())
    document["kind"] = "external"
    path.write_text(yaml.safe_dump(document))

    with pytest.raises(InvalidInputError) as caught:
        read_target_file(path)
    assert caught.value.where == "kubernetes"


@pytest.mark.parametrize(
    ("module", "func", "arguments", "touches"),
    [
        (
            "gameday.chaos.kubernetes.actions",
            "terminate_pods",
            {"label_selector": "app=gateway"},
            "k8s:/pods/app=gateway",
        ),
        (
            "gameday.chaos.kubernetes.actions",
            "scale_to_zero",
            {"name": "redis", "kind": "StatefulSet", "ns": "data"},
            "k8s:data/statefulset/redis",
        ),
        (
            "gameday.chaos.kubernetes.actions",
            "flap_deployments",
            {"names": ["cam-a", "cam-b"]},
            "k8s:/deployment/cam-a,cam-b",
        ),
        ("gameday.chaos.kubernetes.actions", "drain_node", {"name": "n1"}, "k8s:node/n1"),
        (
            "gameday.chaos.kubernetes.actions",
            "gpu_stress",
            {"image": "x"},
            "k8s:/job/gameday-gpu-stress",
        ),
        # chaosk8s' own activities, with chaosk8s' own default namespace
        (
            "chaosk8s.pod.actions",
            "terminate_pods",
            {"label_selector": "app=a"},
            "k8s:default/pods/app=a",
        ),
        (
            "chaosk8s.deployment.actions",
            "scale_deployment",
            {"name": "web", "ns": "shop"},
            "k8s:shop/deployment/web",
        ),
        ("chaosk8s.node.actions", "cordon_node", {"name": "n2"}, "k8s:node/n2"),
    ],
)
def test_what_kubernetes_activities_touch(
    module: str, func: str, arguments: dict[str, Any], touches: str
) -> None:
    assert activity_touches(module, func, arguments) == touches


def test_allow_patterns_for_kubernetes(tmp_path: Path) -> None:
    target = read_target_file(write_target(tmp_path))
    shop = "shop"

    assert target.allows(in_namespace("k8s:/pods/app=gateway", shop))
    assert target.allows("k8s:shop/deployment/redis")
    assert not target.allows("k8s:kube-system/pods/k8s-app=kube-dns")
    assert target.allows("k8s:node/pool-a-3")
    assert not target.allows("k8s:node/pool-b-1")

    narrow = read_target_file(write_target(tmp_path))
    narrow = type(narrow)(**{**narrow.__dict__, "allow": ("selector:shop/tier=cache,app=redis",)})
    assert narrow.allows("k8s:shop/pods/app=redis, tier=cache")
    assert not narrow.allows("k8s:shop/pods/app=redis")
    assert not narrow.allows("k8s:other/pods/app=redis,tier=cache")


@pytest.mark.parametrize("path", KUBE_EXPERIMENTS, ids=lambda p: p.name)
def test_the_kubernetes_experiments_are_refused_on_the_lab(path: Path) -> None:
    experiment = read_experiment(path)
    with pytest.raises(InvalidInputError) as caught:
        check_fault_kinds(experiment, "lab", "lab", {"node": "kwok-node-0"}, {})
    assert "needs a kubernetes target" in caught.value.message


@pytest.mark.parametrize("path", KUBE_EXPERIMENTS, ids=lambda p: p.name)
def test_the_kubernetes_experiments_pass_the_preflight_within_their_namespace(
    tmp_path: Path, path: Path
) -> None:
    target = read_target_file(write_target(tmp_path))
    check_against_target(read_experiment(path), target, {"node": "pool-a-0"}, {})


def test_a_fault_outside_the_namespace_is_refused(tmp_path: Path) -> None:
    path = write_target(tmp_path)
    document = yaml.safe_load(path.read_text())
    document["allow"] = ["namespace:payments"]
    path.write_text(yaml.safe_dump(document))

    with pytest.raises(InvalidInputError) as caught:
        check_against_target(
            read_experiment(ROOT / "experiments" / "kubernetes" / "pod-kill.yaml"),
            read_target_file(path),
        )
    assert "k8s:shop/pods/app=gateway" in caught.value.message
    assert caught.value.exit_code == 2


def test_partition_selectors_are_equality_terms() -> None:
    assert equality_labels("app=redis, tier==cache") == {"app": "redis", "tier": "cache"}
    for bad in ("app in (redis)", "app!=redis", "!app", ""):
        with pytest.raises(ActivityFailed):
            equality_labels(bad)


def test_workers_as_pods_need_a_kubernetes_target(tmp_path: Path) -> None:
    path = tmp_path / "load-in-pods.yaml"
    document = yaml.safe_load((ROOT / "experiments" / "kubernetes" / "pod-kill.yaml").read_text())
    document["controls"] = [
        {
            "name": "load",
            "provider": {
                "type": "python",
                "module": "gameday.chaos.load.control",
                "arguments": {
                    "locustfile": str(ROOT / "loadtests" / "lab_api.py"),
                    "workers": 2,
                    "workers_in": "cluster",
                    "master_host": "10.0.0.5",
                },
            },
        }
    ]
    path.write_text(yaml.safe_dump(document))
    check_against_target(read_experiment(path), read_target_file(write_target(tmp_path)))

    # The same load with no Kubernetes fault, on a containers target: refused for the load.
    document["method"] = document["method"][1:2]
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(InvalidInputError) as caught:
        check_fault_kinds(read_experiment(path), "containers", "shop-ci")
    assert caught.value.where == "controls[0].provider.arguments.workers_in"
