"""`gameday runbook`: what gameday understood from a runbook."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click

from gameday.errors import InvalidInputError
from gameday.lab.monitoring import check_rule_files
from gameday.lab.team_rules import lab_clock, scaled_name
from gameday.lab.time_scale import ScaleSettings, describe, dump_rules, scale_rules
from gameday.runbook import load_rule_file, parse_runbook
from gameday.runbook.rules import rule_file_document
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


@command.command(name="rules")
@click.argument("runbook", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The rule file to write (e.g. rules.yml).",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=1),
    help="Also write OUTPUT's stem + .scaled-K.yml: every duration divided by K, "
    "as `gameday lab up --time-scale K` runs them.",
)
def rules(runbook: Path, output: Path, time_scale: float | None) -> None:
    """Write the Prometheus alert rules embedded in RUNBOOK out as one rule file, as
    written: groups and their intervals, for:, labels and annotations kept.

    The file is checked with promtool when it is installed. Exit code 2 when the
    runbook holds no rules.
    """
    model = parse_runbook(runbook)
    if not model.rules:
        raise InvalidInputError(
            "the runbook holds no alert rules",
            source=str(runbook),
            hint="rules are read from ```yaml blocks holding 'groups:' or '- alert:' entries",
        )
    document = rule_file_document(model.rules, default_group=runbook.stem or "rules")
    header = [
        f"alert rules embedded in the runbook {runbook}, as written",
        "(gameday runbook rules)",
    ]
    output.write_text(dump_rules(document, header), encoding="utf-8")
    written = [output]
    click.echo(
        f"wrote {len(model.rules)} alert rules in {len(document['groups'])} groups to {output}",
        err=True,
    )
    if time_scale is not None:
        settings = ScaleSettings(time_scale=time_scale)
        result = scale_rules(document, source=str(output), settings=settings, clock=lab_clock())
        scaled = output.with_name(scaled_name(output, settings))
        scaled_header = [
            f"{output.name}'s rules in compressed time (gameday runbook rules --time-scale)",
            f"changed: {describe(settings)}",
            *(f"note: {note}" for note in result.notes),
        ]
        scaled.write_text(dump_rules(result.document, scaled_header), encoding="utf-8")
        written.append(scaled)
        click.echo(f"wrote {scaled} ({describe(settings)})", err=True)
        for note in result.notes:
            click.echo(f"  note: {note}", err=True)
    if shutil.which("promtool") is None:
        click.echo("promtool not found: the rule files were not checked", err=True)
        return
    check_rule_files(written)
    click.echo("promtool check rules: ok", err=True)
