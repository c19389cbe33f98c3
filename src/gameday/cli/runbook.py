"""`gameday runbook`: what gameday understood from a runbook."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gameday.runbook import load_rule_file, parse_runbook
from gameday.runbook.terminal import render_runbook

__all__ = ["command"]


@click.group(name="runbook")
def command() -> None:
    """Read runbooks the way gameday will hold the system to them."""


@command.command(name="show")
@click.argument("runbook", type=click.Path(path_type=Path))
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A Prometheus rule file (repeatable): each rule's alert is looked for in the runbook.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the model as JSON (schema gameday.runbook/1)."
)
def show(runbook: Path, rule_paths: tuple[Path, ...], as_json: bool) -> None:
    """Show the services, alerts (severity, response time, procedure), SLO targets,
    procedures with their steps and commands, escalation, rollback triggers and
    embedded alert rules that gameday found in RUNBOOK (a Markdown file, with the
    pages it links to that are on disk, or a folder of pages).

    What gameday inferred rather than read from the runbook is marked with ~.
    Exit code 2 only when the runbook cannot be read; a page in which nothing
    was found is shown with warnings that say what was looked for.
    """
    rules = [rule for path in rule_paths for rule in load_rule_file(path)]
    model = parse_runbook(runbook, rules=rules)
    if as_json:
        click.echo(json.dumps(model.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_runbook(model), nl=False)
