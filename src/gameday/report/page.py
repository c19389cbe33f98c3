"""index.html: one self-contained page (inline CSS and SVG; no script, font or network).

Verdict first, then per experiment: the timeline chart, detection and
recovery against budgets and runbook targets, the load, the expectations,
the timeline as a table and links to the raw files. Every piece of text from
the results goes through `html.escape`.
"""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from pathlib import Path

from gameday import __version__
from gameday.model import RunResult, TimelineEvent
from gameday.report.charts import MARKERS, PANELS, SIDES, marker_swatch, timeline_chart
from gameday.report.directory import ExperimentReport, ReportSet, seconds_between
from gameday.report.result_file import JOURNAL_NAME, RESULT_NAME
from gameday.report.simulation import SimulatedPart, simulated_part
from gameday.report.targets import MeasureRow, measure_rows
from gameday.runbook.model import Runbook
from gameday.verify.estimates import estimate_of, estimate_seconds, scale_text
from gameday.verify.verdicts import shortfall

__all__ = ["STATUS_LABELS", "render_html"]

STATUS_LABELS = {
    "passed": "PASSED",
    "failed": "FAILED",
    "aborted": "ABORTED",
    "interrupted": "INTERRUPTED",
    "error": "ERROR",
    "crashed": "CRASHED",
}

_MINOR_KINDS = frozenset(
    {"activity_started", "activity_completed", "method_started", "steady_state_started"}
)

