"""`gameday coverage`: alerts × rules × experiments × last verified outcome."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gameday.coverage import build_coverage, load_results
from gameday.coverage.results import RunResult
from gameday.coverage.terminal import render_coverage
from gameday.errors import ExpectationFailed
from gameday.experiment import Experiment, find_experiments
from gameday.runbook import Rule, load_rule_file, parse_runbook

__all__ = ["command"]


@click.command(name="coverage")
@click.option(
    "--runbook",
    "runbook_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The runbook whose alerts to check: a Markdown file or a folder of pages.",
)
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A Prometheus rule file; repeat for several. Rules embedded in the runbook always count.",
)
@click.option(
    "--experiments",
    "experiments_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory searched (recursively) for Chaos Toolkit experiments.",
)
@click.option(
    "--results",
    "results_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory searched (recursively) for result.json files of past runs.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the matrix as JSON (schema gameday.coverage/1)."
)
@click.option("--strict", is_flag=True, help="Exit with code 1 when any gap exists.")
def command(
    runbook_path: Path,
    rule_paths: tuple[Path, ...],
    experiments_dir: Path | None,
    results_dir: Path | None,
    as_json: bool,
    strict: bool,
) -> None:
    """Show, for every alert the runbook or the rules name, whether a rule defines
    it, which experiments expect it, and how the last run that checked it went
    (with its measured MTTD).

    \b
    Gaps reported:
      no-rule        the runbook describes the alert, no rule defines it
      no-runbook     a rule defines the alert, the runbook does not explain it
      no-experiment  no experiment expects the alert to fire
      failing        the last run that checked the alert failed

    Exit codes: 0 (gaps are reported but do not fail), 1 with --strict when any
    gap exists, 2 on invalid input.
    """
    rules: list[Rule] = [rule for path in rule_paths for rule in load_rule_file(path)]
    # every rule's alert is looked for in the runbook: one it explains is no gap
    runbook = parse_runbook(runbook_path, rules=rules)
    experiments: list[Experiment] = find_experiments(experiments_dir) if experiments_dir else []
    results: list[RunResult] = []
    warnings: list[str] = []
    if results_dir is not None:
        results, warnings = load_results(results_dir)
    coverage = build_coverage(runbook, rules, experiments, results, warnings=warnings)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps(coverage.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_coverage(coverage), nl=False)
    if strict and coverage.has_gaps:
        raise ExpectationFailed(
            f"{len(coverage.gaps)} coverage gap(s) in {runbook_path}",
            hint="close the gaps listed above, or run without --strict",
        )
