"""The ``docker_engine`` fixture: one real Docker engine per test session (tests/docker_engine.py).

It sets the engine's variables (DOCKER_HOST, TESTCONTAINERS_*) in ``os.environ`` for the
session, so testcontainers and the Docker SDK use it; import testcontainers inside the tests,
after the fixture, since it reads some of them at import.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping

import pytest
from tests.docker_engine import DockerEngine, engine, service_images


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    _configure_testcontainers(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _configure_testcontainers(values: Mapping[str, str]) -> None:
    """testcontainers reads its host override and connection mode once, at import: when it was
    imported before the fixture ran, set them on its configuration too."""
    module = sys.modules.get("testcontainers.core.config")
    if module is None:
        return
    config = module.testcontainers_config
    config.tc_host_override = values["TESTCONTAINERS_HOST_OVERRIDE"]
    config.connection_mode_override = module.ConnectionMode(
        values["TESTCONTAINERS_CONNECTION_MODE"]
    )
    config.ryuk_disabled = True


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[DockerEngine]:
    """A working engine with the gameday-test images built; labelled containers and networks
    are removed before and after the session, and a daemon started for it is stopped."""
    with engine() as running, _environment(running.env()):
        try:
            running.cleanup()  # what an earlier session that died left behind
            service_images(running)
            yield running
        finally:
            running.cleanup()