_CSS = """
:root {
  --ink: #111827; --muted: #6b7280; --faint: #9ca3af; --line: #e5e7eb; --bg: #f6f7f9;
  --card: #ffffff; --pass: #15803d; --pass-bg: #dcfce7; --fail: #b91c1c; --fail-bg: #fee2e2;
  --warn: #b45309; --warn-bg: #fef3c7; --err: #9f1239; --err-bg: #ffe4e6;
  --other: #4b5563; --other-bg: #e5e7eb;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
    "Noto Sans", "Liberation Sans", "DejaVu Sans", Arial, sans-serif;
}
code, .mono, td.num, .num {
  font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono",
    "DejaVu Sans Mono", monospace; font-size: 12.5px;
}
.num { font-variant-numeric: tabular-nums; }
a { color: #1d4ed8; text-decoration: none; }
a:hover { text-decoration: underline; }
.wrap { max-width: 1120px; margin: 0 auto; padding: 0 24px; }
header.verdict { background: #fff; border-bottom: 1px solid var(--line); border-top: 6px solid;
  padding: 22px 0 18px; }
header.st-passed { border-top-color: var(--pass); }
header.st-failed { border-top-color: var(--fail); }
header.st-interrupted, header.st-aborted { border-top-color: var(--warn); }
header.st-crashed { border-top-color: var(--err); }
header.st-error { border-top-color: var(--err); }
.eyebrow { color: var(--muted); font-size: 12px; letter-spacing: .06em; text-transform: uppercase; }
h1 { font-size: 24px; line-height: 1.25; margin: 4px 0 12px; }
h2 { font-size: 19px; line-height: 1.3; margin: 0; display: flex; gap: 10px; align-items: center; }
h3 { font-size: 13px; margin: 0 0 10px; color: var(--muted); text-transform: uppercase;
  letter-spacing: .05em; }
.verdict-row { display: flex; align-items: center; gap: 18px; flex-wrap: wrap; }
.badge { display: inline-block; border-radius: 6px; padding: 1px 8px; font-weight: 700;
  font-size: 12px; letter-spacing: .04em; white-space: nowrap; }
.badge.big { font-size: 26px; padding: 6px 18px; border-radius: 10px; letter-spacing: .06em; }
.st-passed .badge.big, .badge.st-passed { background: var(--pass-bg); color: var(--pass); }
.st-failed .badge.big, .badge.st-failed { background: var(--fail-bg); color: var(--fail); }
.st-interrupted .badge.big, .badge.st-interrupted, .st-aborted .badge.big, .badge.st-aborted {
  background: var(--warn-bg); color: var(--warn); }
.st-error .badge.big, .badge.st-error, .st-crashed .badge.big, .badge.st-crashed {
  background: var(--err-bg); color: var(--err); }
.badge.st-other, .st-other .badge.big { background: var(--other-bg); color: var(--other); }
.counts { font-size: 17px; }
.counts strong { font-size: 20px; }
.meta { color: var(--muted); font-size: 13px; margin-top: 8px; }
.meta span + span::before { content: "·"; margin: 0 8px; color: var(--faint); }
.what-failed { margin: 14px 0 0; padding: 10px 14px; background: var(--fail-bg);
  border-radius: 8px; color: #7f1d1d; }
.what-failed ul { margin: 4px 0 0; padding-left: 18px; }
main { padding: 8px 0 40px; }
.note { margin: 18px 0 0; padding: 12px 16px; border-radius: 8px; border: 1px solid #c4b5fd;
  background: #f5f3ff; color: #4c1d95; }
.note strong { text-transform: uppercase; letter-spacing: .04em; }
.note ul { margin: 6px 0 0; padding-left: 18px; font-size: 12.5px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 16px 18px; margin-top: 16px; }
section.experiment { margin-top: 34px; }
section.experiment > .head { padding-bottom: 4px; border-bottom: 2px solid var(--line); }
.grid2 { display: grid; grid-template-columns: 2fr 1fr; gap: 16px; }
.grid2 > .card { margin-top: 16px; }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; font-size: 12px; color: var(--muted); font-weight: 600;
  border-bottom: 1px solid var(--line); padding: 6px 10px 6px 0; }
td { border-bottom: 1px solid #f1f2f4; padding: 6px 10px 6px 0; vertical-align: top; }
tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.msg { color: #374151; }
tr.fail td { background: #fff5f5; }
tr.minor td { color: var(--faint); }
tr.minor td .kind { background: transparent; color: var(--faint); }
.kind { display: inline-block; font-size: 11.5px; padding: 0 6px; border-radius: 4px;
  background: #f3f4f6; color: #374151; white-space: nowrap; }
.ok { color: var(--pass); font-weight: 600; }
.bad { color: var(--fail); font-weight: 600; }
.pill { display: inline-block; font-size: 11.5px; padding: 0 7px; border-radius: 9px;
  white-space: nowrap; }
.pill.ok { background: var(--pass-bg); }
.pill.bad { background: var(--fail-bg); }
td.verdicts { white-space: nowrap; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px;
  margin-top: 16px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 10px 14px; }
.tile .label { color: var(--muted); font-size: 12px; }
.tile .value { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums;
  line-height: 1.2; }
.tile .sub { color: var(--muted); font-size: 12px; }
.tile-bad { border-color: #fca5a5; }
.tile-bad .value { color: var(--fail); }
.dim { color: var(--faint); }
.data { color: var(--faint); font-size: 11.5px; word-break: break-word; }
dl.load { display: grid; grid-template-columns: auto 1fr; gap: 4px 16px; margin: 0; }
dl.load dt { color: var(--muted); }
dl.load dd { margin: 0; text-align: right; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 12px; color: #374151;
  margin-top: 6px; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
.legend .line { width: 18px; height: 0; border-top: 2.5px solid; display: inline-block; }
.legend .fault { width: 16px; height: 11px; background: #fecaca; display: inline-block;
  border-radius: 2px; }
.legend .slo { width: 18px; border-top: 1.5px dashed #6b7280; display: inline-block; }
svg.timeline-chart { display: block; margin-top: 4px; }
svg.timeline-chart text { font-family: inherit; font-size: 11px; fill: #4b5563; }
svg.timeline-chart .panel-title { font-size: 12px; font-weight: 600; fill: #111827; }
svg.timeline-chart .panel-title .unit { font-weight: 400; fill: #6b7280; }
svg.timeline-chart .axis-title { font-size: 11.5px; fill: #6b7280; }
svg.timeline-chart .fault-label { font-size: 10.5px; font-weight: 600; fill: #b91c1c; }
svg.timeline-chart .lane-label { font-size: 11px; fill: #6b7280; }
svg.timeline-chart .marker-label { font-size: 10px; fill: #374151; }
svg.timeline-chart .lane-rule { stroke: #f1f2f4; }
svg.timeline-chart .grid { stroke: #eef0f3; }
svg.timeline-chart .grid-x { stroke: #f5f6f8; }
svg.timeline-chart .axis, svg.timeline-chart .tick { stroke: #9ca3af; }
svg.timeline-chart .guide { stroke-width: 1; stroke-dasharray: 2 3; opacity: .45; }
svg.timeline-chart .slo-target line { stroke: #6b7280; stroke-dasharray: 5 4; }
svg.timeline-chart .slo-target text { font-size: 10px; fill: #6b7280; }
svg.timeline-chart .no-data { fill: #9ca3af; font-style: italic; }
.estimate-note { margin: 10px 0 0; font-size: 12.5px; color: #374151; }
td.estimate { color: #4338ca; }
.files a { margin-right: 14px; }
.files { font-size: 13px; }
footer { color: var(--faint); font-size: 12px; padding: 20px 0 30px; border-top: 1px solid
  var(--line); }
@media (max-width: 800px) { .grid2 { grid-template-columns: 1fr; } }
@media print { body { background: #fff; } .card { break-inside: avoid; } }
"""


