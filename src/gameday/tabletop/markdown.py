"""The tabletop script as Markdown: what the facilitator reads from."""

from __future__ import annotations

import re

from gameday.runbook.model import Procedure
from gameday.runbook.terminal import format_duration
from gameday.tabletop.script import Scenario, TabletopScript

__all__ = ["render_markdown"]

_INJECT_LABEL = {
    "fault": "Inject",
    "remediation": "Remediate",
    "expect": "Expect",
    "check": "Check",
    "rollback": "Rollback",
    "alert": "Alert (seen)",
    "page": "Page (seen)",
}


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell (one line, pipes escaped); None → "-"."""
    if text is None:
        return "-"
    return " ".join(str(text).split()).replace("|", "\\|")


def _inline(text: str) -> str:
    """Text safe as inline Markdown: one line; characters that would start markup escaped."""
    text = " ".join(text.split())
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"T+{minutes:02d}:{secs:02d}"


def _fence(code: str, language: str = "") -> list[str]:
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    marker = "`" * max(3, longest + 1)
    return [f"{marker}{language}", *code.splitlines(), marker]


def _table(headers: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def _procedure(procedure: Procedure) -> list[str]:
    lines = [f"#### {_inline(procedure.title)}", ""]
    listed: set[int] = set()
    if procedure.steps:
        for number, step in enumerate(procedure.steps, start=1):
            lines.append(f"{number}. {_inline(step.text)}")
            for command in step.commands:
                listed.add(id(command))
                lines += ["", *("   " + line for line in _fence(command.text, command.language))]
            if step.commands:
                lines.append("")
    loose = [command for command in procedure.commands if id(command) not in listed]
    if loose:
        lines += ["", "Commands:", ""]
        for command in loose:
            lines += [*_fence(command.text, command.language), ""]
    return [*lines, ""]


def _scenario(number: int, scenario: Scenario) -> list[str]:
    out = [f"## Scenario {number}: {_inline(scenario.title)}", ""]
    out += [
        f"Experiment: `{scenario.path}`"
        + (f" — tags: {', '.join(scenario.tags)}" if scenario.tags else ""),
        "",
    ]
    out += [
        "### Narrative",
        "",
        _inline(scenario.narrative) or "(the experiment has no description)",
        "",
    ]
    if scenario.steady_state:
        out += [
            "Before starting, agree that the system is healthy: "
            + ", ".join(_inline(s) for s in scenario.steady_state)
            + ".",
            "",
        ]
    out += ["### Inject timeline", ""]
    if scenario.timing == "planned":
        out += [
            "T+0 is the start of the method; times follow the experiment's pauses, its "
            "deadlines (counted from the fault) and the alert rules' `for:`.",
            "",
        ]
    else:
        out += [f"Times as they happened in the run recorded in `{scenario.timing}`.", ""]
    if scenario.injects:
        out += _table(
            ["Time", "Kind", "What happens", "Detail"],
            [
                [_clock(i.at_s), _INJECT_LABEL.get(i.kind, i.kind), i.title, i.detail]
                for i in scenario.injects
            ],
        )
    else:
        out.append("(the experiment's method is empty)")
    out += ["", "### What participants will see", ""]
    if scenario.alerts:
        out += _table(
            ["Alert", "Expected", "Severity", "Meaning (runbook)", "Condition", "For"],
            [
                [
                    a.name,
                    a.expects,
                    a.severity or "-",
                    a.meaning if a.in_runbook else (a.meaning or "(not in the runbook)"),
                    a.condition or "-",
                    a.for_ or "-",
                ]
                for a in scenario.alerts
            ],
        )
    else:
        out.append(
            "No alert is expected: participants see only symptoms (errors, latency, user reports)."
        )
    if scenario.dashboards:
        out += ["", "Dashboards the runbook names:", ""]
        out += [
            f"- {_inline(d.name)}"
            + (f": <{d.url}>" if d.url.startswith("http") else (f": `{d.url}`" if d.url else ""))
            for d in scenario.dashboards
        ]
    out += ["", "### Expected response", ""]
    for procedure in scenario.procedures:
        out += _procedure(procedure)
    here = {procedure.title for procedure in scenario.procedures}
    elsewhere = [
        (a.name, a.procedure)
        for a in scenario.alerts
        if a.procedure and a.procedure not in here and a.expects != "must not fire"
    ]
    for name, reference in elsewhere:
        out += [f"- {_inline(name)}: follow `{_cell(reference)}` (outside this runbook)"]
    if elsewhere:
        out.append("")
    if not scenario.procedures and not elsewhere:
        out += ["The runbook names no procedure for these alerts.", ""]
    out += ["### Targets", ""]
    out += (
        _table(["Target", "Value"], [[label, value] for label, value in scenario.targets])
        if scenario.targets
        else ["(the runbook states no targets)"]
    )
    out += ["", "### Discussion questions", ""]
    out += [f"{n}. {_inline(q)}" for n, q in enumerate(scenario.questions, start=1)]
    out += [
        "",
        "### Scoring sheet",
        "",
        "Score each checkpoint 0 (missed), 1 (partly), 2 (as the runbook says).",
        "",
    ]
    out += _table(
        ["Checkpoint", "Target", "Observed", "Score (0-2)", "Notes"],
        [[r.checkpoint, r.target, "", "", ""] for r in scenario.scoring],
    )
    out += [""]
    if scenario.measured is not None:
        m = scenario.measured
        out += ["### What the automated run measured", ""]
        out += [f"Last run: **{m.status}** (ended {m.ended_at or 'unknown'}; `{m.result}`)", ""]
        rows: list[list[object]] = [
            [f"MTTD {alert}", format_duration(value)] for alert, value in m.mttd_s.items()
        ]
        rows += [
            [f"Time to notify {alert}", format_duration(value)]
            for alert, value in m.time_to_notify_s.items()
        ]
        rows.append(["MTTR", format_duration(m.mttr_s)])
        out += _table(["Measurement", "Value"], rows)
        if m.expectations:
            out += [""]
            out += _table(
                ["Expectation", "Result", "Measured", "Budget", "Message"],
                [
                    [
                        e.name,
                        "passed" if e.passed else "FAILED",
                        format_duration(e.measured_s),
                        format_duration(e.budget_s),
                        e.message,
                    ]
                    for e in m.expectations
                ],
            )
        out += [""]
    return out


def render_markdown(script: TabletopScript) -> str:
    out = [f"# Tabletop exercise: {_inline(script.title)}", ""]
    if script.description:
        out += [_inline(script.description), ""]
    out += [
        f"Source: `{script.source}` — runbook: `{script.runbook}`",
        "",
        "This exercise needs no infrastructure. The facilitator reads each inject at its time; "
        "participants say what they see, decide and do; the scorer fills in the sheet.",
        "",
    ]
    if script.escalation:
        out += ["## Escalation path (from the runbook)", ""]
        out += _table(
            ["Level", "Who", "Contact", "Response", "When"],
            [
                [e.level, e.name, e.contact, e.response_time or "-", e.condition or "-"]
                for e in script.escalation
            ],
        )
        out += [""]
    for number, scenario in enumerate(script.scenarios, start=1):
        out += _scenario(number, scenario)
    if script.unexercised:
        out += ["## Alerts no scenario exercises", ""]
        out += [f"- {_inline(name)}" for name in script.unexercised]
        out += [
            "",
            "Consider a scenario for each: an alert nobody has seen fire is an untested promise.",
            "",
        ]
    return "\n".join(out).rstrip() + "\n"
