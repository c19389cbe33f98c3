"""summary.md: short enough for a pull-request comment.

A verdict line, a table of experiments (status, expectations, MTTD, MTTR), the
production estimate of a lab that ran the rules in compressed time, and the
failed expectations with measured against budget. Text from the results
is escaped so that it cannot become Markdown or HTML.
"""

from __future__ import annotations

import re
from html import escape

from gameday.report.directory import ReportSet
from gameday.report.simulation import simulated_part
from gameday.verify.estimates import LAB_BUDGETS, estimate_of, estimate_parts
from gameday.verify.verdicts import shortfall

__all__ = ["markdown_text", "render_summary"]

_ICONS = {
    "passed": "✅",
    "failed": "❌",
    "aborted": "🛑",
    "interrupted": "⚠️",
    "error": "💥",
    "crashed": "💥",
    "skipped": "⏭️",
}
_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")
_MAX_FAILURES = 15


def markdown_text(text: str) -> str:
    """Plain text made safe for a Markdown table cell or list item (one line, nothing active)."""
    one_line = " ".join(str(text).split())
    return _SPECIAL.sub(r"\\\1", escape(one_line, quote=False))


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}s"


def render_summary(report: ReportSet) -> str:
    """The Markdown summary of a run or a plan."""
    met, total = report.expectation_counts()
    icon = _ICONS.get(report.status, "❔")
    lines = [
        f"### {icon} gameday {markdown_text(report.status.upper())}: {markdown_text(report.title)}",
        "",
    ]
    facts = [f"**{met}/{total}** expectations met"]
    if report.plan is not None:
        passed = sum(1 for e in report.experiments if e.status == "passed")
        facts.insert(0, f"**{passed}/{len(report.experiments)}** experiments passed")
    if report.duration_s is not None:
        facts.append(f"took {report.duration_s:.0f}s")
    lines += [" · ".join(facts), ""]

    lines += [
        "| | Experiment | Expectations | MTTD | MTTR |",
        "|---|---|---|---|---|",
    ]
    simulated: list[str] = []
    estimates: list[str] = []
    for experiment in report.experiments:
        result = experiment.result
        status = f"{_ICONS.get(experiment.status, '❔')} {markdown_text(experiment.status)}"
        if result is None:
            lines.append(f"| {status} | {markdown_text(experiment.title)} | — | — | — |")
            continue
        count = f"{sum(1 for e in result['expectations'] if e['passed'])}/"
        count += f"{len(result['expectations'])}"
        mttd = ", ".join(
            f"{markdown_text(alert)} {seconds:.1f}s"
            for alert, seconds in result["measurements"]["mttd_s"].items()
        )
        lines.append(
            f"| {status} | {markdown_text(experiment.title)} | {count} | {mttd or '—'} | "
            f"{_seconds(result['measurements']['mttr_s'])} |"
        )
        found = estimate_of(result["measurements"])
        if found is not None:
            time_scale, estimate = found
            where = f"{markdown_text(experiment.title)}: " if report.plan is not None else ""
            estimates.append(
                f"> **Production estimate** (×{time_scale:g}, the lab ran the rules in "
                f"compressed time; {markdown_text(LAB_BUDGETS)} ×{time_scale:g}): {where}"
                + markdown_text(" · ".join(estimate_parts(estimate)))
            )
        part = simulated_part(result)
        if part is not None:
            simulated.append(f"{markdown_text(experiment.title)} ({part.headline})")

    if estimates:
        lines += ["", "MTTD and MTTR above are lab seconds.", ""]
        lines += [line for estimate in estimates for line in (estimate, ">")][:-1]
    failures: list[str] = []
    for experiment in report.experiments:
        problem = experiment.problem()
        if problem is not None:
            failures.append(f"- {markdown_text(experiment.title)}: {markdown_text(problem)}")
        if experiment.result is None:
            continue
        for expectation in experiment.result["expectations"]:
            if expectation["passed"]:
                continue
            figure = shortfall(expectation)
            where = f"{markdown_text(experiment.title)}: " if report.plan is not None else ""
            detail = figure or expectation["message"]
            failures.append(
                f"- {where}**{markdown_text(expectation['name'])}**: {markdown_text(detail)}"
            )
    if failures:
        lines += ["", "**What failed**", ""]
        lines += failures[:_MAX_FAILURES]
        if len(failures) > _MAX_FAILURES:
            lines.append(f"- … and {len(failures) - _MAX_FAILURES} more (see junit.xml)")
    if simulated:
        lines += ["", f"> **Simulated parts:** {'; '.join(simulated)}."]
    lines += ["", "Full report: `index.html` · `junit.xml` in the report directory."]
    return "\n".join(lines) + "\n"
