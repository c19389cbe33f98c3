"""The lab's parts: what runs, from which binary, on which address, in which order."""

from __future__ import annotations

import sys
from pathlib import Path

from gameday.lab.config import ETCD_MEMBERS, GATEWAY_REPLICAS, HOST, LabConfig
from gameday.lab.supervisor import Part, Program

APT = "apt-get install -y --no-install-recommends"
SYSTEM_PYTHON = "/usr/bin/python3"
CAMERA_PACKAGES = (
    "gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good "
    "gstreamer1.0-plugins-ugly gstreamer1.0-tools gstreamer1.0-rtsp python3-gst-1.0"
)


def camera_script() -> Path:
    """The standalone camera server, run by the system interpreter (only it has `gi`)."""
    return Path(__file__).with_name("camera.py")


def _python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def lab_parts(config: LabConfig, *, prometheus_yml: Path, alertmanager_yml: Path) -> list[Part]:
    """Every part of the lab; lower priority starts first and stops last."""
    ports = config.ports
    lab_json = str(config.config_file)
    data = config.data
    member_names = [f"etcd-{i}" for i in range(ETCD_MEMBERS)]
    initial_cluster = ",".join(
        f"{name}=http://{HOST}:{port}"
        for name, port in zip(member_names, ports.etcd_peer_proxy, strict=True)
    )
    return [
        Part(
            name="sink",
            binary=sys.executable,
            install_hint="reinstall gameday",
            programs=(
                Program(
                    name="sink",
                    command=_python_module(
                        "gameday.observe.sink",
                        "--file",
                        str(config.notifications_file),
                        "--port",
                        str(ports.sink),
                    ),
                    address=f"{HOST}:{ports.sink}",
                    priority=100,
                ),
            ),
        ),
        Part(
            name="redis",
            binary="redis-server",
            install_hint=f"{APT} redis-server",
            programs=(
                Program(
                    name="redis",
                    command=[
                        "redis-server",
                        "--port",
                        str(ports.redis),
                        "--bind",
                        HOST,
                        "--dir",
                        str(data / "redis"),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--daemonize",
                        "no",
                    ],
                    address=f"{HOST}:{ports.redis}",
                    priority=200,
                ),
            ),
        ),
        Part(
            name="redis-exporter",
            binary="prometheus-redis-exporter",
            install_hint=f"{APT} prometheus-redis-exporter",
            programs=(
                Program(
                    name="redis-exporter",
                    command=[
                        "prometheus-redis-exporter",
                        f"-redis.addr=redis://{HOST}:{ports.redis}",
                        f"-web.listen-address={HOST}:{ports.redis_exporter}",
                    ],
                    address=f"{HOST}:{ports.redis_exporter}",
                    priority=300,
                ),
            ),
        ),
        Part(
            name="peer-proxy",
            binary=sys.executable,
            install_hint="reinstall gameday",
            programs=(
                Program(
                    name="peer-proxy",
                    command=_python_module("gameday.lab.peer_proxy", "--lab-config", lab_json),
                    address=", ".join(f"{HOST}:{p}" for p in ports.etcd_peer_proxy)
                    + f" (control {HOST}:{ports.peer_proxy_control})",
                    priority=150,
                ),
            ),
        ),
        Part(
            name="etcd",
            binary="etcd",
            install_hint=f"{APT} etcd-server etcd-client",
            programs=tuple(
                Program(
                    name=name,
                    command=[
                        "etcd",
                        "--name",
                        name,
                        "--data-dir",
                        str(data / name),
                        "--listen-client-urls",
                        f"http://{HOST}:{ports.etcd_client[i]}",
                        "--advertise-client-urls",
                        f"http://{HOST}:{ports.etcd_client[i]}",
                        "--listen-peer-urls",
                        f"http://{HOST}:{ports.etcd_peer[i]}",
                        "--initial-advertise-peer-urls",
                        f"http://{HOST}:{ports.etcd_peer_proxy[i]}",
                        "--initial-cluster",
                        initial_cluster,
                        "--initial-cluster-state",
                        "new",
                        "--initial-cluster-token",
                        "gameday-lab",
                        "--heartbeat-interval",
                        "100",
                        "--election-timeout",
                        "1000",
                        "--pre-vote",
                        "--logger",
                        "zap",
                        "--log-outputs",
                        "stderr",
                    ],
                    address=f"{HOST}:{ports.etcd_client[i]}",
                    priority=200,
                    stop_wait_s=5,
                )
                for i, name in enumerate(member_names)
            ),
        ),
        Part(
            name="gateway",
            binary=sys.executable,
            install_hint="reinstall gameday",
            programs=tuple(
                Program(
                    name=f"gateway-{i}",
                    command=_python_module(
                        "gameday.lab.gateway", "--lab-config", lab_json, "--replica", str(i)
                    ),
                    address=f"{HOST}:{ports.gateway} (metrics {HOST}:{ports.gateway_metrics[i]})",
                    priority=400,
                    stop_wait_s=5,
                )
                for i in range(GATEWAY_REPLICAS)
            ),
        ),
        Part(
            name="replica-state",
            binary=sys.executable,
            install_hint="reinstall gameday",
            programs=(
                Program(
                    name="replica-state",
                    command=_python_module("gameday.lab.replica_state", "--lab-config", lab_json),
                    address=f"{HOST}:{ports.replica_state}",
                    priority=300,
                ),
            ),
        ),
        Part(
            name="camera",
            binary=SYSTEM_PYTHON,
            install_hint=f"{APT} python3 {CAMERA_PACKAGES}",
            programs=tuple(
                Program(
                    name=f"camera-{i}",
                    command=[
                        SYSTEM_PYTHON,
                        str(camera_script()),
                        "--port",
                        str(port),
                        "--name",
                        f"camera-{i}",
                    ],
                    address=url,
                    priority=200,
                    stop_wait_s=5,
                )
                for i, (port, url) in enumerate(zip(ports.cameras, config.camera_urls, strict=True))
            ),
        ),
        Part(
            name="vision",
            binary=sys.executable,
            install_hint="reinstall gameday (it needs PyAV: pip install av)",
            programs=(
                Program(
                    name="vision",
                    command=_python_module("gameday.lab.vision", "--lab-config", lab_json),
                    address=f"{HOST}:{ports.vision}",
                    priority=400,
                    stop_wait_s=5,
                ),
            ),
        ),
        Part(
            name="alertmanager",
            binary="prometheus-alertmanager",
            install_hint=f"{APT} prometheus-alertmanager",
            programs=(
                Program(
                    name="alertmanager",
                    command=[
                        "prometheus-alertmanager",
                        f"--config.file={alertmanager_yml}",
                        f"--storage.path={data / 'alertmanager'}",
                        f"--web.listen-address={HOST}:{ports.alertmanager}",
                        "--cluster.listen-address=",
                    ],
                    address=f"{HOST}:{ports.alertmanager}",
                    priority=150,
                ),
            ),
        ),
        Part(
            name="prometheus",
            binary="prometheus",
            install_hint=f"{APT} prometheus",
            programs=(
                Program(
                    name="prometheus",
                    command=[
                        "prometheus",
                        f"--config.file={prometheus_yml}",
                        f"--storage.tsdb.path={data / 'prometheus'}",
                        f"--web.listen-address={HOST}:{ports.prometheus}",
                        "--web.enable-lifecycle",
                        "--storage.tsdb.retention.time=2d",
                    ],
                    address=f"{HOST}:{ports.prometheus}",
                    priority=150,
                ),
            ),
        ),
    ]
