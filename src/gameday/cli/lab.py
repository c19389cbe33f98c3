"""`gameday lab up | status | down`: the embedded reference system."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from gameday.errors import InvalidInputError, LabError
from gameday.lab import lifecycle
from gameday.lab.config import (
    LabConfig,
    LabPorts,
    load_running_config,
    resolve_base_port,
    resolve_lab_dir,
)

LAB_DIR_HELP = "Directory for the lab's state, data and logs [env GAMEDAY_LAB_DIR; default ./.lab]."


def _say(message: str) -> None:
    click.echo(f"  {message}", err=True)


def _parse_port_overrides(values: tuple[str, ...]) -> dict[str, int]:
    overrides: dict[str, int] = {}
    for value in values:
        name, sep, port = value.partition("=")
        if not sep or not port.isdigit():
            raise InvalidInputError(
                f"--port {value!r} is not NAME=PORT", hint="e.g. --port prometheus=19090"
            )
        overrides[name.replace("-", "_")] = int(port)
    return overrides


@click.group()
def lab() -> None:
    """The embedded lab: a small but real production-like system on 127.0.0.1.

    \b
    Parts (each supervised by supervisord, restarted when killed):
      gateway        HTTP API, 3 replicas behind one address (quota on Redis, config on etcd)
      redis          redis-server with prometheus-redis-exporter (redis_up)
      etcd           3-member consensus cluster, peers behind a proxy (for partitions)
      replica-state  replica counts under kube-state-metrics names
      prometheus     1 s scrape and evaluation, the lab's alert rules
      alertmanager   critical -> oncall-pager, warning -> team-chat
      sink           gameday's webhook receiver, records every delivery
    """


@lab.command()
@click.option("--lab-dir", type=click.Path(file_okay=False, path_type=Path), help=LAB_DIR_HELP)
@click.option(
    "--base-port",
    type=int,
    help="First of the lab's ports, the others follow it [env GAMEDAY_LAB_BASE_PORT; 17800].",
)
@click.option(
    "--port",
    "port_overrides",
    multiple=True,
    metavar="NAME=PORT",
    help="Move one part's port, e.g. --port prometheus=19090 (repeatable).",
)
@click.option(
    "--rules",
    "rule_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Extra Prometheus rule file to load beside the lab's (repeatable; promtool-checked).",
)
def up(
    lab_dir: Path | None,
    base_port: int | None,
    port_overrides: tuple[str, ...],
    rule_files: tuple[Path, ...],
) -> None:
    """Start the lab and wait until every Prometheus target is up."""
    ports = LabPorts.from_base(resolve_base_port(base_port), _parse_port_overrides(port_overrides))
    config = LabConfig(
        directory=resolve_lab_dir(lab_dir),
        ports=ports,
        extra_rule_files=tuple(path.resolve() for path in rule_files),
    )
    click.echo(f"starting the lab in {config.directory}", err=True)
    result = lifecycle.up(config, progress=_say)
    click.echo(
        f"lab ready in {result.seconds:.1f}s: {len(result.targets)} prometheus targets up\n"
        f"  gateway       {config.gateway_url}\n"
        f"  prometheus    {config.prometheus_url}\n"
        f"  alertmanager  {config.alertmanager_url}\n"
        f"  notifications {config.notifications_file}"
    )


@lab.command()
@click.option("--lab-dir", type=click.Path(file_okay=False, path_type=Path), help=LAB_DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(lab_dir: Path | None, as_json: bool) -> None:
    """Show each part: state, pid, address, restarts; and each Prometheus target."""
    config = load_running_config(resolve_lab_dir(lab_dir))
    report = lifecycle.status(config)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"lab {report['directory']}  supervisor: {report['supervisor']}")
    header = ("PART", "PROCESS", "STATE", "PID", "RESTARTS", "UPTIME", "ADDRESS")
    rows = [
        (
            row["part"],
            row["process"],
            row["state"],
            str(row["pid"] or "-"),
            str(row["restarts"]),
            f"{row['uptime_s']}s" if row["uptime_s"] is not None else "-",
            row["address"],
        )
        for row in report["processes"]
    ]
    click.echo(_table(header, rows))
    if report["targets"]:
        up_count = sum(1 for t in report["targets"] if t["health"] == "up")
        click.echo(f"\nprometheus targets: {up_count}/{len(report['targets'])} up")
        down = [t for t in report["targets"] if t["health"] != "up"]
        for target in down:
            click.echo(f"  DOWN {target['job']} {target['instance']}: {target['last_error']}")
    else:
        click.echo("\nprometheus: not answering")


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


@lab.command()
@click.option("--lab-dir", type=click.Path(file_okay=False, path_type=Path), help=LAB_DIR_HELP)
def down(lab_dir: Path | None) -> None:
    """Stop every lab process (also after a supervisor crash) and check no lab port listens."""
    directory = resolve_lab_dir(lab_dir)
    if not (directory / "lab.json").is_file():
        click.echo(f"no lab in {directory}: nothing to stop")
        return
    config = load_running_config(directory)
    result = lifecycle.down(config, progress=_say)
    if result.ports_still_listening:
        raise LabError(
            "ports still listening after stop: " + ", ".join(result.ports_still_listening),
            part="lab",
            hint="something outside the lab holds them; `ss -ltnp` shows what",
        )
    extra = f" ({len(result.swept)} left behind, stopped by pid)" if result.swept else ""
    click.echo(f"lab stopped{extra}; no lab port listening")
