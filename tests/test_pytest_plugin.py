"""The pytest plugin: experiments and plans collected as items, each expectation an outcome."""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from gameday.lab.config import LabConfig

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[1]
EXPERIMENTS = REPO / "experiments"


def test_named_paths_are_collected_one_item_per_expectation(pytester: pytest.Pytester) -> None:
    shutil.copy(EXPERIMENTS / "pod-kill-single.yaml", pytester.path)
    (pytester.path / "notes.yaml").write_text("just: data\n")
    result = pytester.runpytest_subprocess(str(pytester.path), "--collect-only", "-q")
    lines = [line for line in result.outlines if "::" in line]
    assert lines == [
        "pod-kill-single.yaml::error ratio under 1 % and p95 under 500 ms",
        "pod-kill-single.yaml::PodDown does not fire",
        "pod-kill-single.yaml::nobody is paged",
        "pod-kill-single.yaml::the client-side error ratio stays under 1 %",
        "pod-kill-single.yaml::run",
    ]


def test_testpaths_never_collect_yaml(pytester: pytest.Pytester) -> None:
    shutil.copy(EXPERIMENTS / "pod-kill-single.yaml", pytester.path)
    pytester.makeini("[pytest]\ntestpaths = .\n")
    result = pytester.runpytest_subprocess("--collect-only", "-q")
    assert "pod-kill-single.yaml" not in result.stdout.str()


def test_a_plan_option_collects_its_experiments(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--gameday-plan", str(EXPERIMENTS / "lab-gameday.yaml"), "--collect-only", "-q"
    )
    text = result.stdout.str()
    for name in (
        "pod-kill-single.yaml::run",
        "pod-kill.yaml::PodDown fires",
        "redis-down.yaml::run",
    ):
        assert name in text


@pytest.mark.lab
def test_running_an_experiment_reports_each_expectation(
    pytester: pytest.Pytester, lab: LabConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = yaml.safe_load((EXPERIMENTS / "pod-kill-single.yaml").read_text())
    wrong = document["method"][1]
    wrong["name"] = "PodDown fires"  # a single replica kill cannot make it fire
    wrong["provider"]["func"] = "alert_fires"
    wrong["provider"]["arguments"] = {"alert": "PodDown", "within_s": 3, "overtime_s": 0}
    del wrong["background"]
    (pytester.path / "single.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    shutil.copytree(REPO / "loadtests", pytester.path / "loadtests")
    monkeypatch.setenv("GAMEDAY_LAB_DIR", str(lab.directory))
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(
        str(pytester.path / "single.yaml"),
        f"--junitxml={junit}",
        f"--gameday-report-dir={pytester.path / 'reports'}",
        timeout=240,
    )
    result.assert_outcomes(passed=3, failed=2)
    assert "PodDown did not fire within 3s of the fault" in result.stdout.str()
    cases = {
        case.get("name"): case.find("failure") is not None
        for case in ElementTree.parse(junit).getroot().iter("testcase")
    }
    assert cases == {
        "error ratio under 1 % and p95 under 500 ms": False,
        "PodDown fires": True,
        "nobody is paged": False,
        "the client-side error ratio stays under 1 %": False,
        "run": True,
    }
    assert (pytester.path / "reports" / "single" / "result.json").is_file()
