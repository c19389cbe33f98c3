"""The coverage matrix as text, for `gameday coverage`."""

from __future__ import annotations

from gameday.coverage.matrix import Coverage
from gameday.runbook.terminal import format_duration, text_table

__all__ = ["render_coverage"]

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
