"""`render_report`: (re)write index.html, summary.md and junit.xml from a report directory.

Reads only the JSON files a run or a plan wrote (`result.json`,
`plan-result.json`); Prometheus is not needed.
"""

from __future__ import annotations

from pathlib import Path

from gameday.record.files import write_text
from gameday.report.directory import load_report_set
from gameday.report.junit import render_junit
from gameday.report.markdown import render_summary
from gameday.report.page import render_html
from gameday.runbook.model import Runbook

__all__ = ["HTML_NAME", "JUNIT_NAME", "SUMMARY_NAME", "render_report"]

HTML_NAME = "index.html"
SUMMARY_NAME = "summary.md"
JUNIT_NAME = "junit.xml"


def render_report(directory: Path, *, runbook: Runbook | None = None) -> list[Path]:
    """Write the three reports into `directory`; returns their paths.

    `directory` holds a run's `result.json` or a plan's `plan-result.json`;
    InvalidInputError (exit 2) when it holds neither. With `runbook`, the
    detection and recovery table shows the runbook's MTTD/MTTR targets and the
    error-ratio chart its error-rate SLO.
    """
    report = load_report_set(directory)
    return [
        write_text(directory / HTML_NAME, render_html(report, runbook)),
        write_text(directory / SUMMARY_NAME, render_summary(report)),
        write_text(directory / JUNIT_NAME, render_junit(report)),
    ]
