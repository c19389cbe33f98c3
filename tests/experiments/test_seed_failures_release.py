"""The bad-deploy experiment on the real lab: a release that fails 30 % of the requests
trips the rollback trigger (BadDeployRollback) and HighErrorRate, both page on-call, and
the rollback restores the error ratio; with the trigger's threshold broken the run fails
and says which alert did not fire; Ctrl-C mid-fault rolls back."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from tests.lab_runs import (
    assert_experiment_passes,
    assert_fails_naming_the_alert,
    assert_lab_healthy,
    interrupt_during_fault,
)

from gameday.lab.config import LabConfig
from gameday.lab.release import BASELINE, read_release, release_file

pytestmark = pytest.mark.seed_failures

EXPERIMENT = "experiments/seed-failures/bad-deploy.yaml"
PAGES = {"BadDeployRollback": "oncall-pager", "HighErrorRate": "oncall-pager"}


def assert_rolled_back(lab: LabConfig) -> None:
    release = read_release(release_file(lab.run))
    assert release.error_ratio == 0.0 and release.name == BASELINE, release


def test_bad_deploy_passes_and_the_rollback_restores_the_slo(
    lab: LabConfig, tmp_path: Path
) -> None:
    result = assert_experiment_passes(lab, EXPERIMENT, tmp_path, PAGES)
    assert result["measurements"]["mttr_s"] <= 60
    assert_rolled_back(lab)


def test_a_trigger_with_a_wrong_threshold_fails_the_run_and_says_so(
    lab: LabConfig, tmp_path: Path
) -> None:
    # 50 % instead of 1 %: a release failing 30 % of requests never trips it.
    broken = ("BadDeployRollback", ") > 0.01", ") > 0.5")
    result = assert_fails_naming_the_alert(lab, EXPERIMENT, tmp_path, broken)
    failed = [e for e in result["expectations"] if not e["passed"]]
    assert failed[0]["alert"] == "BadDeployRollback", failed
    assert_rolled_back(lab)


def test_ctrl_c_during_the_bad_deploy_rolls_back(lab: LabConfig, tmp_path: Path) -> None:
    def deployed() -> None:
        assert read_release(release_file(lab.run)).name == "v2-bad"

    interrupt_during_fault(
        lab, "seed-failures/bad-deploy", tmp_path, signal.SIGINT, check_fault=deployed
    )
    assert_rolled_back(lab)
    assert_lab_healthy(lab)
