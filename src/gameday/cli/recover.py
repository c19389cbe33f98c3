"""`gameday recover`: put the lab right after gameday itself was killed mid-run."""

from __future__ import annotations

from pathlib import Path

import click

from gameday.engine.recovery import recover, running_runs
from gameday.engine.reporting import write_report
from gameday.errors import EnvironmentProblem
from gameday.lab.config import load_running_config, resolve_lab_dir
from gameday.targets import fault_ledger

__all__ = ["command"]


@click.command(name="recover")
@click.option(
    "--lab-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The lab a crashed run used [default: $GAMEDAY_LAB_DIR or ./.lab].",
)
def command(lab_dir: Path | None) -> None:
    """Recover from a run that died without rolling back (SIGKILL, out of memory, a
    lost machine): revert every fault left in the lab's fault ledger, stop any load
    generator the dead run left running, and finalise the dead run's report
    directory: result.json with status `crashed` and everything measured up to the
    crash (from its events.jsonl and expectations.jsonl), plus the HTML, Markdown
    and JUnit reports, so history and CI see it.

    Safe to run at any time: with nothing to recover it says so. Refuses while
    another gameday run is using the lab. `gameday run` also reverts leftovers
    before it starts, and tells you when a crashed run awaits `recover`.

    Exit codes: 0 recovered (or nothing to do); 3 a fault could not be reverted,
    the lab is not running, or a run is still in progress.
    """
    lab = load_running_config(resolve_lab_dir(lab_dir))
    busy = running_runs(lab)
    if busy:
        raise EnvironmentProblem(
            f"a gameday run (pid {busy[0]['pid']}, {busy[0]['title']!r}) is still using this lab",
            hint="let it finish or interrupt it (Ctrl-C rolls it back); recover is for "
            "runs whose process is gone",
        )
    found = recover(lab, fault_ledger(lab))
    for fault in found.reverted:
        click.echo(f"reverted: {fault}")
    for pid in found.load_stopped:
        click.echo(f"stopped load generator: pid {pid}")
    for directory in found.finalised:
        write_report(Path(directory), None)
        click.echo(f"finalised crashed run: {directory}/result.json (status crashed)")
    if not found.anything:
        click.echo("nothing to recover: no fault left, no orphaned load, no crashed run")
    if found.revert_errors:
        raise EnvironmentProblem(
            "could not revert: " + "; ".join(found.revert_errors),
            hint="see the lab's logs (`gameday lab status`), fix the part and rerun recover",
        )
