"""Report directories built from the real lab run in tests/fixtures/report/redis-down-passed.

Variants (failed, errored, simulated GPU, a plan of several) are copies of that
run with the smallest edits that make them so.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PASSED_RUN = FIXTURES / "report" / "redis-down-passed"
RUNBOOK = FIXTURES / "runbook" / "lab-runbook.md"

FAILED_NAME = "RedisDown fires within 2s"
FAILED_FIGURE = "RedisDown fires within 2s: 6.1s, 4.1s over the 2s budget"


def copy_run(target: Path) -> Path:
    shutil.copytree(PASSED_RUN, target)
    return target


def edit_result(directory: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    path = directory / "result.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return directory


def _fail_redis_alert(document: dict[str, Any]) -> None:
    expectation = next(
        e for e in document["expectations"] if e["name"].startswith("RedisDown fires")
    )
    expectation.update(
        name=FAILED_NAME,
        passed=False,
        measured_s=6.1,
        budget_s=2,
        message="RedisDown fired 6.1s after the fault (budget 2s)",
    )
    document["measurements"]["mttd_s"]["RedisDown"] = 6.1
    document["measurements"]["budgets_s"]["mttd_s"]["RedisDown"] = 2
    document["status"] = "failed"


def _error_after_fault(document: dict[str, Any]) -> None:
    timeline = document["timeline"]
    cut = next(i for i, e in enumerate(timeline) if e["kind"] == "fault_applied") + 1
    fault_at = timeline[cut - 1]["elapsed_s"]
    document["timeline"] = [
        *timeline[:cut],
        {
            "at": timeline[cut]["at"],
            "elapsed_s": fault_at + 0.5,
            "kind": "error",
            "detail": "prometheus at http://127.0.0.1:17890 did not answer within 5s",
            "data": {},
        },
        {
            "at": timeline[cut]["at"],
            "elapsed_s": fault_at + 0.7,
            "kind": "fault_reverted",
            "detail": "restored redis",
            "data": {},
        },
    ]
    document["expectations"] = []
    document["measurements"] = {
        "mttd_s": {},
        "time_to_notify_s": {},
        "mttr_s": None,
        "budgets_s": {"mttd_s": {}, "time_to_notify_s": {}, "mttr_s": None},
    }
    document["status"] = "error"
    document["chaostoolkit_status"] = "failed"


def _simulated_gpu(document: dict[str, Any]) -> None:
    document["experiment"]["title"] = "GPU thermal stress pages on-call"
    for event in document["timeline"]:
        if event["kind"] == "fault_applied":
            event["detail"] = "gpu stress at 100% on gpu0"
            event["data"] = {"fault": "gpu_stress", "gpu": "gpu0", "backend": "simulated"}


def make_failed(target: Path) -> Path:
    return edit_result(copy_run(target), _fail_redis_alert)


def make_errored(target: Path) -> Path:
    return edit_result(copy_run(target), _error_after_fault)


def make_simulated_gpu(target: Path) -> Path:
    return edit_result(copy_run(target), _simulated_gpu)


def make_plan(target: Path) -> Path:
    """A plan of four: passed, failed, simulated GPU (passed), errored; plus one never run."""
    target.mkdir(parents=True)
    builders: list[tuple[str, Callable[[Path], Path], str]] = [
        ("01-redis-down", copy_run, "passed"),
        ("02-redis-down-tight-budget", make_failed, "failed"),
        ("03-gpu-stress", make_simulated_gpu, "passed"),
        ("04-redis-down-no-prometheus", make_errored, "error"),
    ]
    experiments: list[dict[str, Any]] = []
    for name, build, status in builders:
        result = json.loads((build(target / name) / "result.json").read_text(encoding="utf-8"))
        experiments.append(
            {
                "title": result["experiment"]["title"],
                "path": f"experiments/{name[3:]}.yaml",
                "dir": name,
                "status": status,
            }
        )
    experiments.append(
        {
            "title": "Consensus partition keeps writes available",
            "path": "experiments/etcd-partition.yaml",
            "dir": "05-etcd-partition",
            "status": "skipped",
        }
    )
    plan = {
        "schema": "gameday.plan/1",
        "plan": {"name": "Lab game day", "path": "experiments/lab-gameday.yaml", "runbook": None},
        "started_at": "2026-12-01T23:09:20.000000+00:00",
        "ended_at": "2026-12-01T23:12:40.000000+00:00",
        "status": "failed",
        "experiments": experiments,
    }
    (target / "plan-result.json").write_text(json.dumps(plan, indent=2), encoding="utf-8")
    return target


@pytest.fixture
def passed_dir(tmp_path: Path) -> Path:
    return copy_run(tmp_path / "passed")


@pytest.fixture
def failed_dir(tmp_path: Path) -> Path:
    return make_failed(tmp_path / "failed")


@pytest.fixture
def errored_dir(tmp_path: Path) -> Path:
    return make_errored(tmp_path / "errored")


@pytest.fixture
def gpu_dir(tmp_path: Path) -> Path:
    return make_simulated_gpu(tmp_path / "gpu")


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    return make_plan(tmp_path / "plan")
