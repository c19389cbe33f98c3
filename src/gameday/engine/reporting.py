"""Writing the human reports after a run: never at the cost of the results themselves."""

from __future__ import annotations

import logging
from pathlib import Path

from gameday.errors import GamedayError
from gameday.report.render import render_report
from gameday.runbook import parse_runbook

logger = logging.getLogger("gameday.engine.reporting")


def write_report(directory: Path, runbook: Path | None) -> list[Path]:
    """index.html, summary.md and junit.xml from the JSON already written. A broken
    runbook or renderer is logged, not raised: result.json is the record that counts."""
    parsed = None
    if runbook is not None:
        try:
            parsed = parse_runbook(runbook)
        except GamedayError as exc:
            logger.warning("runbook %s not used in the report: %s", runbook, exc.message)
    try:
        return render_report(directory, runbook=parsed)
    except Exception as exc:
        logger.error("could not render the report in %s: %s", directory, exc)
        return []
