"""Verolux's seed set on the real lab, on the opt-in lab parts: the lab started with
experiments/seeds/verolux/profile.yaml (Verolux's rules, written from its runbook index,
K = 60, the lab's own rules replaced) and, as one plan, the experiments whose alerts the
opt-in parts answer (each starts its part with its lab-parts control): Database Down on
both its halves (PostgreSQL, then Redis) and Queue Backlog page oncall-pager (critical),
Storage Near Full reaches team-chat (warning), each adapted.

This module starts a lab of its own, away from the session's ports (the session's `lab`
runs the lab's own rules)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests.lab_runs import assert_lab_healthy, profile_lab, result_of, run_gameday

from gameday.lab.config import LabConfig
from gameday.lab.profile import read_profile
from gameday.observe.prometheus import Prometheus

REPO = Path(__file__).resolve().parents[2]
VEROLUX = REPO / "experiments" / "seeds" / "verolux"
BASE_PORT = int(os.environ.get("GAMEDAY_TEST_BASE_PORT", "27800")) + 600

pytestmark = pytest.mark.lab

# Each experiment's (alert, receiver) delivery; every alert here is adapted.
ON_PARTS = {
    "database-down-postgres": ("DatabaseDown", "oncall-pager"),
    "database-down": ("DatabaseDown", "oncall-pager"),
    "queue-backlog-adapted": ("QueueBacklog", "oncall-pager"),
    "storage-near-full-adapted": ("StorageNearFull", "team-chat"),
}


@pytest.fixture(scope="module")
def verolux_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabConfig]:
    directory = Path(tmp_path_factory.mktemp("verolux-lab"))
    with profile_lab(VEROLUX / "profile.yaml", directory, BASE_PORT) as config:
        yield config


def test_the_opt_in_parts_answer_verolux_alerts(verolux_lab: LabConfig, tmp_path: Path) -> None:
    """One plan (about 2 minutes on the 2-core machine). Database Down runs on PostgreSQL
    first, then on Redis with PostgreSQL running: the adapted rule is either-or."""
    loaded = {name for name, _ in Prometheus(verolux_lab.prometheus_url).alerting_rules()}
    assert {"DatabaseDown", "QueueBacklog", "StorageNearFull"} <= loaded
    assert "PostgresDown" not in loaded  # the lab's own rules were replaced
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        yaml.safe_dump(
            {
                "name": "verolux on the opt-in lab parts",
                "target": "lab",
                "experiments": [str(VEROLUX / f"{name}.yaml") for name in ON_PARTS],
            }
        )
    )
    report = tmp_path / "report"
    done = run_gameday(
        verolux_lab, "run", "-q", str(plan), "--report-dir", str(report), timeout=900
    )
    assert done.returncode == 0, done.stdout + done.stderr
    adapted = read_profile(VEROLUX / "profile.yaml").adapted
    for index, (name, (alert, receiver)) in enumerate(ON_PARTS.items(), start=1):
        result = result_of(report / f"{index:02d}-{name}")
        assert result["status"] == "passed", name
        assert all(e["passed"] for e in result["expectations"]), result["expectations"]
        delivered = {
            (e["alert"], e["receiver"])
            for e in result["expectations"]
            if e["kind"] == "notification_delivered" and "(firing)" in e["name"] and e["passed"]
        }
        assert delivered == {(alert, receiver)}, name
        measured = result["measurements"]
        assert sorted(measured["mttd_s"]) == [alert], name
        assert measured["mttr_s"] is not None, name
        assert "adapted" in result["experiment"]["title"] and alert in adapted, name
        print(f"{name}: MTTD {measured['mttd_s']} MTTR {measured['mttr_s']}")
    assert_lab_healthy(verolux_lab)
