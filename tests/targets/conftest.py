"""The team-like stack (tests/team_stack.py), started once per module and always torn down."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest
from tests.team_stack import TeamStack, missing_binaries, team_stack


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamStack]:
    """A running team stack; stopped at the end of the module even when tests fail."""
    missing = missing_binaries()
    if missing:
        pytest.fail(f"the team stack needs {', '.join(missing)} (apt-get install them)")
    with team_stack(tmp_path_factory.mktemp("team-stack")) as stack:
        yield stack


@pytest.fixture
def team_restored(team: TeamStack) -> Iterator[TeamStack]:
    """The team stack, healthy and quiet before the test and put back that way after it.

    Not autouse: tests that break redis ask for it; after the test, redis is started again
    with the stack's own start command if it is down, then no Cache* alert may be left.
    """
    team.wait_redis_up()
    team.wait_quiet()
    _settled(team)
    try:
        yield team
    finally:
        if team.redis_pid() is None:
            subprocess.run(team.redis_start_command(), check=True, timeout=10)
        team.wait_redis_up()
        team.wait_quiet()


def _settled(team: TeamStack, timeout_s: float = 20) -> None:
    """Redis up in every sample of the last 5 s: a steady state judged over a short
    window must not see the previous test's outage."""
    query = 'min_over_time(redis_up{job="storage-cache"}[5s])'
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = team.prometheus_query(query)
        if result and float(result[0]["value"][1]) == 1.0:
            return
        time.sleep(0.5)
    pytest.fail(f"redis_up was not 1 for 5 s within {timeout_s:g}s")
