"""Shared fixtures: the real lab, started once per test session and always torn down."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gameday.lab import lifecycle
from gameday.lab.config import LabConfig, LabPorts

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


# A test that asks for one of these fixtures needs that real part, whether or not it says
# so with the marker: `-m "not lab"` and friends then select honestly.
MARKER_OF_FIXTURE = {
    "lab": "lab",
    "team": "team_stack",
    "team_restored": "team_stack",
    "docker_engine": "containers",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            marker = MARKER_OF_FIXTURE.get(fixture)
            if marker is not None:
                item.add_marker(getattr(pytest.mark, marker))
