"""The postgres part's experiments on the real lab: PostgreSQL down (PostgresDown,
DatabaseConnectionFailures) and its connections exhausted (PostgresConnectionsExhausted,
DatabaseConnectionFailures) each pass under load on the gateway's orders, each fails
naming its alert when the alert's rule cannot fire, each rolls back when interrupted
with Ctrl-C during the fault, and an exhaustion left by a SIGKILLed run is undone by
`gameday recover` from the fault ledger. The lab-parts control starts the part."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import requests
from tests.lab_runs import (
    assert_experiment_passes,
    assert_fails_naming_the_alert,
    assert_lab_healthy,
    interrupt_during_fault,
    run_gameday,
    run_until_fault,
)

from gameday.lab.config import LabConfig
from gameday.lab.extras import postgres
from gameday.lab.supervisor import SupervisorClient
from gameday.observe.polling import poll_until

pytestmark = pytest.mark.seed_failures

EXPERIMENTS = {
    "postgres-down": {"PostgresDown": "oncall-pager", "DatabaseConnectionFailures": "oncall-pager"},
    "postgres-connections": {
        "PostgresConnectionsExhausted": "team-chat",
        "DatabaseConnectionFailures": "oncall-pager",
    },
}
# The alert each experiment is about, and a change to its rule that keeps it silent.
BROKEN = {
    "postgres-down": ("PostgresDown", "== 0", "== 2"),
    "postgres-connections": ("PostgresConnectionsExhausted", "> 0.8", "> 1.5"),
}
GROUPS = ("postgres", "postgres-exporter", "postgres-holder")
HELD = "SELECT count(*) AS n FROM pg_stat_activity WHERE usename = 'batch_job'"
LIMIT = "SELECT rolconnlimit AS n FROM pg_roles WHERE rolname = 'gateway'"


def path_of(name: str) -> str:
    return f"experiments/seed-failures/{name}.yaml"


def states(lab: LabConfig) -> dict[str, str]:
    return {
        info["group"]: info["statename"]
        for info in SupervisorClient(lab.supervisor_url).processes()
        if info["group"] in GROUPS
    }


def _value(lab: LabConfig, sql: str) -> int:
    return int(postgres.admin_sql(lab, sql)[0][0]["n"])


def assert_fault_gone(lab: LabConfig) -> None:
    """PostgreSQL runs, nobody holds its connections, and the gateway stores orders."""
    assert states(lab) == dict.fromkeys(GROUPS, "RUNNING")
    assert postgres.read_order(lab) is None
    assert _value(lab, HELD) == 0
    assert _value(lab, LIMIT) == -1

    def stored() -> bool | None:
        reply = requests.post(lab.gateway_url + "/api/orders", json={"item": "check"}, timeout=5)
        return reply.status_code == 201 or None

    assert poll_until(stored, timeout_s=30, interval_s=0.5).met, "the gateway stores no order"


def assert_fault_in_effect(lab: LabConfig, name: str) -> None:
    if name == "postgres-down":
        assert states(lab)["postgres"] == "STOPPED", states(lab)
    else:
        held = _value(lab, HELD)
        assert held >= postgres.MAX_CONNECTIONS - postgres.RESERVED_CONNECTIONS - 3, held


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_postgres_experiment_passes_on_the_lab(lab: LabConfig, tmp_path: Path, name: str) -> None:
    result = assert_experiment_passes(lab, path_of(name), tmp_path, EXPERIMENTS[name])
    assert "slo_restored" in [event["kind"] for event in result["timeline"]]
    assert_fault_gone(lab)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_postgres_experiment_fails_naming_its_alert_when_the_rule_cannot_fire(
    lab: LabConfig, tmp_path: Path, name: str
) -> None:
    result = assert_fails_naming_the_alert(lab, path_of(name), tmp_path, BROKEN[name])
    fires = next(e for e in result["expectations"] if e["alert"] == BROKEN[name][0])
    assert "never pending" in fires["message"], fires["message"]
    assert_fault_gone(lab)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_postgres_experiment_rolls_back_on_ctrl_c(
    lab: LabConfig, tmp_path: Path, name: str
) -> None:
    result = interrupt_during_fault(
        lab,
        f"seed-failures/{name}",
        tmp_path,
        signal.SIGINT,
        lambda: assert_fault_in_effect(lab, name),
    )
    assert result["status"] == "interrupted"
    assert_lab_healthy(lab)
    assert_fault_gone(lab)


def test_exhausted_connections_left_by_a_sigkilled_run_are_released_by_recover(
    lab: LabConfig, tmp_path: Path
) -> None:
    process, _ = run_until_fault(lab, "seed-failures/postgres-connections", tmp_path / "killed")
    try:
        assert_fault_in_effect(lab, "postgres-connections")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    # The holder is the lab's, not the run's: the fault outlives the killed run.
    assert_fault_in_effect(lab, "postgres-connections")
    recovered = run_gameday(lab, "recover")
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert "reverted: postgres connections held by batch_job" in recovered.stdout
    assert_lab_healthy(lab)
    assert_fault_gone(lab)