def _status_class(status: str) -> str:
    return f"st-{status}" if status in STATUS_LABELS else "st-other"


def _badge(status: str, *, big: bool = False) -> str:
    label = STATUS_LABELS.get(status, status.upper())
    size = " big" if big else ""
    return f'<span class="badge{size} {_status_class(status)}">{escape(label)}</span>'


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}s"


def _when(stamp: str) -> str:
    try:
        moment = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return stamp
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m {rest:02d}s"


def _error_target(runbook: Runbook | None) -> float | None:
    if runbook is None:
        return None
    for slo in runbook.slo("error_rate"):
        if slo.value is not None and slo.unit == "ratio":
            return slo.value
    return None


def _simulated_note(part: SimulatedPart) -> str:
    items = "".join(f"<li>{escape(line)}</li>" for line in part.evidence)
    return (
        '<div class="note simulated">'
        f"<strong>{escape(part.headline)}</strong> — this run used a simulated part. Its "
        "figures show that the alerting, routing and remediation paths work; they are not "
        "measurements of real hardware."
        f"<ul>{items}</ul></div>"
    )


def _legend(error_target: float | None) -> str:
    items = [
        f'<span><i class="line" style="border-color:{colour}"></i>{escape(label)}</span>'
        for label, colour in SIDES.values()
    ]
    items.append('<span><i class="fault"></i>fault window</span>')
    if error_target is not None:
        items.append('<span><i class="slo"></i>runbook error-rate SLO</span>')
    items += [f"<span>{marker_swatch(m)}{escape(m.label)}</span>" for m in MARKERS]
    return '<div class="legend">' + "".join(items) + "</div>"


_NO_BUDGET = '<span class="dim">no budget</span>'


def estimate_label(time_scale: float) -> str:
    """What the page calls the measured times scaled back to production."""
    return f"production estimate (×{time_scale:g}, the lab ran the rules in compressed time)"


def _estimate_cell(row: MeasureRow) -> str:
    if row.estimate_s is None:
        return "<td class='num'>—</td>"
    budget = (
        ""
        if row.estimate_budget_s is None
        else f" <span class='dim'>of {estimate_seconds(row.estimate_budget_s)}</span>"
    )
    return f"<td class='num estimate'>{estimate_seconds(row.estimate_s)}{budget}</td>"


def _estimate_note(time_scale: float) -> str:
    return (
        f'<p class="estimate-note"><strong>{escape(estimate_label(time_scale))}</strong>: '
        f"each time measured on the lab × {time_scale:g}. Budgets written in the experiment "
        f"are lab budgets; the estimate column shows them × {time_scale:g}. Measured times "
        "and verdicts are the lab's.</p>"
    )


