"""`gameday run` and `gameday validate`: one experiment, with verdicts and exit codes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gameday.engine.dry_run import describe_run, describe_target
from gameday.engine.plan_runner import plan_target, run_plan, validate_plan
from gameday.engine.runner import RunOptions, check_run, run_checked
from gameday.errors import (
    EXIT_ENVIRONMENT,
    EXIT_EXPECTATION_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    InvalidInputError,
)
from gameday.experiment import Experiment, Plan, is_plan, load_plan, read_experiment
from gameday.report.terminal import summary_lines
from gameday.targets import target_spec

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


TARGET = click.option(
    "--target",
    "target_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A target file naming the system under test (its Prometheus, Alertmanager, load "
    "host, SLO queries, allow list) [default: the plan's target, else the lab].",
)


def _read(path: Path) -> tuple[Plan | None, list[Experiment]]:
    """The plan at `path` (None for an experiment) and the experiments it runs."""
    if is_plan(path):
        plan = load_plan(path)
        return plan, list(plan.experiments)
    return None, [read_experiment(path)]


def _dry_run(experiments: list[Experiment], options: RunOptions) -> None:
    checked = [(e, check_run(e, options)) for e in experiments]
    for line in describe_target(checked[0][1].target if checked else None):
        click.echo(line)
    for experiment, result in checked:
        click.echo("")
        for line in describe_run(experiment, result):
            click.echo(line)
    click.echo("")
    click.echo(f"dry run: {len(checked)} experiment(s) valid; nothing was started or injected")


def _confirm(experiments: list[Experiment], options: RunOptions) -> None:
    """Ask before the first fault on a system that is not the lab (CI passes --yes)."""
    target = None
    for experiment in experiments:
        target = check_run(experiment, options).target or target
    if target is None:
        return
    what = f"{len(experiments)} experiment(s) will inject faults into {target.name!r} "
    what += f"({target.prometheus_url})"
    if not sys.stdin.isatty():
        raise InvalidInputError(
            f"{what}; refusing without confirmation",
            hint="pass --yes to confirm (as CI does), or --dry-run to see what would run",
        )
    if not click.confirm(f"{what}. Go on?", default=False):
        raise SystemExit(EXIT_INTERRUPTED)


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@TARGET
@click.option(
    "--dry-run",
    is_flag=True,
    help="Validate, print the faults with what each touches and what reverts it, and the "
    "route each expected alert takes; start and inject nothing.",
)
@click.option(
    "-y",
    "--yes",
    is_flag=True,
    help="Do not ask before injecting faults into a target that is not the lab (for CI).",
)
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
    target_file: Path | None,
    dry_run: bool,
    yes: bool,
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
    Your own system: --target FILE names its Prometheus and Alertmanager (with
    credentials from the environment or Chaos Toolkit secrets), the load host, the
    SLO queries and `allow`, the patterns every action must match: what it touches
    is `process:PATH ARGS`, `http:METHOD URL` or `python:MODULE.FUNC`, e.g.
    allow: ['process:/usr/bin/redis-cli -p 6390 *']. Before the first fault on
    such a target gameday asks for confirmation (--yes in CI), and refuses an
    expected receiver that the alert's labels cannot reach through Alertmanager's
    routes.

    \b
    Exit codes: 0 every expectation met; 1 an expectation failed; 2 invalid
    input; 3 environment or infrastructure error; 130 interrupted (rolled back).

    \b
    Examples:
      gameday run experiments/redis-down.yaml
      gameday run experiments/lab-gameday.yaml --report-dir reports/today
      gameday run experiments/redis-down.yaml --manual    # people remediate
      gameday run cache-down.yaml --target staging.yaml --dry-run
      gameday run cache-down.yaml --target staging.yaml --yes   # in CI
    """
    plan, experiments = _read(path)
    options = RunOptions(
        report_dir=report_dir,
        manual=manual,
        manual_timeout_s=manual_timeout,
        lab_dir=lab_dir,
        progress=not quiet,
        target=target_spec(target_file)
        if target_file is not None
        else (plan_target(plan) if plan is not None else None),
    )
    if dry_run:
        _dry_run(experiments, options)
        return
    if options.target is not None and options.target.kind != "lab" and not yes:
        _confirm(experiments, options)
    if plan is not None:
        plan_outcome = run_plan(plan, options, fail_fast=fail_fast)
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
    outcome = run_checked(experiments[0], options)
    for line in summary_lines(outcome.result, str(outcome.report_dir)):
        click.echo(line)
    raise SystemExit(EXIT_BY_STATUS[outcome.result["status"]])


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@TARGET
def validate(path: Path, target_file: Path | None) -> None:
    """Check an experiment or a plan without running anything: YAML, Chaos Toolkit
    rules, every activity's module, function and arguments, gameday's extension
    block, a plan's overrides and every experiment it names. With a target that is
    not the lab: every key of the target file, its credentials, the allow list and
    the routes of the expected alerts (Alertmanager's configuration is read; nothing
    is changed).

    Exit code 0 when valid, 2 (with the file, the place and the fix) when not.
    """
    options = RunOptions(target=target_spec(target_file) if target_file is not None else None)
    if is_plan(path):
        plan = load_plan(path)
        titles = validate_plan(plan, options)
        click.echo(f"{path}: valid plan {plan.name!r} with {len(titles)} experiments")
        for title in titles:
            click.echo(f"  - {title}")
        return
    experiment = read_experiment(path)
    check_run(experiment, options)
    activities = len(experiment.document.get("method") or [])
    click.echo(f"{path}: valid experiment {experiment.title!r} ({activities} method activities)")
