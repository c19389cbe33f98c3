"""Locust workers as pods in the target's cluster (`workers: N, workers_in: cluster`).

Without a cluster: the ConfigMap and Deployment gameday creates, the master bound to
`master_host`, the arguments checked before anything runs, a worker's exit read from its
pod's status, the cluster refused on a target that is no cluster; and the pod's own files
and arguments run as local processes against gameday's master (they connect and make
requests). On the tests' real control plane (tests/kube_cluster.py): the objects created
with 2 pods, the master's wait failing with how many connected and where the pods are, a
crash-looping pod stopping the start, and everything removed afterwards, also by a later
process from the fault ledger; and examples/kubernetes/load-in-cluster.yaml through the CLI
with its master bound to $POD_IP.

NOT proven here: that worker pods connect to the master and generate load. The control
plane's nodes are kwok's fake nodes: pods become Running and Ready but no container runs,
so no Locust runs in them, and the CrashLoopBackOff below is written into a pod's status
by the test, as a kubelet would. What would run in a pod is proven only as local processes
with the same files and arguments.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from chaoslib.exceptions import InterruptExecution
from kubernetes.client import V1ConfigMap, V1Deployment, V1Pod
from prometheus_client.parser import text_string_to_metric_families
from tests.kube_cluster import CONTEXT, NAMESPACE, KubeCluster

from gameday.chaos.load.control import before_experiment_control
from gameday.context import RunContext
from gameday.errors import EnvironmentProblem, InvalidInputError
from gameday.experiment import check_experiment, read_experiment
from gameday.load.client_monitor import free_port
from gameday.load.cluster_workers import (
    MOUNT,
    POD_PLUGIN,
    ClusterWorkers,
    PodExit,
    pod_exit,
    remove_workers,
)
from gameday.load.locust_process import (
    EXPORTER,
    WATCHDOG,
    LoadProfile,
    LocalWorkers,
    LocustProcess,
)
from gameday.load.placement import InCluster, parse_placement
from gameday.record.ledger import FaultLedger
from gameday.record.timeline import Timeline
from gameday.report.result_file import read_result
from gameday.targets import Target
from gameday.targets.file import read_target_file

REPO = Path(__file__).resolve().parents[2]
REDIS_DOWN = REPO / "experiments" / "redis-down.yaml"
EXAMPLE = REPO / "examples" / "kubernetes" / "load-in-cluster.yaml"
LOCUST_VERSION = importlib.metadata.version("locust")
MANAGED = "app.kubernetes.io/managed-by=gameday"

VISITOR = """
from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0.05)

    @task
    def index(self):
        self.client.get("/")