def _measure_table(
    rows: list[MeasureRow], runbook: Runbook | None, time_scale: float | None = None
) -> str:
    if not rows:
        return '<p class="dim">Nothing was measured (no alert fired, no SLO was restored).</p>'
    estimate_head = (
        "" if time_scale is None else f"<th class='num'>Production estimate (×{time_scale:g})</th>"
    )
    head = (
        "<tr><th>Measure</th><th class='num'>Measured"
        + (" on the lab" if time_scale is not None else "")
        + "</th><th class='num'>Budget</th>"
        + estimate_head
        + ("<th class='num'>Runbook target</th>" if runbook is not None else "")
        + "<th>Verdict</th></tr>"
    )
    body: list[str] = []
    for row in rows:
        verdicts: list[str] = []
        if row.within_budget is not None:
            verdicts.append(
                '<span class="pill ok">✓ budget</span>'
                if row.within_budget
                else '<span class="pill bad">✗ over budget</span>'
            )
        if row.within_target is not None:
            verdicts.append(
                '<span class="pill ok">✓ runbook</span>'
                if row.within_target
                else '<span class="pill bad">✗ misses runbook</span>'
            )
        target = "—"
        if row.target is not None:
            target = (
                f"{escape(row.target.target)} <span class='dim'>({escape(row.target.name)})</span>"
            )
        failing = row.within_budget is False or row.within_target is False
        body.append(
            f"<tr{' class=fail' if failing else ''}><td>{escape(row.label)}</td>"
            f"<td class='num'>{_seconds(row.measured_s)}</td>"
            f"<td class='num'>{_seconds(row.budget_s)}</td>"
            + (_estimate_cell(row) if time_scale is not None else "")
            + (f"<td class='num'>{target}</td>" if runbook is not None else "")
            + f"<td class='verdicts'>{' '.join(verdicts) or _NO_BUDGET}</td></tr>"
        )
    table = f"<table class='measures'>{head}{''.join(body)}</table>"
    return table if time_scale is None else table + _estimate_note(time_scale)


def _tile(label: str, value: str, sub: str, *, bad: bool = False) -> str:
    return (
        f'<div class="tile{" tile-bad" if bad else ""}"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div><div class="sub">{escape(sub)}</div></div>'
    )


def _peak(result: RunResult, name: str) -> float | None:
    values = [float(v) for _, v in result["series"].get(name) or [] if isinstance(v, int | float)]
    return max(values) if values else None


def _tiles(result: RunResult, rows: list[MeasureRow]) -> str:
    tiles: list[str] = []
    for kind, label in (("mttd", "MTTD"), ("notify", "Time to notify"), ("mttr", "MTTR")):
        chosen = [row for row in rows if row.kind == kind]
        if not chosen:
            tiles.append(_tile(label, "—", "not measured"))
            continue
        missed = [r for r in chosen if r.within_budget is False or r.within_target is False]
        slowest = max(missed or chosen, key=lambda row: row.measured_s)
        parts = [slowest.subject or ""]
        if len(chosen) > 1 and not missed:
            parts[0] = f"slowest of {len(chosen)}: {slowest.subject}"
        if slowest.budget_s is not None:
            parts.append(f"budget {slowest.budget_s:g}s")
        if slowest.estimate_s is not None:
            parts.append(f"production estimate {estimate_seconds(slowest.estimate_s)}")
        tiles.append(
            _tile(
                label,
                _seconds(slowest.measured_s),
                " · ".join(p for p in parts if p),
                bad=bool(missed),
            )
        )
    server, client = _peak(result, "server_error_ratio"), _peak(result, "client_error_ratio")
    if server is not None or client is not None:
        sub = "server side" + (f" · client side {client * 100:.1f}%" if client is not None else "")
        shown = server if server is not None else client
        tiles.append(_tile("Peak error ratio", f"{(shown or 0.0) * 100:.1f}%", sub))
    load = result["load"]
    if load is not None and load["requests"]:
        tiles.append(
            _tile(
                "Failed requests",
                f"{load['failures'] / load['requests'] * 100:.1f}%",
                f"{load['failures']:,} of {load['requests']:,} (Locust)",
            )
        )
    return '<div class="tiles">' + "".join(tiles) + "</div>"


