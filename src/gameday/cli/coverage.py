"""`gameday coverage`: alerts × rules × experiments × last verified outcome; with
`--seeds`, the seed systems' view (every alert their runbooks name: exercised on the
lab as written, adapted, or not)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gameday.coverage import build_coverage, load_results
from gameday.coverage.results import RunResult
from gameday.coverage.seeds import NOT_EXERCISED, build_seeds_coverage
from gameday.coverage.terminal import render_coverage, render_seed_coverage
from gameday.errors import ExpectationFailed, InvalidInputError
from gameday.experiment import Experiment, find_experiments
from gameday.runbook import Rule, load_rule_file, parse_runbook

__all__ = ["command"]


@click.command(name="coverage")
@click.option(
    "--runbook",
    "runbook_path",
    type=click.Path(path_type=Path),
    help="The runbook whose alerts to check: a Markdown file or a folder of pages.",
)
@click.option(
    "--seeds",
    "seeds_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Instead of --runbook: the seed systems' view. The folder holding their runbooks; "
    "--experiments is then the folder of seed sets (<system>/profile.yaml beside its "
    "rules and experiments).",
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
@click.option(
    "--strict",
    is_flag=True,
    help="Exit with code 1 when any gap exists (with --seeds: any alert not exercised).",
)
def command(
    runbook_path: Path | None,
    seeds_dir: Path | None,
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

    With --seeds DIR --experiments experiments/seeds: for every seed set (a
    folder with a lab profile, its rules and experiments), every alert the
    system's runbook (the file in DIR whose name starts with the system's name)
    names, exercised on the lab as written (an experiment of the set expects it,
    the profile does not adapt it), adapted (and why) or not exercised (and
    why), with the counts per system.

    Exit codes: 0 (gaps are reported but do not fail), 1 with --strict when any
    gap exists, 2 on invalid input.
    """
    if seeds_dir is not None:
        if runbook_path is not None or rule_paths or results_dir is not None:
            raise InvalidInputError(
                "--seeds takes no --runbook, --rules or --results",
                hint="each seed set's profile names its rules; the runbook is found in --seeds",
            )
        if experiments_dir is None:
            raise InvalidInputError(
                "--seeds needs --experiments, the folder of seed sets",
                hint="e.g. --seeds ../shared/seeds --experiments experiments/seeds",
            )
        _seed_command(seeds_dir, experiments_dir, as_json=as_json, strict=strict)
        return
    if runbook_path is None:
        raise InvalidInputError(
            "no runbook given", hint="pass --runbook FILE (or --seeds DIR for the seed systems)"
        )
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


def _seed_command(seeds_dir: Path, experiments_dir: Path, *, as_json: bool, strict: bool) -> None:
    view = build_seeds_coverage(seeds_dir, experiments_dir)
    if as_json:
        click.echo(json.dumps(view.to_dict(), indent=2, ensure_ascii=False))
    else:
        for system in view.systems:
            for warning in system.warnings:
                click.echo(f"warning: {system.system}: {warning}", err=True)
        click.echo(render_seed_coverage(view), nl=False)
    if strict and view.not_exercised:
        raise ExpectationFailed(
            f"{view.not_exercised} alert(s) of the seed systems are {NOT_EXERCISED}",
            hint="exercise them on the lab (as written or adapted), or run without --strict",
        )
