"""`gameday runbook`: what gameday understood from a runbook."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gameday.runbook import parse_runbook
from gameday.runbook.terminal import render_runbook

__all__ = ["command"]


@click.group(name="runbook")
def command() -> None:
    """Read runbooks the way gameday will hold the system to them."""


@command.command(name="show")
@click.argument("runbook", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--json", "as_json", is_flag=True, help="Print the model as JSON (schema gameday.runbook/1)."
)
def show(runbook: Path, as_json: bool) -> None:
    """Show the services, alerts (severity, response time, procedure), SLO targets,
    procedures with their commands, escalation, rollback triggers and embedded
    alert rules that gameday found in RUNBOOK.

    Exit code 2 when the runbook cannot be read or holds nothing gameday can use.
    """
    model = parse_runbook(runbook)
    if as_json:
        click.echo(json.dumps(model.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_runbook(model), nl=False)