def _load(result: RunResult) -> str:
    load = result["load"]
    if load is None:
        return '<p class="dim">No load ran with this experiment.</p>'
    failed_share = load["failures"] / load["requests"] * 100 if load["requests"] else 0.0
    workers = load.get("workers", 0)
    rows = [
        ("Users", f"{load['users']}"),
        *([("Locust workers", f"{workers}")] if workers else []),
        ("Requests", f"{load['requests']:,}"),
        ("Failures", f"{load['failures']:,} ({failed_share:.1f}%)"),
        ("Throughput", f"{load['requests_per_s']:.1f} req/s"),
        ("p50 latency", "—" if load["p50_ms"] is None else f"{load['p50_ms']:g} ms"),
        ("p95 latency", "—" if load["p95_ms"] is None else f"{load['p95_ms']:g} ms"),
    ]
    items = "".join(
        f"<dt>{label}</dt><dd class='num'>{escape(value)}</dd>" for label, value in rows
    )
    return f'<dl class="load">{items}</dl>'


def _expectations(result: RunResult) -> str:
    if not result["expectations"]:
        return '<p class="dim">No expectation was checked.</p>'
    body: list[str] = []
    for expectation in result["expectations"]:
        passed = expectation["passed"]
        figure = shortfall(expectation)
        body.append(
            f"<tr class='{'pass' if passed else 'fail'}'>"
            f"<td>{_badge('passed' if passed else 'failed')}</td>"
            f"<td>{escape(expectation['name'])}</td>"
            f"<td class='num'>{escape(figure) if figure else '<span class=dim>—</span>'}</td>"
            f"<td class='msg'>{escape(expectation['message'])}</td></tr>"
        )
    head = "<tr><th></th><th>Expectation</th><th class='num'>Measured</th><th>Message</th></tr>"
    return f"<table class='expectations'>{head}{''.join(body)}</table>"


def _data(event: TimelineEvent) -> str:
    if event["kind"] in _MINOR_KINDS or not event["data"]:
        return ""
    # Nested values (an alert's full label set) are noise here, unless they say "simulated".
    text = ", ".join(
        f"{key}={value if isinstance(value, str | int | float) else json.dumps(value)}"
        for key, value in event["data"].items()
        if isinstance(value, str | int | float) or "simulated" in json.dumps(value).lower()
    )
    if not text:
        return ""
    if len(text) > 220:
        text = text[:219] + "…"
    return f'<div class="data">{escape(text)}</div>'


def _timeline(result: RunResult) -> str:
    body: list[str] = []
    for event in result["timeline"]:
        minor = event["kind"] in _MINOR_KINDS
        clock = event["at"][11:23] if len(event["at"]) >= 23 else event["at"]
        body.append(
            f"<tr class='ev ev-{escape(event['kind'])}{' minor' if minor else ''}'>"
            f"<td class='num'>+{event['elapsed_s']:.1f}s</td>"
            f"<td class='num dim'>{escape(clock)}</td>"
            f"<td><span class='kind'>{escape(event['kind'].replace('_', ' '))}</span></td>"
            f"<td>{escape(event['detail'])}{_data(event)}</td></tr>"
        )
    head = (
        "<tr><th class='num'>Since start</th><th class='num'>UTC</th>"
        "<th>Event</th><th>Detail</th></tr>"
    )
    return f"<table class='timeline'>{head}{''.join(body)}</table>"


def _files(experiment: ExperimentReport) -> str:
    paths = [experiment.prefix + name for name in (RESULT_NAME, JOURNAL_NAME)]
    links = [
        f'<a href="{escape(path, quote=True)}">{escape(path)}</a>'
        for path in paths
        if (experiment.directory / Path(path).name).is_file()
    ]
    return "".join(links) or '<span class="dim">none</span>'


