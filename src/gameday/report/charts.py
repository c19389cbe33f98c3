"""The timeline chart: inline SVG, drawn in Python, no script and no network.

Three panels share one time axis (seconds since the run started): error ratio,
p95 latency and request rate, each with the client-side (Locust) and the
server-side (Prometheus) line. The fault window is shaded across all of them;
above them an event lane shows alert pending / firing / resolved,
notifications, remediation and SLO restored, with faint guide lines down
through the panels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from gameday.model import RunResult, TimelineEvent

__all__ = [
    "MARKERS",
    "PANELS",
    "SIDES",
    "FaultWindow",
    "Marker",
    "Panel",
    "fault_windows",
    "marker_swatch",
    "nice_ticks",
    "timeline_chart",
]


@dataclass(frozen=True)
class Panel:
    """One stacked chart: which series it draws (by side), its title and how values read."""

    key: str
    title: str
    unit: str
    series: dict[str, str]
    scale: float
    floor: float


@dataclass(frozen=True)
class Marker:
    """How an event kind is drawn in the event lane."""

    kind: str
    label: str
    colour: str
    shape: str
    lane: str


PANELS: tuple[Panel, ...] = (
    Panel(
        key="error_ratio",
        title="Error ratio",
        unit="%",
        series={"client": "client_error_ratio", "server": "server_error_ratio"},
        scale=100.0,
        floor=1.0,
    ),
    Panel(
        key="p95_latency",
        title="p95 latency",
        unit="ms",
        series={"client": "client_p95_latency_s", "server": "server_p95_latency_s"},
        scale=1000.0,
        floor=10.0,
    ),
    Panel(
        key="requests_per_s",
        title="Request rate",
        unit="req/s",
        series={"client": "client_requests_per_s", "server": "server_requests_per_s"},
        scale=1.0,
        floor=1.0,
    ),
)

SIDES: dict[str, tuple[str, str]] = {
    # side: (legend label, colour)
    "client": ("client side (Locust)", "#2563eb"),
    "server": ("server side (Prometheus)", "#d97706"),
}

MARKERS: tuple[Marker, ...] = (
    Marker("alert_pending", "alert pending", "#ca8a04", "diamond-open", "pending"),
    Marker("alert_firing", "alert firing", "#dc2626", "diamond", "firing"),
    Marker("alert_resolved", "alert resolved", "#16a34a", "diamond-open", "resolved"),
    Marker("notified", "notification delivered", "#7c3aed", "circle", "notified"),
    Marker("remediation_started", "remediation started", "#0891b2", "triangle-open", "remediating"),
    Marker("remediation_completed", "remediation completed", "#0891b2", "triangle", "remediated"),
    Marker("slo_restored", "SLO restored", "#15803d", "square", "SLO restored"),
    Marker("interrupted", "interrupted", "#b45309", "cross", "interrupted"),
    Marker("error", "error", "#9f1239", "cross", "error"),
)

FAULT_COLOUR = "#fecaca"
_WINDOW_ENDS = ("fault_reverted", "remediation_completed")

# Geometry (SVG user units; the SVG scales to its container's width).
_WIDTH = 960
_LEFT = 100
_RIGHT = 20
_TOP = 22
_LANE_ROW = 17
_PANEL_HEIGHT = 120
_PANEL_GAP = 34
_AXIS_HEIGHT = 44


@dataclass(frozen=True)
class FaultWindow:
    """From a fault being applied to its revert (or its remediation, or the end of the run)."""

    start_s: float
    end_s: float
    detail: str
    open_ended: bool


def _run_start(result: RunResult) -> float | None:
    try:
        return datetime.fromisoformat(result["started_at"]).timestamp()
    except (TypeError, ValueError):
        return None


def _run_end_s(result: RunResult) -> float:
    return max((event["elapsed_s"] for event in result["timeline"]), default=0.0)


def fault_windows(result: RunResult) -> list[FaultWindow]:
    """Each fault_applied paired with the next fault_reverted or remediation_completed."""
    windows: list[FaultWindow] = []
    events = sorted(result["timeline"], key=lambda event: event["elapsed_s"])
    end_of_run = _run_end_s(result)
    for index, event in enumerate(events):
        if event["kind"] != "fault_applied":
            continue
        end = next((e for e in events[index + 1 :] if e["kind"] in _WINDOW_ENDS), None)
        windows.append(
            FaultWindow(
                start_s=event["elapsed_s"],
                end_s=end["elapsed_s"] if end else end_of_run,
                detail=event["detail"],
                open_ended=end is None,
            )
        )
    return windows


def nice_ticks(low: float, high: float, count: int = 5, *, cover: bool = False) -> list[float]:
    """Round tick values (1, 2, 5 × 10ⁿ steps) within [low, high], or around it with `cover`."""
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step if cover else high
    ticks: list[float] = []
    value = first
    while value <= last + step * 1e-6:
        if cover or value >= low - step * 1e-6:
            ticks.append(round(value, 10))
        value += step
    return ticks


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100 or value == int(value):
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _points(
    result: RunResult, name: str, start: float | None, scale: float
) -> list[tuple[float, float] | None]:
    """(seconds since start, scaled value), with None where the line must break."""
    raw = result["series"].get(name) or []
    out: list[tuple[float, float] | None] = []
    for pair in raw:
        try:
            at, value = float(pair[0]), float(pair[1])
        except (TypeError, ValueError, IndexError):
            out.append(None)
            continue
        if not math.isfinite(at) or not math.isfinite(value):
            out.append(None)
            continue
        out.append((at - start if start is not None else at, value * scale))
    return out


def _fit(text: str, width: float, char_width: float) -> str:
    """`text` cut (with an ellipsis) to what fits in `width` user units."""
    room = int(width / char_width)
    if len(text) <= room:
        return text
    if room < 12:
        return text.split(":", 1)[0]
    return text[: room - 1] + "…"


def _marker_shape(shape: str, x: float, y: float, colour: str) -> str:
    filled = not shape.endswith("-open")
    fill = colour if filled else "#ffffff"
    style = f'fill="{fill}" stroke="{colour}" stroke-width="1.6"'
    r = 5.0
    if shape.startswith("diamond"):
        points = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} {x - r:.1f},{y:.1f}"
        return f'<polygon points="{points}" {style}/>'
    if shape.startswith("triangle"):
        points = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y + r * 0.8:.1f} {x - r:.1f},{y + r * 0.8:.1f}"
        return f'<polygon points="{points}" {style}/>'
    if shape == "cross":
        return (
            f'<path d="M{x - r:.1f},{y - r:.1f}L{x + r:.1f},{y + r:.1f}'
            f'M{x - r:.1f},{y + r:.1f}L{x + r:.1f},{y - r:.1f}" stroke="{colour}" '
            'stroke-width="2.4" stroke-linecap="round"/>'
        )
    if shape.startswith("square"):
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" {style}/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" {style}/>'


def marker_swatch(marker: Marker) -> str:
    """A 14×14 inline SVG of the marker, for legends outside the chart."""
    return (
        '<svg class="swatch" width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">'
        + _marker_shape(marker.shape, 7, 7, marker.colour)
        + "</svg>"
    )


def _event_name(event: TimelineEvent) -> str:
    alert = event["data"].get("alert")
    if isinstance(alert, str) and alert:
        receiver = event["data"].get("receiver")
        if event["kind"] == "notified" and isinstance(receiver, str):
            status = event["data"].get("status")
            suffix = f" ({status})" if isinstance(status, str) and status != "firing" else ""
            return f"{alert} → {receiver}{suffix}"
        return alert
    return event["detail"]


def _group(
    events: Sequence[TimelineEvent], to_x: Callable[[float], float], gap: float
) -> list[list[TimelineEvent]]:
    groups: list[list[TimelineEvent]] = []
    for event in sorted(events, key=lambda e: e["elapsed_s"]):
        if groups and to_x(event["elapsed_s"]) - to_x(groups[-1][-1]["elapsed_s"]) < gap:
            groups[-1].append(event)
        else:
            groups.append([event])
    return groups


def _lane(
    marker: Marker,
    events: Sequence[TimelineEvent],
    y: float,
    to_x: Callable[[float], float],
    x_right: float,
) -> list[str]:
    parts = [
        f'<g class="lane lane-{marker.kind}">',
        f'<text class="lane-label" x="{_LEFT - 10}" y="{y + 4:.1f}" text-anchor="end">'
        f"{escape(marker.lane)}</text>",
        f'<line x1="{_LEFT}" x2="{x_right}" y1="{y:.1f}" y2="{y:.1f}" class="lane-rule"/>',
    ]
    groups = _group(events, to_x, 9.0)
    for index, group in enumerate(groups):
        x = to_x(group[0]["elapsed_s"])
        names = list(dict.fromkeys(_event_name(event) for event in group))
        tooltip = "\n".join(
            f"+{event['elapsed_s']:.1f}s {marker.label}: {event['detail']}" for event in group
        )
        parts.append(
            f'<g class="marker marker-{marker.kind}" data-kind="{marker.kind}" '
            f'data-elapsed-s="{group[0]["elapsed_s"]:.3f}">'
            f"<title>{escape(tooltip)}</title>"
            + _marker_shape(marker.shape, x, y, marker.colour)
            + "</g>"
        )
        room = (
            to_x(groups[index + 1][0]["elapsed_s"]) - x if index + 1 < len(groups) else x_right - x
        ) - 14
        label = ", ".join(names)
        max_chars = int(room / 5.6)
        if max_chars >= 4:
            if len(label) > max_chars:
                label = label[: max_chars - 1] + "…"
            parts.append(
                f'<text class="marker-label" x="{x + 8:.1f}" y="{y + 3.5:.1f}">'
                f"{escape(label)}</text>"
            )
    parts.append("</g>")
    return parts


def timeline_chart(result: RunResult, *, error_target_ratio: float | None = None) -> str:
    """The SVG chart of one run; `error_target_ratio` draws the SLO line on the error panel."""
    start = _run_start(result)
    series = {
        panel.key: {
            side: _points(result, name, start, panel.scale) for side, name in panel.series.items()
        }
        for panel in PANELS
    }
    xs = [
        point[0]
        for sides in series.values()
        for points in sides.values()
        for point in points
        if point is not None
    ]
    x_low = min([0.0, *xs])
    x_high = max([_run_end_s(result), *xs, x_low + 1.0])
    x_ticks = nice_ticks(x_low, x_high, 12)
    x_high = max(x_high, x_ticks[-1])
    x_right = _WIDTH - _RIGHT
    plot_width = x_right - _LEFT

    def to_x(seconds: float) -> float:
        return _LEFT + (seconds - x_low) / (x_high - x_low) * plot_width

    marker_events = {
        marker.kind: [e for e in result["timeline"] if e["kind"] == marker.kind]
        for marker in MARKERS
    }
    lanes = [marker for marker in MARKERS if marker_events[marker.kind]]
    lanes_top = _TOP
    panels_top = lanes_top + len(lanes) * _LANE_ROW + (30 if lanes else 12)
    panels_bottom = panels_top + len(PANELS) * _PANEL_HEIGHT + (len(PANELS) - 1) * _PANEL_GAP
    height = panels_bottom + _AXIS_HEIGHT
    parts: list[str] = [
        f'<svg class="timeline-chart" viewBox="0 0 {_WIDTH} {height}" '
        f'width="100%" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'aria-label="{escape(_aria_label(result), quote=True)}">',
        f"<title>{escape(_aria_label(result))}</title>",
    ]

    # Fault windows, under everything else.
    for window in fault_windows(result):
        x1, x2 = to_x(window.start_s), to_x(window.end_s)
        tip = f"fault +{window.start_s:.1f}s → +{window.end_s:.1f}s: {window.detail}"
        parts.append(
            f'<g class="fault-window" data-start-s="{window.start_s:.3f}" '
            f'data-end-s="{window.end_s:.3f}"><title>{escape(tip)}</title>'
            f'<rect x="{x1:.1f}" y="{lanes_top - 14}" width="{max(x2 - x1, 1.5):.1f}" '
            f'height="{panels_bottom - lanes_top + 14}" fill="{FAULT_COLOUR}" '
            'fill-opacity="0.55"/>'
            f'<text class="fault-label" x="{x1 + 4:.1f}" y="{lanes_top - 4}">'
            f"{escape(_fit('fault: ' + window.detail, x2 - x1 - 8, 6.2))}</text></g>"
        )

    # Event lanes.
    for row, marker in enumerate(lanes):
        y = lanes_top + row * _LANE_ROW + _LANE_ROW / 2
        parts.extend(_lane(marker, marker_events[marker.kind], y, to_x, x_right))

    # Panels.
    for index, panel in enumerate(PANELS):
        top = panels_top + index * (_PANEL_HEIGHT + _PANEL_GAP)
        target = None
        if panel.key == "error_ratio" and error_target_ratio is not None:
            target = error_target_ratio * panel.scale
        parts.extend(_panel(panel, series[panel.key], top, to_x, x_ticks, target))

    # Guide lines from each marker down through the panels.
    for marker in lanes:
        for event in marker_events[marker.kind]:
            x = to_x(event["elapsed_s"])
            parts.append(
                f'<line class="guide guide-{marker.kind}" x1="{x:.1f}" x2="{x:.1f}" '
                f'y1="{panels_top}" y2="{panels_bottom}" stroke="{marker.colour}"/>'
            )

    # Time axis.
    for tick in x_ticks:
        x = to_x(tick)
        parts.append(
            f'<line class="tick" x1="{x:.1f}" x2="{x:.1f}" y1="{panels_bottom}" '
            f'y2="{panels_bottom + 5}"/>'
            f'<text class="axis-value" x="{x:.1f}" y="{panels_bottom + 18}" '
            f'text-anchor="middle">{_number(tick)}</text>'
        )
    parts.append(
        f'<text class="axis-title" x="{_LEFT + plot_width / 2:.1f}" y="{height - 6}" '
        'text-anchor="middle">seconds since the run started</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _aria_label(result: RunResult) -> str:
    return (
        f"Timeline of {result['experiment']['title']}: error ratio, p95 latency and request "
        "rate, client and server side, with the fault window and alert events"
    )


def _panel(
    panel: Panel,
    sides: dict[str, list[tuple[float, float] | None]],
    top: float,
    to_x: Callable[[float], float],
    x_ticks: list[float],
    target: float | None,
) -> list[str]:
    values = [point[1] for points in sides.values() for point in points if point is not None]
    y_high = max([panel.floor, *values, *([target * 1.25] if target is not None else [])])
    y_ticks = nice_ticks(0.0, y_high, 4, cover=True)
    y_high = max(y_high, y_ticks[-1])
    bottom = top + _PANEL_HEIGHT
    x_left, x_right = to_x(x_ticks[0]), _WIDTH - _RIGHT

    def to_y(value: float) -> float:
        return bottom - value / y_high * _PANEL_HEIGHT

    parts = [
        f'<g class="panel panel-{panel.key}" data-panel="{panel.key}">',
        f'<text class="panel-title" x="{_LEFT}" y="{top - 7:.1f}">{escape(panel.title)} '
        f'<tspan class="unit">({escape(panel.unit)})</tspan></text>',
    ]
    for tick in y_ticks:
        y = to_y(tick)
        parts.append(
            f'<line class="grid" x1="{x_left:.1f}" x2="{x_right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis-value" x="{_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_number(tick)}</text>"
        )
    for tick in x_ticks:
        x = to_x(tick)
        parts.append(
            f'<line class="grid grid-x" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}"/>'
        )
    parts.append(
        f'<line class="axis" x1="{x_left:.1f}" x2="{x_right}" y1="{bottom}" y2="{bottom}"/>'
    )
    if target is not None:
        y = to_y(target)
        parts.append(
            f'<g class="slo-target"><line x1="{x_left:.1f}" x2="{x_right}" y1="{y:.1f}" '
            f'y2="{y:.1f}"/><text x="{x_right - 4}" y="{y - 4:.1f}" text-anchor="end">'
            f"SLO {_number(target)}{escape(panel.unit)}</text></g>"
        )
    for side, points in sides.items():
        label, colour = SIDES[side]
        name = panel.series[side]
        if not any(points):
            continue
        path = _path(points, to_x, to_y)
        parts.append(
            f'<path class="series series-{name}" data-series="{name}" d="{path}" '
            f'fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round" '
            f'stroke-linecap="round"><title>{escape(label)}: {escape(panel.title)}</title></path>'
        )
    if not values:
        parts.append(
            f'<text class="no-data" x="{(x_left + x_right) / 2:.1f}" y="{top + 58:.1f}" '
            'text-anchor="middle">no samples recorded</text>'
        )
    parts.append("</g>")
    return parts


def _path(
    points: list[tuple[float, float] | None],
    to_x: Callable[[float], float],
    to_y: Callable[[float], float],
) -> str:
    commands: list[str] = []
    pen_down = False
    for point in points:
        if point is None:
            pen_down = False
            continue
        command = "L" if pen_down else "M"
        commands.append(f"{command}{to_x(point[0]):.1f},{to_y(point[1]):.1f}")
        pen_down = True
    return " ".join(commands)
