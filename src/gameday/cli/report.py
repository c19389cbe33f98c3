"""`gameday report`: re-render a run's or a plan's report from its JSON files."""

from __future__ import annotations

from pathlib import Path

import click

from gameday.report.directory import load_report_set
from gameday.report.render import render_report
from gameday.runbook import parse_runbook

__all__ = ["command"]


@click.command(name="report")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--runbook",
    "runbook_path",
    type=click.Path(path_type=Path),
    help="A runbook (Markdown file or folder of pages) whose MTTD/MTTR and error-rate "
    "targets the report shows. Default: the runbook a plan names, when that file exists.",
)
def command(directory: Path, runbook_path: Path | None) -> None:
    """Write index.html (self-contained, with charts), summary.md (for a pull-request
    comment) and junit.xml (for CI) into DIRECTORY, from the result.json or
    plan-result.json a run or a plan left there. Prometheus is not needed.

    Prints the paths it wrote. Exit code 2 when DIRECTORY holds no gameday result.
    """
    if runbook_path is None:
        report = load_report_set(directory)
        plan = report.plan
        named = Path(plan["runbook"]) if plan is not None and plan["runbook"] else None
        if named is None and len(report.experiments) == 1 and report.experiments[0].result:
            recorded = report.experiments[0].result["experiment"].get("runbook")
            named = Path(recorded) if recorded else None
        if named is not None and not named.is_absolute():
            named = directory / named if (directory / named).is_file() else named
        runbook_path = named if named is not None and named.exists() else None
    runbook = parse_runbook(runbook_path) if runbook_path is not None else None
    for path in render_report(directory, runbook=runbook):
        click.echo(str(path))
