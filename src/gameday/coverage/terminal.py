"""The coverage matrix and the seed systems' view as text, for `gameday coverage`."""

from __future__ import annotations

from gameday.coverage.matrix import Coverage
from gameday.coverage.seeds import STATUSES, SeedsCoverage
from gameday.runbook.terminal import format_duration, text_table

__all__ = ["render_coverage", "render_seed_coverage"]

_EXPECTS = {
    "fires": "fires",
    "does_not_fire": "must not fire",
    "delivered": "delivered",
    "routed": "routed",
}


def render_coverage(coverage: Coverage) -> str:
    rows = []
    for row in coverage.alerts:
        by_experiment: dict[str, list[str]] = {}
        for check in row.experiments:
            expects = _EXPECTS.get(check.expects, check.expects)
            if check.receiver:
                expects += f" → {check.receiver}"
            by_experiment.setdefault(check.experiment, []).append(expects)
        experiments = "; ".join(
            f"{title} ({', '.join(checks)})" for title, checks in by_experiment.items()
        )
        last = "never run" if row.last is None else ("passed" if row.last.passed else "FAILED")
        rows.append(
            [
                row.alert,
                "yes" if row.in_runbook else "NO",
                "yes" if row.rules else "NO",
                experiments or "-",
                last,
                format_duration(row.last.mttd_s if row.last else None),
                ", ".join(row.gaps) or "ok",
            ]
        )
    out = [
        f"Alert coverage: {coverage.runbook or '(no runbook)'}",
        f"rules from: {', '.join(coverage.rule_sources) or '(none)'}; "
        f"{len(coverage.experiments)} experiments; {coverage.results} results",
        "",
        text_table(
            ["Alert", "Runbook", "Rule", "Experiments", "Last run", "MTTD", "Gaps"],
            rows,
            max_width=80,
        ),
    ]
    if coverage.gaps:
        out += ["", f"Gaps ({len(coverage.gaps)})"]
        out += [f"- [{gap.kind}] {gap.alert}: {gap.message}" for gap in coverage.gaps]
    else:
        out += ["", "No gaps: every alert is described, defined, exercised and passing."]
    return "\n".join(out) + "\n"


def render_seed_coverage(view: SeedsCoverage) -> str:
    """Per seed system: every alert its runbook names, exercised as written, adapted or
    not, and why; then the counts of every system."""
    out: list[str] = []
    for system in view.systems:
        counts = system.counts()
        out += [
            f"Seed system {system.system}: {system.runbook}",
            f"profile: {system.profile}; {len(system.experiments)} experiments; "
            + ", ".join(f"{status} {counts[status]}" for status in STATUSES),
            "",
            text_table(
                ["Alert", "Severity", "Status", "Experiments"],
                [
                    [
                        f"{row.alert} ({row.runbook_name})" if row.runbook_name else row.alert,
                        row.severity or "-",
                        row.status,
                        ", ".join(row.experiments) or "-",
                    ]
                    for row in system.alerts
                ],
                max_width=80,
            ),
            "",
        ]
        out += [f"- {row.alert} ({row.status}): {row.why}" for row in system.alerts if row.why]
        out += [f"warning: {warning}" for warning in system.warnings]
        out.append("")
    out += [
        f"Seed systems ({len(view.systems)}), runbooks from {view.seeds}",
        text_table(
            ["System", "Alerts", *(status.capitalize() for status in STATUSES)],
            [
                [system.system, str(len(system.alerts))]
                + [str(system.counts()[status]) for status in STATUSES]
                for system in view.systems
            ],
        ),
    ]
    if view.runbooks_without_set:
        out += ["", f"No seed set for: {', '.join(view.runbooks_without_set)}"]
    return "\n".join(out) + "\n"
