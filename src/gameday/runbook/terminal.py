"""Plain-text rendering for terminals: aligned tables and `runbook show`'s summary."""

from __future__ import annotations

from collections.abc import Sequence

from gameday.runbook.model import Alert, Procedure, Runbook

__all__ = ["format_duration", "render_runbook", "text_table"]


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 48) -> str:
    """An aligned text table; cells are flattened to one line and clipped to `max_width`."""
    cells = [[_clip(str(cell), max_width) for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    lines = ["  ".join(header.ljust(widths[i]) for i, header in enumerate(headers)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    lines.extend(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells
    )
    return "\n".join(lines)


def format_duration(seconds: float | None) -> str:
    """ "42.5s", "5m", "1h30m"; "-" for None."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs}s" if secs else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m" if minutes else f"{hours}h"


def _section(title: str, count: int | None = None) -> str:
    label = f"{title} ({count})" if count is not None else title
    return f"\n{label}\n{'=' * len(label)}"


def _mark(alert: Alert, field: str, text: str) -> str:
    return f"~{text}" if field in alert.inferred and text != "-" else text


def _severity(alert: Alert) -> str:
    """ "critical (P1)": the normalised severity and, when it differs, what the runbook wrote."""
    if alert.severity is None:
        return f"? ({alert.severity_stated})" if alert.severity_stated else "-"
    stated = alert.severity_stated
    if stated and stated.lower() != alert.severity:
        return f"{alert.severity} ({stated})"
    return alert.severity


def _procedure_lines(procedure: Procedure, alerts: list[str]) -> list[str]:
    flag = " [rollback]" if procedure.is_rollback else ""
    answers = f" — for {', '.join(alerts)}" if alerts else ""
    lines = [
        f"- {procedure.title}{flag}{answers} (line {procedure.line}): "
        f"{len(procedure.steps)} steps, {len(procedure.commands)} commands"
    ]
    in_steps = set()
    section = ""
    for number, step in enumerate(procedure.steps, start=1):
        if step.section and step.section != section:
            section = step.section
            lines.append(f"    [{section}]")
        lines.append(f"    {number}. {_clip(step.text, 100)}")
        for command in step.commands:
            in_steps.add(id(command))
            lines.append(f"       $ {_clip(command.text, 90)}")
    loose = [c for c in procedure.commands if id(c) not in in_steps]
    for command in loose[:8]:
        lines.append(f"    $ {_clip(command.text, 90)}")
    if len(loose) > 8:
        lines.append(f"    … {len(loose) - 8} more commands")
    return lines


def render_runbook(runbook: Runbook) -> str:
    """What gameday understood from a runbook, for a person to check at a glance."""
    out: list[str] = [f"{runbook.title or '(untitled)'}  [{runbook.source}]"]
    if runbook.services:
        out.append(_section("Services", len(runbook.services)))
        out.append(
            text_table(
                ["Name", "Kind", "Description"],
                [[s.name, s.kind, s.description] for s in runbook.services],
            )
        )
    out.append(_section("Alerts", len(runbook.alerts)))
    if runbook.alerts:
        out.append(
            text_table(
                [
                    "Alert",
                    "Severity",
                    "For",
                    "Response",
                    "Threshold / expr",
                    "Procedure",
                    "Meaning",
                ],
                [
                    [
                        a.name,
                        _mark(a, "severity", _severity(a)),
                        a.for_ or "-",
                        a.response_time or "-",
                        a.threshold or a.expr or "-",
                        _mark(a, "procedure", a.procedure or "-"),
                        a.meaning or "-",
                    ]
                    for a in runbook.alerts
                ],
                max_width=40,
            )
        )
        out.append("~ inferred (by section, heading or name), not stated in the runbook")
        for alert in runbook.alerts:
            extra = []
            if alert.aliases:
                extra.append(f"also written {', '.join(alert.aliases)}")
            if alert.escalation:
                extra.append(f"escalate: {'; '.join(alert.escalation)}")
            if extra:
                out.append(f"  {alert.name}: " + " | ".join(_clip(e, 100) for e in extra))
    else:
        out.append("(none found)")
    if runbook.slos:
        out.append(_section("SLO targets", len(runbook.slos)))
        out.append(
            text_table(
                ["Target", "Kind", "Value", "Measurement"],
                [[s.name, s.kind, s.target, s.measurement] for s in runbook.slos],
            )
        )
    if runbook.severity_levels:
        out.append(_section("Severity levels", len(runbook.severity_levels)))
        out.append(
            text_table(
                ["Severity", "Response", "Definition"],
                [[s.name, s.response_time or "-", s.definition] for s in runbook.severity_levels],
            )
        )
    out.append(_section("Procedures", len(runbook.procedures)))
    answers: dict[str, list[str]] = {}
    for alert in runbook.alerts:
        if alert.procedure:
            answers.setdefault(alert.procedure, []).append(alert.name)
    for procedure in runbook.procedures:
        out.extend(_procedure_lines(procedure, answers.get(procedure.title, [])))
    if runbook.escalation:
        out.append(_section("Escalation", len(runbook.escalation)))
        out.append(
            text_table(
                ["Level", "Who", "Contact", "Response", "When"],
                [
                    [
                        str(e.level),
                        e.name,
                        e.contact or "-",
                        e.response_time or "-",
                        e.condition or "-",
                    ]
                    for e in runbook.escalation
                ],
            )
        )
    if runbook.contacts:
        out.append(_section("Contacts", len(runbook.contacts)))
        out.extend(f"- {c.role}: {c.value}" for c in runbook.contacts)
    if runbook.dashboards:
        out.append(_section("Dashboards", len(runbook.dashboards)))
        out.extend(f"- {d.name}: {d.url}" for d in runbook.dashboards)
    if runbook.rollback_triggers:
        out.append(_section("Rollback triggers", len(runbook.rollback_triggers)))
        out.extend(
            f"- {t.condition}" + (f"  (in {t.procedure})" if t.procedure else "")
            for t in runbook.rollback_triggers
        )
    if runbook.rules:
        out.append(_section("Embedded alert rules", len(runbook.rules)))
        out.append(
            text_table(
                ["Rule", "Group", "For", "Severity", "Expr"],
                [
                    [r.name, r.group, r.for_ or "-", r.severity or "-", r.expr]
                    for r in runbook.rules
                ],
                max_width=60,
            )
        )
    if runbook.notes:
        out.append(_section("Notes", len(runbook.notes)))
        out.extend(f"- {n}" for n in runbook.notes)
    if runbook.warnings:
        out.append(_section("Warnings", len(runbook.warnings)))
        out.extend(f"- {w}" for w in runbook.warnings)
    return "\n".join(out) + "\n"
