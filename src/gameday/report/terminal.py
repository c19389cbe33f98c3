"""The summary printed at the end of a run: each expectation, pass or fail, against budgets."""

from __future__ import annotations

from gameday.model import RunResult
from gameday.verify.estimates import LAB_BUDGETS, estimate_of, estimate_parts, scale_text
from gameday.verify.verdicts import shortfall

VERDICTS = {
    "passed": "PASSED",
    "failed": "FAILED",
    "aborted": "ABORTED by a stop condition (rolled back)",
    "interrupted": "INTERRUPTED (rolled back)",
    "error": "ERROR",
    "crashed": "CRASHED (recovered)",
}


def summary_lines(result: RunResult, report_dir: str) -> list[str]:
    lines = [f"{result['experiment']['title']}"]
    for event in result["timeline"]:
        if event["kind"] == "stop_condition_tripped":
            lines.append(f"  STOP  stop condition tripped: {event['detail']}")
        elif event["kind"] == "alert_active_at_fault":
            lines.append(f"  note  not credited to the fault: {event['detail']}")
    for expectation in result["expectations"]:
        mark = "PASS" if expectation["passed"] else "FAIL"
        figure = shortfall(expectation)
        line = f"  {mark}  {expectation['name']}"
        if figure:
            line += f"  [{figure}]"
        lines.append(line)
        if not expectation["passed"]:
            lines.append(f"        {expectation['message']}")
    measured = result["measurements"]
    parts = [f"MTTD {alert} {value:.1f}s" for alert, value in measured["mttd_s"].items()]
    parts += [
        f"notify {alert} {value:.1f}s" for alert, value in measured["time_to_notify_s"].items()
    ]
    if measured["mttr_s"] is not None:
        parts.append(f"MTTR {measured['mttr_s']:.1f}s")
    if parts:
        lines.append("  measured: " + " · ".join(parts))
        estimate = estimate_line(result)
        if estimate:
            lines.append("  " + estimate)
    load = result["load"]
    if load is not None:
        workers = load.get("workers", 0)
        spread = f" on {workers} Locust workers" if workers else ""
        lines.append(
            f"  load: {load['requests']} requests, {load['failures']} failed, "
            f"{load['requests_per_s']} req/s, p95 {load['p95_ms']}ms "
            f"({load['users']} users{spread})"
        )
    met = sum(1 for e in result["expectations"] if e["passed"])
    lines.append(
        f"verdict: {VERDICTS[result['status']]} "
        f"({met}/{len(result['expectations'])} expectations met)  "
        f"report: {report_dir}/index.html"
    )
    return lines


def estimate_line(result: RunResult) -> str:
    """The measured times scaled back to production when the lab ran the rules in compressed
    time; "" for a real-time run (and for results older than time scales)."""
    found = estimate_of(result["measurements"])
    if found is None:
        return ""
    time_scale, estimate = found
    return (
        f"production estimate (lab ran the rules {scale_text(time_scale)} faster; "
        f"{LAB_BUDGETS} ×{time_scale:g}): {' · '.join(estimate_parts(estimate))}"
    )