"""


@pytest.fixture
def locustfile(tmp_path: Path) -> Path:
    path = tmp_path / "visit.py"
    path.write_text(VISITOR)
    return path


def _workers(locustfile: Path, tmp_path: Path, **given: Any) -> ClusterWorkers:
    settings: dict[str, Any] = {
        "count": 3,
        "locustfile": locustfile,
        "master_host": "10.1.2.3",
        "master_port": 5557,
        "namespace": "shop",
        "workdir": tmp_path / "load",
        "name": "abc123",
    }
    return ClusterWorkers(**(settings | given))


# --- the objects gameday creates -----------------------------------------------------------


def test_the_configmap_holds_the_locustfile_and_the_report_plugin_only(
    locustfile: Path, tmp_path: Path
) -> None:
    config_map = _workers(locustfile, tmp_path).config_map()
    assert config_map["metadata"] == {
        "name": "gameday-locust-abc123",
        "namespace": "shop",
        "labels": {"app.kubernetes.io/managed-by": "gameday", "gameday.dev/load": "abc123"},
    }
    # gameday's exporter needs prometheus_client (not in Locust's image) and its watchdog a
    # gameday process in the pod: both stay with the master.
    assert config_map["data"] == {
        "visit.py": VISITOR,
        "locust_pod_worker.py": POD_PLUGIN.read_text(),
    }
    assert EXPORTER.name not in config_map["data"] and WATCHDOG.name not in config_map["data"]
    assert V1ConfigMap.from_dict(config_map) is not None


def test_the_deployment_runs_n_workers_of_the_locust_image_for_the_master(
    locustfile: Path, tmp_path: Path
) -> None:
    deployment = _workers(locustfile, tmp_path).deployment()
    labels = {"app.kubernetes.io/managed-by": "gameday", "gameday.dev/load": "abc123"}
    assert deployment["metadata"] == {
        "name": "gameday-locust-workers-abc123",
        "namespace": "shop",
        "labels": labels,
    }
    spec = deployment["spec"]
    assert spec["replicas"] == 3
    assert spec["selector"] == {"matchLabels": {"gameday.dev/load": "abc123"}}
    assert spec["template"]["metadata"]["labels"] == labels
    [container] = spec["template"]["spec"]["containers"]
    assert container["image"] == f"locustio/locust:{LOCUST_VERSION}"
    assert "command" not in container  # the image's entrypoint is locust
    assert container["args"] == [
        "-f",
        f"{MOUNT}/visit.py,{MOUNT}/locust_pod_worker.py",
        "--worker",
        "--master-host",
        "10.1.2.3",
        "--master-port",
        "5557",
        "--loglevel",
        "WARNING",
    ]
    assert container["volumeMounts"] == [
        {"name": "locustfile", "mountPath": "/mnt/locust", "readOnly": True}
    ]
    assert spec["template"]["spec"]["volumes"] == [
        {"name": "locustfile", "configMap": {"name": "gameday-locust-abc123"}}
    ]
    model = V1Deployment.from_dict(deployment)
    assert model is not None and model.spec is not None and model.spec.replicas == 3


def test_the_image_is_the_users_and_an_odd_file_name_gets_a_plain_key(tmp_path: Path) -> None:
    odd = tmp_path / "my load test.py"
    odd.write_text(VISITOR)
    workers = _workers(odd, tmp_path, image="registry.internal/locust:custom", count=1)
    [container] = workers.deployment()["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.internal/locust:custom"
    assert container["args"][1] == f"{MOUNT}/locustfile.py,{MOUNT}/locust_pod_worker.py"
    assert set(workers.config_map()["data"]) == {"locustfile.py", "locust_pod_worker.py"}


def test_the_ledger_revert_is_a_module_function_with_plain_values(
    locustfile: Path, tmp_path: Path
) -> None:
    workers = _workers(locustfile, tmp_path, kubeconfig="/k/config", context="staging")
    assert workers.revert == {
        "module": "gameday.load.cluster_workers",
        "func": "remove_workers",
        "arguments": {
            "name": "abc123",
            "namespace": "shop",
            "kubeconfig": "/k/config",
            "context": "staging",
            "in_cluster": False,
        },
    }
    json.dumps(workers.revert)  # a later process reads it back


def test_the_master_binds_master_host_and_expects_every_pod(
    locustfile: Path, tmp_path: Path
) -> None:
    workers = _workers(locustfile, tmp_path)
    process = LocustProcess(
        profile=LoadProfile(locustfile=locustfile, host="http://h:1", workers=3),
        metrics_port=9646,
        workdir=tmp_path,
        workers=workers,
    )
    command = process.command()
    assert command[command.index("--master-bind-host") + 1] == "10.1.2.3"
    assert command[command.index("--master-bind-port") + 1] == "5557"
    assert command[command.index("--expect-workers") + 1] == "3"
    assert process.workers is workers and process.pids == {} and workers.pids == []
    here = LocustProcess(
        profile=LoadProfile(locustfile=locustfile, host="http://h:1", workers=2),
        metrics_port=9646,
        workdir=tmp_path,
    )
    assert isinstance(here.workers, LocalWorkers)
    assert here.command()[here.command().index("--master-bind-host") + 1] == "127.0.0.1"


# --- a worker's exit, from its pod's status ------------------------------------------------


def _pod(phase: str, **container: Any) -> V1Pod:
    return V1Pod.from_dict(
        {
            "metadata": {"name": "w-1"},
            "status": {
                "phase": phase,
                "reason": "Evicted" if phase == "Failed" else None,
                "containerStatuses": [
                    {"name": "locust-worker", "image": "i", "imageID": "", "ready": False}
                    | {"restartCount": 0}
                    | container
                ],
            },
        }
    )  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        (
            _pod("Failed", state={"terminated": {"exitCode": 137}}),
            PodExit("w-1", "Evicted", 137),
        ),
        (
            _pod(
                "Running",
                state={"waiting": {"reason": "CrashLoopBackOff"}},
                lastState={"terminated": {"exitCode": 2}},
            ),
            PodExit("w-1", "CrashLoopBackOff", 2),
        ),
        (
            _pod("Running", state={"waiting": {"reason": "CrashLoopBackOff"}}),
            PodExit("w-1", "CrashLoopBackOff", None),
        ),
        (_pod("Running", state={"running": {}}), None),
        (_pod("Pending", state={"waiting": {"reason": "ImagePullBackOff"}}), None),
        (_pod("Succeeded", state={"terminated": {"exitCode": 0}}), None),
    ],
    ids=["failed", "crash loop", "crash loop, no code", "running", "pulling", "succeeded"],
)
def test_a_failed_or_crash_looping_pod_is_a_worker_that_exited(
    pod: V1Pod, expected: PodExit | None
) -> None:
    assert pod_exit(pod) == expected


# --- the arguments, checked before anything runs --------------------------------------------


def test_local_is_the_default_and_cluster_takes_an_address_and_an_image() -> None:
    assert parse_placement(workers=2) is None
    assert parse_placement(workers=2, workers_in="cluster", master_host="10.0.0.7") == (
        InCluster(master_host="10.0.0.7", image=f"locustio/locust:{LOCUST_VERSION}")
    )
    given = parse_placement(
        workers=1, workers_in="cluster", master_host="${pod_ip}", worker_image="me/locust:1"
    )
    assert given == InCluster(master_host="${pod_ip}", image="me/locust:1")


@pytest.mark.parametrize(
    ("given", "where", "message"),
    [
        (
            {"workers_in": "pods"},
            "workers_in",
            "workers_in must be 'local' or 'cluster', not 'pods'",
        ),
        ({"workers_in": "cluster"}, "master_host", "workers_in: cluster needs master_host"),
        (
            {"workers_in": "cluster", "master_host": "10.0.0.7", "workers": 0},
            "workers",
            "workers_in: cluster needs workers: 1 or more, not 0",
        ),
        ({"master_host": "10.0.0.7"}, "master_host", "master_host applies to workers_in: cluster"),
        ({"worker_image": "x:1"}, "worker_image", "worker_image applies to workers_in: cluster"),
        (
            {"workers_in": "cluster", "master_host": "a host"},
            "master_host",
            "master_host must be an IP address or a host name, not 'a host'",
        ),
    ],
)
def test_bad_placements_are_refused_with_exit_2(
    given: dict[str, Any], where: str, message: str
) -> None:
    arguments: dict[str, Any] = {"workers": 2} | given
    with pytest.raises(InvalidInputError) as caught:
        parse_placement(**arguments)
    assert caught.value.exit_code == 2
    assert message in caught.value.message
    assert caught.value.where == f"controls.load.provider.arguments.{where}"


def test_an_experiment_asking_cluster_workers_without_master_host_is_refused_at_its_place(
    tmp_path: Path,
) -> None:
    document = yaml.safe_load(REDIS_DOWN.read_text())
    arguments = document["controls"][0]["provider"]["arguments"]
    arguments |= {"workers": 2, "workers_in": "cluster"}
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(InvalidInputError) as caught:
        check_experiment(read_experiment(path))
    assert caught.value.message.startswith(
        f"{path}:controls[0].provider.arguments.master_host: workers_in: cluster needs master_host"
    )
    arguments["master_host"] = "${pod_ip}"  # substituted by Chaos Toolkit at run time
    path.write_text(yaml.safe_dump(document))
    check_experiment(read_experiment(path))


def test_cluster_workers_on_a_target_that_is_no_cluster_stop_the_run_before_any_load(
    locustfile: Path,
) -> None:
    target = Target(
        prometheus_url="http://127.0.0.1:9",
        sink_url=None,
        lab=None,
        kind="external",
        name="staging",
        load_host="http://127.0.0.1:9",
    )
    run = RunContext(timeline=Timeline(), target=target)
    with run.activated(), pytest.raises(InterruptExecution) as caught:
        before_experiment_control(
            {},
            locustfile=str(locustfile),
            workers=2,
            workers_in="cluster",
            master_host="10.0.0.7",
        )
    why = (
        "load control: workers_in: cluster needs a kind: kubernetes target; target 'staging' "
        "is external"
    )
    assert str(caught.value) == why
    assert [e["detail"] for e in run.timeline.events if e["kind"] == "error"] == [why]
    assert run.load is None


# --- what runs in a pod, run here as processes -----------------------------------------------


def _metrics(port: int) -> dict[str, float]:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=3).text
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name] = found.get(sample.name, 0.0) + sample.value
    return found


def test_the_pods_files_and_arguments_connect_to_gameday_s_master_and_make_requests(
    locustfile: Path, tmp_path: Path, service: str
) -> None:
    """The ConfigMap's files, written where the pod would mount them, and the Deployment's
    arguments, run as two local worker processes (not pods: see the module's docstring)."""
    master_port = free_port()
    pods = _workers(locustfile, tmp_path, count=2, master_host="127.0.0.1", master_port=master_port)
    mount = tmp_path / "mnt-locust"
    mount.mkdir()
    for key, content in pods.config_map()["data"].items():
        (mount / key).write_text(content)
    files = pods.arguments()[1].replace(MOUNT, str(mount))
    here = LocalWorkers(count=2, files=files, master_port=master_port, workdir=tmp_path / "load")
    assert here.command()[3:] == ["-f", files, *pods.arguments()[2:]]  # `python -m locust` + args
    metrics_port = free_port()
    process = LocustProcess(
        profile=LoadProfile(locustfile=locustfile, host=service, users=4, spawn_rate=4, workers=2),
        metrics_port=metrics_port,
        workdir=tmp_path / "load",
        workers=here,
    )
    process.start()
    try:
        assert _eventually(lambda: _metrics(metrics_port).get("locust_requests_total", 0) > 0)
        assert _metrics(metrics_port)["locust_workers_connected"] == 2
    finally:
        summary = process.stop()
    assert summary is not None and summary["requests"] > 0


def test_the_pod_plugin_makes_workers_report_every_second() -> None:
    script = textwrap.dedent(
        f"""
        import runpy
        import locust.runners
        runpy.run_path({str(POD_PLUGIN)!r})
        print(locust.runners.WORKER_REPORT_INTERVAL)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1.0"


def _eventually(check: Callable[[], bool], within_s: float = 20.0) -> bool:
    deadline = time.monotonic() + within_s
    while not check() and time.monotonic() < deadline:
        time.sleep(0.25)
    return check()


# --- on a real control plane (kwok nodes: no container runs) ---------------------------------


def _ours(cluster: KubeCluster) -> dict[str, list[dict[str, Any]]]:
    """gameday's objects in the shop, by kind."""
    kinds = "configmaps,deployments,replicasets,pods"
    out = cluster.kubectl("get", kinds, "-n", NAMESPACE, "-l", MANAGED, "-o", "json")
    found: dict[str, list[dict[str, Any]]] = {}
    for item in json.loads(out)["items"]:
        found.setdefault(item["kind"], []).append(item)
    return found


def _running(pods: list[dict[str, Any]]) -> int:
    return sum(
        1
        for pod in pods
        if not pod["metadata"].get("deletionTimestamp")
        and pod.get("status", {}).get("phase") == "Running"
    )


class Watcher(threading.Thread):
    """Keeps the most complete view of gameday's objects (and the ledger) seen while the
    load control waits."""

    def __init__(self, cluster: KubeCluster, ledger: FaultLedger) -> None:
        super().__init__(daemon=True)
        self.cluster, self.ledger = cluster, ledger
        self.best: dict[str, list[dict[str, Any]]] = {}
        self.entries: list[Any] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            found = _ours(self.cluster)
            more = _running(found.get("Pod", [])) >= _running(self.best.get("Pod", []))
            if more and found.get("Deployment"):
                self.best = found
            self.entries = self.entries or self.ledger.entries()
            time.sleep(0.5)


@pytest.mark.timeout(240)
def test_pods_that_never_connect_fail_the_masters_wait_and_leave_nothing_behind(
    kube_cluster: KubeCluster, locustfile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GAMEDAY_STATE_DIR", str(tmp_path / "state"))
    target = read_target_file(kube_cluster.target_file)
    ledger = target.own_ledger()
    assert ledger is not None and ledger.entries() == []
    run = RunContext(timeline=Timeline(), target=target, ledger=ledger)
    watcher = Watcher(kube_cluster, ledger)
    watcher.start()
    try:
        with run.activated(), pytest.raises(InterruptExecution) as caught:
            before_experiment_control(
                {},
                locustfile=str(locustfile),
                host="http://127.0.0.1:9",
                users=4,
                workers=2,
                workers_in="cluster",
                master_host="127.0.0.1",
                export_metrics=False,
                warmup_s=0,
            )
    finally:
        watcher.done.set()
        watcher.join(timeout=10)
    message = str(caught.value)
    assert "load did not start: 0 of 2 locust workers connected to the master in 30s" in message
    assert f"the worker pods are in namespace {NAMESPACE} (2 Running)" in message
    assert "connect to the master at 127.0.0.1:" in message
    # While the master waited: the ConfigMap, the Deployment and 2 pods kwok made Running,
    # and their removal in the target's ledger.
    seen = watcher.best
    [config_map] = seen["ConfigMap"]
    [deployment] = seen["Deployment"]
    name = config_map["metadata"]["labels"]["gameday.dev/load"]
    assert config_map["metadata"]["name"] == f"gameday-locust-{name}"
    assert config_map["data"][locustfile.name] == VISITOR
    assert deployment["metadata"]["name"] == f"gameday-locust-workers-{name}"
    assert deployment["spec"]["replicas"] == 2
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"locustio/locust:{LOCUST_VERSION}"
    assert container["args"][2:5] == ["--worker", "--master-host", "127.0.0.1"]
    assert _running(seen["Pod"]) == 2
    [entry] = watcher.entries
    assert entry["revert"]["func"] == "remove_workers"
    assert entry["revert"]["arguments"]["name"] == name
    # Afterwards: nothing of gameday's left in the cluster, the ledger empty.
    assert _ours(kube_cluster) == {}
    assert ledger.entries() == []
    errors = [e["detail"] for e in run.timeline.events if e["kind"] == "error"]
    assert len(errors) == 1 and errors[0].startswith("load did not start: 0 of 2")
    assert run.load is None


@pytest.mark.timeout(240)
def test_a_crash_looping_worker_pod_stops_the_start_naming_the_pod(
    kube_cluster: KubeCluster, locustfile: Path, tmp_path: Path
) -> None:
    """kwok runs no container: the test writes CrashLoopBackOff into one pod's status,
    as a kubelet would for a worker that keeps exiting with code 3."""
    ledger = FaultLedger(tmp_path / "faults.json")
    pods = ClusterWorkers(
        count=2,
        locustfile=locustfile,
        master_host="127.0.0.1",
        master_port=free_port(),
        namespace=NAMESPACE,
        workdir=tmp_path / "load",
        kubeconfig=str(kube_cluster.kubeconfig),
        context=CONTEXT,
        ledger=ledger,
    )
    process = LocustProcess(
        profile=LoadProfile(locustfile=locustfile, host="http://127.0.0.1:9", workers=2),
        metrics_port=free_port(),
        workdir=tmp_path / "load",
        start_timeout_s=60,
        workers=pods,
    )

    def crash_one() -> None:
        selector = f"gameday.dev/load={pods.name}"

        def listed() -> list[dict[str, Any]]:
            out = kube_cluster.kubectl("get", "pods", "-n", NAMESPACE, "-l", selector, "-o", "json")
            items: list[dict[str, Any]] = json.loads(out)["items"]
            return items

        kube_cluster.wait_until("a worker pod Running", lambda: _running(listed()) >= 1, 30)
        pod = next(p for p in listed() if p["status"].get("phase") == "Running")
        crashed = {
            "name": "locust-worker",
            "image": pods.image,
            "imageID": "",
            "ready": False,
            "restartCount": 3,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
            "lastState": {
                "terminated": {
                    "exitCode": 3,
                    "reason": "Error",
                    "startedAt": "2026-01-01T00:00:00Z",
                    "finishedAt": "2026-01-01T00:00:01Z",
                }
            },
        }
        kube_cluster.kubectl(
            "patch", "pod", pod["metadata"]["name"], "-n", NAMESPACE, "--subresource=status",
            "--type=strategic", "-p", json.dumps({"status": {"containerStatuses": [crashed]}}),
        )  # fmt: skip
        crashed_pod.append(pod["metadata"]["name"])

    crashed_pod: list[str] = []
    patcher = threading.Thread(target=crash_one, daemon=True)
    started = time.monotonic()
    patcher.start()
    with pytest.raises(EnvironmentProblem) as caught:
        process.start()
    patcher.join(timeout=30)
    assert time.monotonic() - started < 45, "the crash was seen only at the deadline"
    [name] = crashed_pod
    assert caught.value.message.startswith("a locust worker exited with code 3: ")
    assert f"pod {name} in namespace {NAMESPACE}: CrashLoopBackOff (exit code 3)" in (
        caught.value.message
    )
    description = tmp_path / "load" / f"locust-worker-{name}.log"
    assert caught.value.hint == f"see {description}"
    assert _ours(kube_cluster) == {} and ledger.entries() == []


@pytest.mark.timeout(240)
def test_a_later_process_removes_what_a_crashed_gameday_left_from_the_ledger(
    kube_cluster: KubeCluster, locustfile: Path, tmp_path: Path
) -> None:
    ledger = FaultLedger(tmp_path / "faults.json")
    pods = ClusterWorkers(
        count=2,
        locustfile=locustfile,
        master_host="127.0.0.1",
        master_port=5557,
        namespace=NAMESPACE,
        workdir=tmp_path / "load",
        kubeconfig=str(kube_cluster.kubeconfig),
        context=CONTEXT,
        ledger=ledger,
    )
    pods.start({})  # and never stopped: gameday "crashed"
    kube_cluster.wait_until(
        "2 worker pods Running", lambda: _running(_ours(kube_cluster).get("Pod", [])) == 2, 60
    )
    [entry] = ledger.entries()
    assert entry["revert"]["module"] == remove_workers.__module__
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from gameday.record.ledger import FaultLedger
        outcomes = FaultLedger(Path({str(ledger.path)!r})).revert_all()
        print([error for _, error in outcomes])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[None]"
    assert _ours(kube_cluster) == {}
    assert ledger.entries() == []
    remove_workers(  # once more: nothing to remove is no error
        pods.name, NAMESPACE, str(kube_cluster.kubeconfig), CONTEXT, timeout_s=10
    )


@pytest.mark.timeout(300)
def test_the_example_binds_the_master_to_pod_ip_and_a_failed_start_leaves_nothing(
    kube_cluster: KubeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """examples/kubernetes/load-in-cluster.yaml through the CLI, with $POD_IP as the
    CronJob's downward API sets it: the master binds it, the 4 worker pods are created,
    none connects (kwok), the run stops before any fault and leaves nothing."""
    monkeypatch.setenv("GAMEDAY_STATE_DIR", str(tmp_path / "state"))
    report = tmp_path / "report"
    command = [sys.executable, "-m", "gameday.cli", "run", "-q", str(EXAMPLE), "--yes"]
    command += ["--target", str(kube_cluster.target_file), "--report-dir", str(report)]
    done = subprocess.run(
        command,
        cwd=REPO,
        env={**os.environ, "POD_IP": "127.0.0.1"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode != 0, done.stdout + done.stderr
    assert (
        "load did not start: 0 of 4 locust workers connected to the master in 30s; the worker "
        f"pods are in namespace {NAMESPACE} (4 Running) and connect to the master at 127.0.0.1:"
    ) in done.stderr, done.stderr
    result = read_result(report)
    assert not any(e["kind"] == "fault_applied" for e in result["timeline"])
    assert result["load"] is None
    assert _ours(kube_cluster) == {}
    ledger = read_target_file(kube_cluster.target_file).own_ledger()
    assert ledger is not None and ledger.path.is_relative_to(tmp_path / "state")
    assert ledger.entries() == []
