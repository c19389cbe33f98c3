"""Creto's seed set on the real lab: the lab started with experiments/seeds/creto/profile.yaml
(Creto's rules as its runbook writes them, namespace mapped, K = 60, the lab's own rules
replaced) and the set's experiments run on it with `gameday run`: RedisDown and PodDown, as
written, fire and page oncall-pager (severity critical); HighErrorRate runs adapted to the
gateway's HTTP counters. Then the experiments on the opt-in lab parts, as one plan (each
starts its part with its lab-parts control): DatabaseConnectionFailures and MemoryPressure
as written, HighDiskUsage, CertificateExpiring, OversightBacklog, KafkaLagHigh,
QuotaCheckSlow and HighLatency adapted, each reaching the receiver its severity routes to.

This module starts a lab of its own, away from the session's ports (the session's `lab`
runs the lab's own rules)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.lab_runs import assert_lab_healthy, profile_lab, result_of, run_gameday

from gameday.lab import lifecycle
from gameday.lab.config import LabConfig
from gameday.lab.profile import read_profile
from gameday.observe.prometheus import Prometheus

REPO = Path(__file__).resolve().parents[2]
CRETO = REPO / "experiments" / "seeds" / "creto"
BASE_PORT = int(os.environ.get("GAMEDAY_TEST_BASE_PORT", "27800")) + 400

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def creto_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabConfig]:
    directory = Path(tmp_path_factory.mktemp("creto-lab"))
    with profile_lab(CRETO / "profile.yaml", directory, BASE_PORT) as config:
        yield config


def _run(lab: LabConfig, experiment: str, report_dir: Path) -> dict[str, Any]:
    done = run_gameday(
        lab, "run", "-q", f"experiments/seeds/creto/{experiment}", "--report-dir", str(report_dir)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = result_of(report_dir)
    assert result["status"] == "passed"
    assert all(e["passed"] for e in result["expectations"]), result["expectations"]
    return result


def _delivered(result: dict[str, Any]) -> set[tuple[str, str]]:
    """(alert, receiver) of every firing delivery the run verified."""
    return {
        (e["alert"], e["receiver"])
        for e in result["expectations"]
        if e["kind"] == "notification_delivered" and "(firing)" in e["name"] and e["passed"]
    }


def test_the_lab_runs_cretos_rules_only(creto_lab: LabConfig) -> None:
    loaded = {name for name, _ in Prometheus(creto_lab.prometheus_url).alerting_rules()}
    assert {"RedisDown", "PodDown", "HighErrorRate", "KafkaLagHigh", "MemoryPressure"} <= loaded
    assert "ConsensusNoLeader" not in loaded  # the lab's own rules were replaced
    status = lifecycle.status(creto_lab)
    assert (status["system"], status["time_scale"]) == ("creto", 60)


def test_redisdown_as_written_pages_oncall(creto_lab: LabConfig, tmp_path: Path) -> None:
    result = _run(creto_lab, "redis-down.yaml", tmp_path)
    assert ("RedisDown", "oncall-pager") in _delivered(result)
    assert sorted(result["measurements"]["mttd_s"]) == ["RedisDown"]
    assert_lab_healthy(creto_lab)


def test_poddown_as_written_pages_oncall(creto_lab: LabConfig, tmp_path: Path) -> None:
    result = _run(creto_lab, "pod-kill.yaml", tmp_path)
    assert ("PodDown", "oncall-pager") in _delivered(result)
    assert_lab_healthy(creto_lab)


def test_higherrorrate_runs_adapted(creto_lab: LabConfig, tmp_path: Path) -> None:
    result = _run(creto_lab, "high-error-rate-adapted.yaml", tmp_path)
    assert ("HighErrorRate", "oncall-pager") in _delivered(result)
    assert "adapted" in result["experiment"]["title"]
    assert_lab_healthy(creto_lab)


# The experiments on the opt-in lab parts: each one's (alert, receiver) deliveries, the
# alerts measured (MTTD), and whether the profile adapts them.
ON_PARTS: dict[str, tuple[dict[str, str], bool]] = {
    "database-connection-failures": ({"DatabaseConnectionFailures": "oncall-pager"}, False),
    "memory-pressure": ({"MemoryPressure": "team-chat"}, False),
    "high-disk-usage-adapted": ({"HighDiskUsage": "team-chat"}, True),
    "certificate-expiring-adapted": ({"CertificateExpiring": "team-chat"}, True),
    "consumer-backlog-adapted": (
        {"OversightBacklog": "team-chat", "KafkaLagHigh": "team-chat"},
        True,
    ),
    "quota-check-slow-adapted": ({"QuotaCheckSlow": "team-chat", "HighLatency": "team-chat"}, True),
}


def test_the_opt_in_parts_answer_cretos_alerts(creto_lab: LabConfig, tmp_path: Path) -> None:
    """One plan of the experiments on the opt-in parts (a plan per lab keeps the suite short:
    about 3.5 minutes on the 2-core machine)."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        yaml.safe_dump(
            {
                "name": "creto on the opt-in lab parts",
                "target": "lab",
                "experiments": [str(CRETO / f"{name}.yaml") for name in ON_PARTS],
            }
        )
    )
    report = tmp_path / "report"
    done = run_gameday(creto_lab, "run", "-q", str(plan), "--report-dir", str(report), timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    profile = read_profile(CRETO / "profile.yaml")
    for index, (name, (deliveries, adapted)) in enumerate(ON_PARTS.items(), start=1):
        result = result_of(report / f"{index:02d}-{name}")
        assert result["status"] == "passed", name
        assert all(e["passed"] for e in result["expectations"]), result["expectations"]
        assert set(deliveries.items()) <= _delivered(result), name
        measured = result["measurements"]
        assert sorted(measured["mttd_s"]) == sorted(deliveries), name
        assert measured["mttr_s"] is not None, name
        assert ("adapted" in result["experiment"]["title"]) == adapted, name
        assert all((alert in profile.adapted) == adapted for alert in deliveries), name
        print(f"{name}: MTTD {measured['mttd_s']} MTTR {measured['mttr_s']}")
    assert_lab_healthy(creto_lab)
