"""Plain-text rendering for terminals: aligned tables and `runbook show`'s summary."""

from __future__ import annotations

from collections.abc import Sequence

from gameday.runbook.model import Runbook

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
                ["Alert", "Severity", "Response", "Threshold / expr", "Procedure", "Meaning"],
                [
                    [
                        a.name,
                        a.severity or "-",
                        a.response_time or "-",
                        a.threshold or a.expr or "-",
                        a.procedure or "-",
                        a.meaning or "-",
                    ]
                    for a in runbook.alerts
                ],
                max_width=40,
            )
        )
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
    for procedure in runbook.procedures:
        flag = " [rollback]" if procedure.is_rollback else ""
        out.append(
            f"- {procedure.title}{flag}: {len(procedure.steps)} steps, "
            f"{len(procedure.commands)} commands (line {procedure.line})"
        )
        for command in procedure.commands[:5]:
            out.append(f"    $ {_clip(command.text, 90)}")
        if len(procedure.commands) > 5:
            out.append(f"    … {len(procedure.commands) - 5} more")
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
    if runbook.warnings:
        out.append(_section("Warnings", len(runbook.warnings)))
        out.extend(f"- {w}" for w in runbook.warnings)
    return "\n".join(out) + "\n"
