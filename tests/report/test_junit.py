from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from gameday.report.directory import load_report_set
from gameday.report.junit import render_junit

TITLE = "Redis down pages on-call and the restart restores the SLOs"


def _junit(directory: Path) -> ET.Element:
    text = render_junit(load_report_set(directory))
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode("utf-8"))
    _check_structure(root)
    return root


def _check_structure(root: ET.Element) -> None:
    """The JUnit schema's basic structure (testsuites > testsuite > testcase > outcome)."""
    assert root.tag == "testsuites"
    for suite in root:
        assert suite.tag == "testsuite"
        for attribute in ("name", "tests", "failures", "errors", "skipped", "time"):
            assert suite.get(attribute) is not None, attribute
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "")) == len(cases)
        assert int(suite.get("failures", "")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("errors", "")) == len(suite.findall("testcase/error"))
        assert int(suite.get("skipped", "")) == len(suite.findall("testcase/skipped"))
        assert {child.tag for child in suite} <= {"properties", "testcase"}
        for case in cases:
            assert case.get("name") and case.get("classname")
            float(case.get("time", ""))
            assert len(case) <= 1
            for outcome in case:
                assert outcome.tag in ("failure", "error", "skipped")
                assert outcome.get("message")
    total = sum(int(s.get("tests", "")) for s in root)
    assert int(root.get("tests", "")) == total


def test_passed_run(passed_dir: Path) -> None:
    root = _junit(passed_dir)
    (suite,) = root
    assert suite.get("name") == TITLE
    cases = suite.findall("testcase")
    assert len(cases) == 8
    assert {case.get("classname") for case in cases} == {TITLE}
    fires = next(c for c in cases if c.get("name") == "RedisDown fires within 15s")
    assert fires.get("time") == "5.504"
    steady = cases[0]
    assert steady.get("time") == "0.000"
    assert root.get("failures") == "0" and root.get("errors") == "0"


def test_failed_expectation_is_a_failure_with_measured_and_budget(failed_dir: Path) -> None:
    root = _junit(failed_dir)
    failures = root.findall("testsuite/testcase/failure")
    assert len(failures) == 1
    (failure,) = failures
    assert failure.get("message") == "RedisDown fires within 2s: 6.1s, 4.1s over the 2s budget"
    assert failure.get("type") == "alert_fires"
    assert failure.text == "RedisDown fired 6.1s after the fault (budget 2s)"
    assert root.get("failures") == "1"


def test_errored_run_without_expectations_gets_an_error_case(errored_dir: Path) -> None:
    root = _junit(errored_dir)
    (case,) = root.findall("testsuite/testcase")
    error = case.find("error")
    assert error is not None
    assert case.get("name") == "run completes"
    assert error.get("message") == (
        "run error: prometheus at http://127.0.0.1:17890 did not answer within 5s"
    )
    assert "error: prometheus" in (error.text or "")


def test_interrupted_run_keeps_its_expectations_and_adds_an_error(passed_dir: Path) -> None:
    path = passed_dir / "result.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["status"] = "interrupted"
    document["timeline"].append(
        {"at": "", "elapsed_s": 24.0, "kind": "interrupted", "detail": "SIGINT", "data": {}}
    )
    path.write_text(json.dumps(document), encoding="utf-8")
    root = _junit(passed_dir)
    assert len(root.findall("testsuite/testcase")) == 9
    (error,) = root.findall("testsuite/testcase/error")
    assert error.get("message") == "run interrupted: SIGINT"


def test_plan_has_one_suite_per_experiment(plan_dir: Path) -> None:
    root = _junit(plan_dir)
    suites = root.findall("testsuite")
    assert len(suites) == 5
    assert suites[2].get("name") == "GPU thermal stress pages on-call"
    assert root.get("failures") == "1" and root.get("errors") == "1"
    assert root.get("skipped") == "1"
    props = {p.get("name"): p.get("value") for p in suites[1].iter("property")}
    assert props["directory"] == "02-redis-down-tight-budget/"


def test_everything_is_escaped_and_xml_safe(failed_dir: Path) -> None:
    path = failed_dir / "result.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    nasty = 'a "quoted" <tag> & \x01control\x1b]0;title\x07 ]]> end'
    document["experiment"]["title"] = nasty
    failed = next(e for e in document["expectations"] if not e["passed"])
    failed["message"] = nasty
    failed["name"] = nasty
    path.write_text(json.dumps(document), encoding="utf-8")
    text = render_junit(load_report_set(failed_dir))
    root = ET.fromstring(text.encode("utf-8"))
    (failure,) = root.findall("testsuite/testcase/failure")
    assert failure.text == 'a "quoted" <tag> & \ufffdcontrol\ufffd]0;title\ufffd ]]> end'
    assert "<tag>" not in text
