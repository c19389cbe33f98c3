"""A containers target on a real Docker engine: each container fault and its revert, the
ledger that undoes them, Ctrl-C mid-fault, and the example CI gate passing and failing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import requests
import yaml
from examples.ci.shop_stack import ShopStack, shop_stack
from tests.docker_engine import DockerEngine
from tests.interrupting import interrupt_mid_fault

from gameday.chaos.containers import actions, probes
from gameday.pytest_plugin import containers_target
from gameday.targets import TARGET_FILE_KEY, read_target_file

pytestmark = [pytest.mark.containers, pytest.mark.timeout(900)]
REPO = Path(__file__).resolve().parents[2]
GATE = REPO / "examples" / "ci" / "test_resilience_gate.py"


def eventually(check: Callable[[], bool], what: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{what}: not within {timeout_s:g}s")


def item_status(shop: ShopStack) -> int:
    return requests.get(f"{shop.app_url}/items/1", timeout=5).status_code


@pytest.fixture(scope="module")
def shop(
    docker_engine: DockerEngine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShopStack]:
    with shop_stack(tmp_path_factory.mktemp("shop")) as stack:
        yield stack


@pytest.fixture
def configuration(
    shop: ShopStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """A containers target file for the shop (faults may touch its Redis only), a state
    directory of the test's own; the Redis runs again after the test, whatever happened."""
    monkeypatch.setenv("GAMEDAY_STATE_DIR", str(tmp_path / "state"))
    document = containers_target(
        name="shop-test",
        containers=[shop.redis, shop.app],
        prometheus=shop.prometheus,
        alertmanager=shop.alertmanager,
        allow=[shop.name(shop.redis)],
    )
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(document))
    config = {TARGET_FILE_KEY: str(path)}
    try:
        yield config
    finally:
        read_target_file(path).ledger().revert_all()
        eventually(lambda: item_status(shop) == 200, "the shop serves again")


def ledger_faults(configuration: dict[str, Any]) -> list[str]:
    target = read_target_file(Path(configuration[TARGET_FILE_KEY]))
    return [entry["fault"] for entry in target.ledger().entries()]


def test_stop_and_start(shop: ShopStack, configuration: dict[str, Any]) -> None:
    name = shop.name(shop.redis)
    actions.stop_container(name, timeout_s=1, configuration=configuration)
    assert not probes.container_running(name, configuration=configuration)
    assert ledger_faults(configuration) == [f"container stopped ({name})"]
    eventually(lambda: item_status(shop) == 503, "the app fails without its Redis")
    actions.start_container(name, configuration=configuration)
    assert probes.container_running(name, configuration=configuration)
    assert ledger_faults(configuration) == []


def test_kill_is_undone_by_the_ledger(shop: ShopStack, configuration: dict[str, Any]) -> None:
    """No restart policy: the killed container stays down until its revert runs."""
    name = shop.name(shop.redis)
    actions.kill_container(name, configuration=configuration)
    eventually(lambda: not probes.container_running(name, configuration=configuration), "dead")
    target = read_target_file(Path(configuration[TARGET_FILE_KEY]))
    outcomes = target.ledger().revert_all()
    assert [error for _, error in outcomes] == [None]
    assert probes.container_running(name, configuration=configuration)


def test_pause_hangs_and_unpause_resumes(shop: ShopStack, configuration: dict[str, Any]) -> None:
    name = shop.name(shop.redis)
    actions.pause_container(name, configuration=configuration)
    assert not probes.container_running(name, configuration=configuration)
    eventually(lambda: item_status(shop) == 503, "the app times out on a hung Redis")
    actions.unpause_container(name, configuration=configuration)
    eventually(lambda: item_status(shop) == 200, "the app serves again")
    assert ledger_faults(configuration) == []


def test_a_partition_and_its_healing_keep_the_alias(
    shop: ShopStack, configuration: dict[str, Any]
) -> None:
    name = shop.name(shop.redis)
    actions.disconnect_network(name, shop.network, configuration=configuration)
    eventually(lambda: item_status(shop) == 503, "the app cannot reach redis")
    actions.reconnect_network(name, shop.network, configuration=configuration)
    eventually(lambda: item_status(shop) == 200, "the app reaches 'redis' by its alias again")
    assert ledger_faults(configuration) == []


def test_restart_comes_back(shop: ShopStack, configuration: dict[str, Any]) -> None:
    name = shop.name(shop.redis)
    actions.restart_container(name, timeout_s=1, configuration=configuration)
    assert probes.container_running(name, configuration=configuration)


def test_containers_outside_allow_are_refused(
    shop: ShopStack, configuration: dict[str, Any]
) -> None:
    from chaoslib.exceptions import ActivityFailed

    with pytest.raises(ActivityFailed, match="outside target 'shop-test'"):
        actions.stop_container(shop.name(shop.app), configuration=configuration)
    assert probes.container_running(shop.name(shop.app), configuration=configuration)


def test_ctrl_c_mid_fault_leaves_nothing_paused(
    shop: ShopStack, configuration: dict[str, Any], tmp_path: Path
) -> None:
    name = shop.name(shop.redis)
    experiment = {
        "title": "the cache hangs",
        "description": "pause the cache, then wait for an alert nobody defined",
        "method": [
            {
                "type": "action",
                "name": "hang the cache",
                "provider": {
                    "type": "python",
                    "module": "gameday.chaos.containers.actions",
                    "func": "pause_container",
                    "arguments": {"name": name},
                },
            },
            {
                "type": "probe",
                "name": "wait",
                "tolerance": True,
                "provider": {
                    "type": "python",
                    "module": "gameday.chaos.alerts.probes",
                    "func": "alert_fires",
                    "arguments": {"alert": "NoSuchAlert", "within_s": 120},
                },
            },
        ],
    }
    path = tmp_path / "hang.yaml"
    path.write_text(yaml.safe_dump(experiment))
    arguments = ["run", str(path), "--target", configuration[TARGET_FILE_KEY], "--yes"]
    code, output = interrupt_mid_fault(
        [*arguments, "--report-dir", str(tmp_path / "report")],
        applied=lambda: not probes.container_running(name, configuration=configuration),
        env=os.environ,
    )
    assert code == 130, output
    assert probes.container_running(name, configuration=configuration)
    assert ledger_faults(configuration) == []


def _gate(
    tmp_path: Path, **env: str
) -> tuple[subprocess.CompletedProcess[str], ElementTree.Element]:
    junit = tmp_path / "gate.xml"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            str(GATE),
            f"--junitxml={junit}",
            "-o",
            "addopts=",
            "--rootdir",
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env={**os.environ, **env, "GATE_REPORT_DIR": str(tmp_path / "report")},
    )
    return run, ElementTree.parse(junit).getroot()


def test_the_example_gate_passes_and_fails_when_the_route_is_broken(
    docker_engine: DockerEngine, tmp_path: Path
) -> None:
    passed, junit = _gate(tmp_path / "ok")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    properties = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert properties["gameday_status"] == "passed"
    assert properties["gameday: ShopCacheDown routed to shop-pager within 25s"].startswith("passed")
    broken, junit = _gate(tmp_path / "broken", GATE_BREAK_ROUTE="1")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    failure = next(junit.iter("failure"))
    assert "the pager gets it" in (failure.get("message") or "") + (failure.text or "")
    assert "shop-oncall" in (failure.text or "")
