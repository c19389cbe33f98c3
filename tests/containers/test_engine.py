"""The real Docker engine of tests/docker_engine.py and the gameday-test images on it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
import redis
import requests
from prometheus_client.parser import text_string_to_metric_families
from tests.docker_engine import (
    APP_IMAGE,
    BASE_IMAGE,
    MONITORING_IMAGE,
    REDIS_IMAGE,
    TEST_LABEL,
    TEST_LABELS,
    DockerEngine,
    engine,
)

# The first test pays for a cold machine: docker.io, debootstrap, the images (about 90 s).
pytestmark = [pytest.mark.containers, pytest.mark.timeout(900)]

LABEL_ARG = f"{TEST_LABEL}=1"
T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 15.0, what: str = "condition") -> T:
    """``check()``'s first result that raises nothing and is truthy, within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            result = check()
            if result:
                return result
            last = result
        except Exception as error:
            last = error
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout:.0f} s; last: {last!r}")
        time.sleep(0.2)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False  # 127.0.0.1 only, never through a proxy
        yield session


def _samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(name, sorted labels) → value of every sample in a Prometheus text exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def _published(docker_engine: DockerEngine, container: str, port: int) -> str:
    """``127.0.0.1:PORT`` on the host for the container's ``port``."""
    lines = docker_engine.docker("port", container, f"{port}/tcp").stdout.split()
    return next(line for line in lines if not line.startswith("["))


def test_engine_answers_with_the_images(docker_engine: DockerEngine) -> None:
    version = docker_engine.docker("version", "--format", "{{.Server.Version}}").stdout.strip()
    assert version
    for image in (BASE_IMAGE, REDIS_IMAGE, MONITORING_IMAGE, APP_IMAGE):
        assert docker_engine.image_exists(image), image
    env = docker_engine.env()
    assert env["DOCKER_HOST"] == docker_engine.host
    assert env["TESTCONTAINERS_RYUK_DISABLED"] == "true"


def test_a_working_docker_host_is_used_and_never_stopped(docker_engine: DockerEngine) -> None:
    # The fixture exported DOCKER_HOST: a second engine() uses it and does not own it.
    with engine() as again:
        assert again.host == docker_engine.host
        assert again.daemon_pid is None
    assert docker_engine.docker("version").returncode == 0


def test_monitoring_image_has_prometheus_and_alertmanager(docker_engine: DockerEngine) -> None:
    for binary in ("prometheus", "prometheus-alertmanager"):
        result = docker_engine.docker(
            "run", "--rm", "--label", LABEL_ARG, MONITORING_IMAGE, binary, "--version"
        )
        assert "version" in (result.stdout + result.stderr).lower(), binary


def test_redis_container_from_testcontainers(
    docker_engine: DockerEngine, http: requests.Session
) -> None:
    container_module = pytest.importorskip(
        "testcontainers.core.container", reason="testcontainers is not installed"
    )
    container = container_module.DockerContainer(REDIS_IMAGE, labels=dict(TEST_LABELS))
    with container.with_exposed_ports(6379, 9121):
        host = container.get_container_host_ip()
        assert host == "127.0.0.1"
        client = redis.Redis(
            host=host, port=int(container.get_exposed_port(6379)), socket_timeout=2
        )
        try:
            assert eventually(client.ping, what="PING")
        finally:
            client.close()
        exporter = f"http://{host}:{container.get_exposed_port(9121)}/metrics"
        eventually(
            lambda: "redis_up 1" in http.get(exporter, timeout=2).text.splitlines(),
            what="redis_up 1 on the exporter",
        )


def test_app_reaches_redis_by_name_then_answers_503_when_it_stops(
    docker_engine: DockerEngine, http: requests.Session
) -> None:
    suffix = uuid.uuid4().hex[:8]
    network, redis_name, app_name = (
        f"gameday-test-{part}-{suffix}" for part in ("net", "redis", "app")
    )
    docker = docker_engine.docker
    docker("network", "create", "--label", LABEL_ARG, network)
    try:
        docker(
            "run",
            "--detach",
            "--label",
            LABEL_ARG,
            "--network",
            network,
            "--name",
            redis_name,
            REDIS_IMAGE,
        )
        docker(
            "run",
            "--detach",
            "--label",
            LABEL_ARG,
            "--network",
            network,
            "--name",
            app_name,
            "--env",
            f"REDIS_HOST={redis_name}",
            "--publish",
            "127.0.0.1::8080",
            APP_IMAGE,
        )
        eventually(
            lambda: (
                docker("exec", redis_name, "redis-cli", "SET", "item:42", "answer").stdout.strip()
                == "OK"
            ),
            what="SET in the redis container",
        )
        base = f"http://{_published(docker_engine, app_name, 8080)}"
        eventually(lambda: http.get(f"{base}/healthz", timeout=2).ok, what="app /healthz")

        found = http.get(f"{base}/items/42", timeout=5)
        assert found.status_code == 200, found.text
        assert found.json() == {"id": "42", "value": "answer"}

        docker("stop", "--time", "2", redis_name)

        def unavailable() -> dict[str, str]:
            answer = http.get(f"{base}/items/42", timeout=5)
            return dict(answer.json()) if answer.status_code == 503 else {}

        gone = eventually(unavailable, what="503 once redis is stopped")
        assert "unavailable" in gone["error"]

        samples = _samples(http.get(f"{base}/metrics", timeout=2).text)
        assert samples[("app_requests_total", (("code", "200"),))] == 1
        assert samples[("app_requests_total", (("code", "503"),))] >= 1
        assert samples[("app_request_duration_seconds_count", ())] >= 2
        assert samples[("app_request_duration_seconds_bucket", (("le", "+Inf"),))] >= 2
    finally:
        docker("rm", "--force", redis_name, app_name, check=False)
        docker("network", "rm", network, check=False)


def test_cleanup_removes_labelled_containers_and_networks_only(
    docker_engine: DockerEngine,
) -> None:
    suffix = uuid.uuid4().hex[:8]
    docker = docker_engine.docker
    docker("network", "create", "--label", LABEL_ARG, f"gameday-test-net-{suffix}")
    docker("run", "--detach", "--label", LABEL_ARG, BASE_IMAGE, "sleep", "infinity")
    docker("create", "--label", LABEL_ARG, BASE_IMAGE, "true")
    unlabelled = docker("create", BASE_IMAGE, "true").stdout.strip()
    try:
        containers, networks = docker_engine.labelled()
        assert len(containers) >= 2 and len(networks) >= 1

        docker_engine.cleanup()

        assert docker_engine.labelled() == ([], [])
        assert docker("container", "inspect", unlabelled, check=False).returncode == 0
        assert docker_engine.image_exists(BASE_IMAGE)
    finally:
        docker("rm", "--force", unlabelled, check=False)
