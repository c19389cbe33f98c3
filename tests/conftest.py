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