def _experiment(experiment: ExperimentReport, runbook: Runbook | None, *, plan: bool) -> str:
    result = experiment.result
    header = f'<div class="head"><h2>{_badge(experiment.status)} {escape(experiment.title)}</h2>'
    if result is None:
        return (
            f'<section class="experiment {_status_class(experiment.status)}" '
            f'id="{experiment.anchor}">{header}</div>'
            f'<div class="card"><p>No {RESULT_NAME} in '
            f"<code>{escape(experiment.prefix or '.')}</code>: this experiment did not produce a "
            f"result (plan status: {escape(experiment.status)}).</p></div></section>"
        )
    met = sum(1 for e in result["expectations"] if e["passed"])
    took = _duration(seconds_between(result["started_at"], result["ended_at"]))
    meta = [
        f"<span>experiment <code>{escape(experiment.path)}</code></span>",
        *([f"<span>started {escape(_when(result['started_at']))}</span>"] if plan else []),
        *([f"<span>took {took}</span>"] if plan else []),
        f"<span>{met}/{len(result['expectations'])} expectations met</span>",
        f"<span>Chaos Toolkit: {escape(result['chaostoolkit_status'])}</span>",
    ]
    if result["manual"]:
        meta.append("<span>manual remediation</span>")
    error_target = _error_target(runbook)
    part = simulated_part(result)
    rows = measure_rows(result, runbook)
    found = estimate_of(result["measurements"])
    time_scale = found[0] if found is not None else None
    if time_scale is not None:
        meta.append(f"<span>lab rules {scale_text(time_scale)} faster (compressed time)</span>")
    return "\n".join(
        [
            f'<section class="experiment {_status_class(experiment.status)}" '
            f'id="{experiment.anchor}">',
            header if plan else '<div class="head">',
            f'<div class="meta">{"".join(meta)}</div></div>',
            _simulated_note(part) if part else "",
            _tiles(result, rows),
            '<div class="card chart"><h3>Timeline: error ratio, p95 latency, request rate</h3>',
            timeline_chart(result, error_target_ratio=error_target),
            _legend(error_target),
            "</div>",
            '<div class="grid2">',
            '<div class="card"><h3>Detection and recovery</h3>',
            _measure_table(rows, runbook, time_scale),
            "</div>",
            f'<div class="card"><h3>Load</h3>{_load(result)}</div>',
            "</div>",
            f'<div class="card"><h3>Expectations</h3>{_expectations(result)}</div>',
            f'<div class="card"><h3>Timeline events</h3>{_timeline(result)}</div>',
            f'<p class="files">Raw files: {_files(experiment)}</p>' if plan else "",
            "</section>",
        ]
    )


def _overview(report: ReportSet) -> str:
    rows: list[str] = []
    for experiment in report.experiments:
        result = experiment.result
        if result is None:
            counts = mttd = mttr = "—"
        else:
            met = sum(1 for e in result["expectations"] if e["passed"])
            counts = f"{met}/{len(result['expectations'])}"
            detected = result["measurements"]["mttd_s"]
            mttd = ", ".join(f"{escape(a)} {v:.1f}s" for a, v in detected.items()) or "—"
            mttr = _seconds(result["measurements"]["mttr_s"])
        rows.append(
            f"<tr><td>{_badge(experiment.status)}</td>"
            f'<td><a href="#{experiment.anchor}">{escape(experiment.title)}</a></td>'
            f"<td class='num'>{counts}</td><td class='num'>{mttd}</td>"
            f"<td class='num'>{mttr}</td></tr>"
        )
    head = (
        "<tr><th></th><th>Experiment</th><th class='num'>Expectations</th>"
        "<th class='num'>MTTD</th><th class='num'>MTTR</th></tr>"
    )
    return f'<div class="card"><h3>Experiments</h3><table>{head}{"".join(rows)}</table></div>'


def _not_credited(report: ReportSet) -> str:
    """Alerts already active when a fault began: listed, never credited to the fault."""
    items = [
        f"<li>{escape(experiment.title + ': ' if report.plan else '')}"
        f"{escape(event['detail'])}</li>"
        for experiment in report.experiments
        if experiment.result is not None
        for event in experiment.result["timeline"]
        if event["kind"] == "alert_active_at_fault"
    ]
    if not items:
        return ""
    return (
        '<div class="card"><h3>Already active at the fault (not credited to it)</h3>'
        f"<ul>{''.join(items)}</ul></div>"
    )


