"""`gameday tabletop`: a facilitator script that needs no infrastructure."""

from __future__ import annotations

from pathlib import Path

import click

from gameday.coverage import load_results
from gameday.coverage.results import RunResult
from gameday.errors import InvalidInputError
from gameday.experiment import load_scenarios
from gameday.lab.monitoring import lab_rule_files
from gameday.runbook import Rule, load_rule_file, parse_runbook
from gameday.tabletop import build_tabletop, render_html, render_markdown

__all__ = ["command"]


@click.command(name="tabletop")
@click.argument(
    "scenario", metavar="PLAN-OR-EXPERIMENT", type=click.Path(path_type=Path, dir_okay=False)
)
@click.option(
    "--runbook",
    "runbook_path",
    type=click.Path(path_type=Path),
    help="The runbook (a file or a folder of pages) to explain alerts and responses. "
    "Default: the plan's 'runbook:', or the experiment's gameday extension 'runbook:'.",
)
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A Prometheus rule file (repeatable): what each alert's condition and `for:` "
    "are. Default: the rules of the plan's target (the lab's own rules).",
)
@click.option(
    "--results",
    "results_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory of past runs' result.json files: adds what the automated run measured "
    "and places every inject, alert and page at the time it happened in that run.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the script to OUTPUT.md and OUTPUT.html (x.md → x.md and x.html).",
)
def command(
    scenario: Path,
    runbook_path: Path | None,
    rule_paths: tuple[Path, ...],
    results_dir: Path | None,
    output: Path | None,
) -> None:
    """Write a tabletop exercise for PLAN-OR-EXPERIMENT (a game-day plan, or one
    Chaos Toolkit experiment): per scenario, the narrative and inject timeline,
    the alerts participants will see with their runbook meaning, the expected
    response (runbook procedures and commands), the targets, discussion
    questions drawn from coverage gaps, and a scoring sheet.

    Without -o the Markdown goes to standard output and nothing is written.
    With -o the Markdown and a self-contained HTML file (no scripts, no CDN)
    are written next to each other.
    """
    plan = load_scenarios(scenario)
    runbook_file = runbook_path or plan.runbook
    if runbook_file is None and len(plan.experiments) == 1:
        runbook_file = plan.experiments[0].runbook_path()
    if runbook_file is None:
        raise InvalidInputError(
            "no runbook given",
            source=str(scenario),
            hint="pass --runbook FILE, or name one in the plan with 'runbook: path'",
        )
    if not rule_paths and plan.target == "lab":
        rule_paths = tuple(lab_rule_files())  # what the target itself defines
    rules: list[Rule] = [rule for path in rule_paths for rule in load_rule_file(path)]
    runbook = parse_runbook(runbook_file, rules=rules)
    results: list[RunResult] = []
    if results_dir is not None:
        results, warnings = load_results(results_dir)
        for warning in warnings:
            click.echo(f"warning: {warning}", err=True)
    script = build_tabletop(plan, runbook, results, rules)
    markdown = render_markdown(script)
    if output is None:
        click.echo(markdown, nl=False)
        return
    markdown_path = output.with_suffix(".md")
    html_path = output.with_suffix(".html")
    try:
        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text(markdown, encoding="utf-8")
        html_path.write_text(render_html(markdown, f"Tabletop: {script.title}"), encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(
            f"cannot write the script ({exc.strerror or exc})",
            source=str(output),
            hint="choose a writable path for -o",
        ) from None
    click.echo(f"wrote {markdown_path} and {html_path}")
