"""Tabletop exercises: facilitator scripts (Markdown and self-contained HTML) from
a plan or experiment and the runbook, with no infrastructure needed.

    from gameday.tabletop import build_tabletop, render_markdown, render_html
"""

from gameday.tabletop.html import render_html
from gameday.tabletop.markdown import render_markdown
from gameday.tabletop.script import (
    AlertBriefing,
    Inject,
    Measured,
    Scenario,
    ScoreRow,
    TabletopScript,
    build_tabletop,
)

__all__ = [
    "AlertBriefing",
    "Inject",
    "Measured",
    "Scenario",
    "ScoreRow",
    "TabletopScript",
    "build_tabletop",
    "render_html",
    "render_markdown",
]
