"""junit.xml: one <testsuite> per experiment, one <testcase> per expectation.

CI systems read it as test results: `classname` is the experiment title,
`name` the expectation, `time` the measured seconds. A failed expectation is a
<failure> whose message gives measured against budget; a run that errored or
was interrupted gets an <error> testcase. Built with ElementTree (which
escapes), after removing the characters XML 1.0 cannot hold.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from gameday.model import Expectation
from gameday.report.directory import ExperimentReport, ReportSet, seconds_between
from gameday.verify.verdicts import shortfall

__all__ = ["failure_message", "render_junit", "xml_text"]

# Characters XML 1.0 forbids (C0 controls except tab/newline/return, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: object) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def failure_message(expectation: Expectation) -> str:
    """'RedisDown fires within 2s: 6.1s, 4.1s over the 2s budget', or the name and message."""
    figure = shortfall(expectation)
    return f"{expectation['name']}: {figure or expectation['message']}"


def _seconds(value: float | None) -> str:
    return f"{value or 0.0:.3f}"


def _suite(parent: ET.Element, experiment: ExperimentReport) -> tuple[int, int, int]:
    result = experiment.result
    expectations = result["expectations"] if result is not None else []
    problem = experiment.problem()
    duration = seconds_between(result["started_at"], result["ended_at"]) if result else None
    failures = sum(1 for e in expectations if not e["passed"])
    errors = 1 if problem is not None else 0
    skipped = 1 if experiment.skipped else 0
    tests = len(expectations) + errors + skipped
    suite = ET.SubElement(
        parent,
        "testsuite",
        {
            "name": xml_text(experiment.title),
            "tests": str(tests),
            "failures": str(failures),
            "errors": str(errors),
            "skipped": str(skipped),
            "time": _seconds(duration),
            **({"timestamp": xml_text(result["started_at"][:19])} if result else {}),
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("path", experiment.path),
        ("status", experiment.status),
        ("directory", experiment.prefix or "."),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": xml_text(value)})
    for expectation in expectations:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": xml_text(experiment.title),
                "name": xml_text(expectation["name"]),
                "time": _seconds(expectation["measured_s"]),
            },
        )
        if not expectation["passed"]:
            failure = ET.SubElement(
                case,
                "failure",
                {"message": xml_text(failure_message(expectation)), "type": expectation["kind"]},
            )
            failure.text = xml_text(expectation["message"])
    if skipped:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": xml_text(experiment.title), "name": "run completes", "time": "0.000"},
        )
        ET.SubElement(case, "skipped", {"message": xml_text(f"not run ({experiment.status})")})
    if problem is not None:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": xml_text(experiment.title), "name": "run completes", "time": "0.000"},
        )
        error = ET.SubElement(
            case, "error", {"message": xml_text(problem), "type": experiment.status}
        )
        if result is not None:
            error.text = xml_text(
                "\n".join(
                    f"+{e['elapsed_s']:.1f}s {e['kind']}: {e['detail']}"
                    for e in result["timeline"]
                    if e["kind"] in ("error", "interrupted", "rollbacks_completed")
                )
                or problem
            )
    return tests, failures, errors


def render_junit(report: ReportSet) -> str:
    """The JUnit XML document (UTF-8, with its declaration)."""
    root = ET.Element("testsuites", {"name": xml_text(f"gameday: {report.title}")})
    tests = failures = errors = skipped = 0
    for experiment in report.experiments:
        t, f, e = _suite(root, experiment)
        tests, failures, errors = tests + t, failures + f, errors + e
        skipped += experiment.skipped
    root.set("tests", str(tests))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    root.set("skipped", str(skipped))
    root.set("time", _seconds(report.duration_s))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