def _failed_summary(report: ReportSet) -> str:
    items: list[str] = []
    for experiment in report.experiments:
        problem = experiment.problem()
        if problem is not None:
            items.append(
                f'<li><a href="#{experiment.anchor}">{escape(experiment.title)}</a>: '
                f"{escape(problem)}</li>"
            )
        if experiment.result is None:
            continue
        for expectation in experiment.result["expectations"]:
            if expectation["passed"]:
                continue
            figure = shortfall(expectation)
            prefix = f"{experiment.title}: " if report.plan else ""
            items.append(
                f"<li>{escape(prefix)}<strong>{escape(expectation['name'])}</strong>"
                + (f" — {escape(figure)}" if figure else f" — {escape(expectation['message'])}")
                + "</li>"
            )
    if not items:
        return ""
    shown = items[:12]
    if len(items) > len(shown):
        shown.append(f"<li>… and {len(items) - len(shown)} more below</li>")
    return f'<div class="what-failed"><strong>What failed</strong><ul>{"".join(shown)}</ul></div>'


def render_html(report: ReportSet, runbook: Runbook | None = None) -> str:
    """The whole index.html for a run or a plan."""
    met, total = report.expectation_counts()
    status_class = _status_class(report.status)
    counts = [f"<strong>{met}/{total}</strong> expectations met"]
    if report.plan is not None:
        passed = sum(1 for e in report.experiments if e.status == "passed")
        counts.insert(0, f"<strong>{passed}/{len(report.experiments)}</strong> experiments passed")
    meta = [
        f"<span>started {escape(_when(report.started_at))}</span>",
        f"<span>took {_duration(report.duration_s)}</span>",
    ]
    if report.plan is not None and report.plan["path"]:
        meta.append(f"<span>plan <code>{escape(report.plan['path'])}</code></span>")
    if runbook is not None:
        meta.append(f"<span>runbook <code>{escape(runbook.source)}</code></span>")
    elif report.plan is not None and report.plan["runbook"]:
        meta.append(f"<span>runbook <code>{escape(report.plan['runbook'])}</code></span>")
    kind = "game day (plan)" if report.plan is not None else "experiment"
    label = STATUS_LABELS.get(report.status, report.status.upper())
    top_files = [
        f'<a href="{name}">{name}</a>'
        for name in ("plan-result.json", "summary.md", "junit.xml")
        if name != "plan-result.json" or report.plan is not None
    ]
    notes = ""
    if report.plan is not None:
        parts = [
            (e.title, simulated_part(e.result)) for e in report.experiments if e.result is not None
        ]
        flagged = [(title, part) for title, part in parts if part is not None]
        if flagged:
            headline = (
                "simulated GPU"
                if any(part.headline == "simulated GPU" for _, part in flagged)
                else "simulated part"
            )
            notes = _simulated_note(
                SimulatedPart(headline, [f"{title}: {part.headline}" for title, part in flagged])
            )
    panels = ", ".join(panel.title.lower() for panel in PANELS)
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(label)} · {escape(report.title)} · gameday</title>",
            f"<style>{_CSS}</style></head>",
            f'<body class="{status_class}">',
            f'<header class="verdict {status_class}" data-status="{escape(report.status)}">'
            '<div class="wrap">',
            f'<div class="eyebrow">gameday report · {kind}</div>',
            f"<h1>{escape(report.title)}</h1>",
            f'<div class="verdict-row"><span class="badge big" id="verdict">{escape(label)}'
            f'</span><span class="counts">{" · ".join(counts)}</span></div>',
            f'<div class="meta">{"".join(meta)}</div>',
            _failed_summary(report),
            "</div></header>",
            '<main class="wrap">',
            notes,
            _not_credited(report),
            _overview(report) if report.plan is not None else "",
            *(_experiment(e, runbook, plan=report.plan is not None) for e in report.experiments),
            '<div class="card files"><h3>Raw files</h3>'
            + ("" if report.plan is not None else _files(report.experiments[0]))
            + f"{''.join(top_files)}</div>",
            "</main>",
            f'<footer><div class="wrap">Generated by gameday {escape(__version__)} from '
            f"{RESULT_NAME}. Charts: {panels}; time in seconds since each run started. "
            "Self-contained: no scripts, fonts or network.</div></footer>",
            "</body></html>",
        ]
    )
