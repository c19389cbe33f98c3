"""`gameday run` and `gameday validate`: one experiment, with verdicts and exit codes."""

from __future__ import annotations

from pathlib import Path

import click

from gameday.engine.plan_runner import run_plan, validate_plan
from gameday.engine.runner import RunOptions, prepare, run_experiment_file
from gameday.errors import (
    EXIT_ENVIRONMENT,
    EXIT_EXPECTATION_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
)
from gameday.experiment import is_plan, load_plan, read_experiment
from gameday.report.terminal import summary_lines

EXIT_BY_STATUS = {
    "passed": EXIT_OK,
    "failed": EXIT_EXPECTATION_FAILED,
    "aborted": EXIT_EXPECTATION_FAILED,
    "interrupted": EXIT_INTERRUPTED,
    "crashed": EXIT_ENVIRONMENT,
    "error": EXIT_ENVIRONMENT,
}
LAB_DIR = click.option(
    "--lab-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The lab to run against [default: the experiment's gameday_lab_dir, "
    "$GAMEDAY_LAB_DIR or ./.lab].",
)


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write result.json and the journal [default: reports/<time>-<title>].",
)
@click.option(
    "--manual",
    is_flag=True,
    help="People remediate, following the runbook; gameday waits and measures how long "
    "the SLOs take to come back.",
)
@click.option(
    "--manual-timeout",
    type=float,
    default=600.0,
    show_default=True,
    help="With --manual: seconds to wait for the SLOs to be restored.",
)
@click.option(
    "--fail-fast",
    is_flag=True,
    help="For a plan: stop at the first experiment that does not pass.",
)
@LAB_DIR
@click.option("-q", "--quiet", is_flag=True, help="No progress lines, only the summary.")
def run(
    path: Path,
    report_dir: Path | None,
    manual: bool,
    manual_timeout: float,
    fail_fast: bool,
    lab_dir: Path | None,
    quiet: bool,
) -> None:
    """Run an experiment, or a game-day plan of experiments, under load and judge it.

    \b
    PATH is a Chaos Toolkit experiment (YAML with `method:`) or a plan (YAML with
    `experiments:`). Everything is validated first: nothing is injected when any
    of it is invalid. Each experiment holds load, injects its fault, checks every
    expectation (alerts fire and reach their receiver, SLOs hold and are
    restored), always rolls back, and writes result.json with its journal; a
    plan goes on past a failed experiment unless --fail-fast.

    \b
    Exit codes: 0 every expectation met; 1 an expectation failed; 2 invalid
    input; 3 environment or infrastructure error; 130 interrupted (rolled back).

    \b
    Examples:
      gameday run experiments/redis-down.yaml
      gameday run experiments/lab-gameday.yaml --report-dir reports/today
      gameday run experiments/redis-down.yaml --manual    # people remediate
    """
    options = RunOptions(
        report_dir=report_dir,
        manual=manual,
        manual_timeout_s=manual_timeout,
        lab_dir=lab_dir,
        progress=not quiet,
    )
    if is_plan(path):
        plan_outcome = run_plan(load_plan(path), options, fail_fast=fail_fast)
        for outcome in plan_outcome.outcomes:
            for line in summary_lines(outcome.result, str(outcome.report_dir)):
                click.echo(line)
            click.echo("")
        result = plan_outcome.result
        ran = [e for e in result["experiments"] if e["status"] != "not run"]
        passed = sum(1 for e in ran if e["status"] == "passed")
        click.echo(
            f"game day {result['plan']['name']!r}: {result['status'].upper()} "
            f"({passed}/{len(result['experiments'])} experiments passed)  "
            f"report: {plan_outcome.report_dir / 'index.html'}"
        )
        raise SystemExit(EXIT_BY_STATUS.get(result["status"], EXIT_ENVIRONMENT))
    outcome = run_experiment_file(path, options)
    for line in summary_lines(outcome.result, str(outcome.report_dir)):
        click.echo(line)
    raise SystemExit(EXIT_BY_STATUS[outcome.result["status"]])


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def validate(path: Path) -> None:
    """Check an experiment or a plan without running anything: YAML, Chaos Toolkit
    rules, every activity's module, function and arguments, gameday's extension
    block, a plan's overrides and every experiment it names.

    Exit code 0 when valid, 2 (with the file, the place and the fix) when not.
    """
    if is_plan(path):
        plan = load_plan(path)
        titles = validate_plan(plan, RunOptions())
        click.echo(f"{path}: valid plan {plan.name!r} with {len(titles)} experiments")
        for title in titles:
            click.echo(f"  - {title}")
        return
    experiment = read_experiment(path)
    prepare(experiment, RunOptions())
    activities = len(experiment.document.get("method") or [])
    click.echo(f"{path}: valid experiment {experiment.title!r} ({activities} method activities)")
