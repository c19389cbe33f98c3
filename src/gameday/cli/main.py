"""The `gameday` click group and the one place where exceptions become exit codes."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence

import click

from gameday import __version__
from gameday.errors import EXIT_ENVIRONMENT, EXIT_INTERRUPTED, GamedayError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="gameday")
@click.option("-v", "--verbose", is_flag=True, help="Log what gameday does, step by step.")
def cli(verbose: bool) -> None:
    """Prove that your runbooks work: inject failures under load, verify that the
    alerts fire and reach the right receiver, that remediation works and that the
    SLOs come back.

    \b
    Start with the embedded lab:
      gameday lab up        start the reference system on 127.0.0.1
      gameday lab status    show every part, its pid, address and restarts
      gameday lab down      stop everything the lab started
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # chaoslib narrates every step at WARNING; gameday prints its own progress.
    logging.getLogger("chaostoolkit").setLevel(logging.INFO if verbose else logging.ERROR)


def _register_commands() -> None:
    # Imported here, not at module top, so `gameday --help` stays fast and a
    # broken optional command cannot break the others' import.
    from gameday.cli import lab, run

    cli.add_command(lab.lab)
    cli.add_command(run.run)
    cli.add_command(run.validate)
    for name in ("runbook", "coverage", "tabletop", "report", "recover"):
        try:
            module = __import__(f"gameday.cli.{name}", fromlist=["command"])
        except ModuleNotFoundError as exc:
            if exc.name != f"gameday.cli.{name}":
                raise
            continue
        cli.add_command(module.command)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the CLI and map gameday's errors to exit codes."""
    _register_commands()
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except GamedayError as exc:
        click.echo(exc.format(), err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.exceptions.UsageError as exc:
        exc.show()
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        # A bug, not a verdict: say so plainly, keep the traceback for the report.
        if logging.getLogger().isEnabledFor(logging.INFO):
            traceback.print_exc()
        click.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("  hint: rerun with -v for the traceback, and report it", err=True)
        sys.exit(EXIT_ENVIRONMENT)
    sys.exit(0)
