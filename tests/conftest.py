"""Shared fixtures: the real lab, started once per test session and always torn down."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gameday.lab import lifecycle
from gameday.lab.config import LabConfig, LabPorts

if TYPE_CHECKING:
    from tests.kube_cluster import KubeCluster

# Away from the default 17800 so the suite never touches a developer's own lab.
TEST_BASE_PORT = int(os.environ.get("GAMEDAY_TEST_BASE_PORT", "27800"))


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabConfig]:
    """A running lab; torn down at the end of the session even when tests fail."""
    directory = tmp_path_factory.mktemp("lab")
    config = LabConfig(directory=Path(directory), ports=LabPorts.from_base(TEST_BASE_PORT))
    try:
        lifecycle.up(config)
        yield config
    finally:
        lifecycle.down(config)


@pytest.fixture(scope="session")
def kube_build_dir(request: pytest.FixtureRequest) -> Path:
    """scripts/kube-build's directory of Kubernetes binaries: at once when cached; a first
    build (about 15 minutes) streams its log lines to the terminal."""
    from tests.kube_cluster import build

    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        return build()


@pytest.fixture(scope="session")
def kube_cluster(
    kube_build_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KubeCluster]:
    """A real control plane with fake nodes, the shop, Prometheus and Alertmanager
    (tests/kube_cluster.py), shared by the session: a test that changes it calls
    ``kube_cluster.reset_shop()`` when done. Stopped at the end even when tests fail."""
    from tests.kube_cluster import KubeCluster

    cluster = KubeCluster(Path(tmp_path_factory.mktemp("kube")), kube_dir=kube_build_dir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


# A first build of the Kubernetes binaries takes about 15 minutes: the test that triggers it
# gets that long (pytest-timeout counts fixture set-up).
KUBE_FIXTURES = frozenset({"kube_build_dir", "kube_cluster"})
KUBE_BUILD_TIMEOUT_S = 2400


# A test that asks for one of these fixtures needs that real part, whether or not it says
# so with the marker: `-m "not lab"` and friends then select honestly.
MARKER_OF_FIXTURE = {
    "lab": "lab",
    "team": "team_stack",
    "team_restored": "team_stack",
    "docker_engine": "containers",
    "kube_build_dir": "kubernetes",
    "kube_cluster": "kubernetes",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    kube_built: bool | None = None
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        for fixture in fixtures:
            marker = MARKER_OF_FIXTURE.get(fixture)
            if marker is not None:
                item.add_marker(getattr(pytest.mark, marker))
        if KUBE_FIXTURES.intersection(fixtures):
            if kube_built is None:
                from tests.kube_cluster import kube_binaries_built

                kube_built = kube_binaries_built()
            if not kube_built:
                item.add_marker(pytest.mark.timeout(KUBE_BUILD_TIMEOUT_S), append=False)
