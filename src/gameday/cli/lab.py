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
from gameday.lab.extras.registry import EXTRAS, choose_extras, extra_names
from gameday.lab.extras.runtime import start_extras
from gameday.lab.profile import LabProfile, read_profile
from gameday.lab.team_rules import RulesRecord, read_rules_record

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


def _parse_label_maps(values: tuple[str, ...]) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    for value in values:
        label, sep, pair = value.partition(":")
        old, eq, new = pair.partition("=")
        if not (sep and eq and label and old and new):
            raise InvalidInputError(
                f"--map-label {value!r} is not LABEL:PRODUCTION=LAB",
                hint="e.g. --map-label namespace:creto-enablement=lab",
            )
        labels.setdefault(label, {})[old] = new
    return labels


def _lab_config(
    directory: Path,
    ports: LabPorts,
    *,
    profile: LabProfile | None,
    rule_files: tuple[Path, ...],
    time_scale: float | None,
    label_maps: tuple[str, ...],
    replace_lab_rules: bool,
) -> LabConfig:
    if profile is None:
        return LabConfig(
            directory=directory,
            ports=ports,
            extra_rule_files=tuple(path.resolve() for path in rule_files),
            time_scale=1.0 if time_scale is None else time_scale,
            label_values=_parse_label_maps(label_maps),
            replace_lab_rules=replace_lab_rules,
        )
    if rule_files or label_maps or replace_lab_rules:
        raise InvalidInputError(
            "--profile already says the rules, labels and whether the lab's rules are replaced",
            source=str(profile.source),
            hint="drop --rules, --map-label and --replace-lab-rules, or edit the profile "
            "(--time-scale may override its time_scale)",
        )
    return profile.lab_config(directory, ports, time_scale=time_scale)


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
@click.option(
    "--time-scale",
    type=click.FloatRange(min=1),
    help="Run the --rules in compressed time: every duration in them (for:, intervals, "
    "ranges, offsets) divided by K, e.g. 60 turns 5m into 5s [1].",
)
@click.option(
    "--map-label",
    "label_maps",
    multiple=True,
    metavar="LABEL:PRODUCTION=LAB",
    help="Map a label value in every matcher of the --rules, e.g. "
    "namespace:creto-enablement=lab (the lab's series carry namespace=lab; repeatable).",
)
@click.option(
    "--replace-lab-rules",
    is_flag=True,
    help="Load only the --rules, not the lab's own (whose alert names may clash with them).",
)
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A lab profile (YAML): system, rules, time_scale, labels, replace_lab_rules, "
    "deployments, adapted, not_exercised (see README: Production rules in compressed time).",
)
@click.option(
    "--with",
    "with_extras",
    multiple=True,
    metavar="PART[,PART]",
    help="Also start these opt-in parts (or all): " + ", ".join(extra_names()) + ". "
    "Without it they stay stopped (no cost at rest) until an experiment's lab-parts "
    "control or `gameday lab start` starts them.",
)
def up(
    lab_dir: Path | None,
    base_port: int | None,
    port_overrides: tuple[str, ...],
    rule_files: tuple[Path, ...],
    time_scale: float | None,
    label_maps: tuple[str, ...],
    replace_lab_rules: bool,
    profile_path: Path | None,
    with_extras: tuple[str, ...],
) -> None:
    """Start the lab and wait until every Prometheus target is up.

    A team's production rules run in the lab with --rules (or a --profile): at
    --time-scale K every duration in them is divided by K, label values are mapped
    with --map-label, and the rewritten files are kept in LAB_DIR/config/rules.
    """
    ports = LabPorts.from_base(resolve_base_port(base_port), _parse_port_overrides(port_overrides))
    config = _lab_config(
        resolve_lab_dir(lab_dir),
        ports,
        profile=read_profile(profile_path) if profile_path is not None else None,
        rule_files=rule_files,
        time_scale=time_scale,
        label_maps=label_maps,
        replace_lab_rules=replace_lab_rules,
    )
    choose_extras(with_extras)  # an unknown name exits 2 before anything starts
    click.echo(f"starting the lab in {config.directory}", err=True)
    result = lifecycle.up(config, progress=_say, with_extras=with_extras)
    click.echo(
        f"lab ready in {result.seconds:.1f}s: {len(result.targets)} prometheus targets up\n"
        f"  gateway       {config.gateway_url}\n"
        f"  prometheus    {config.prometheus_url}\n"
        f"  alertmanager  {config.alertmanager_url}\n"
        f"  notifications {config.notifications_file}"
    )
    _echo_rules(read_rules_record(config))


@lab.command(
    epilog="Opt-in parts: "
    + "; ".join(f"{extra.name}: {extra.summary}" for extra in EXTRAS.values())
)
@click.option("--lab-dir", type=click.Path(file_okay=False, path_type=Path), help=LAB_DIR_HELP)
@click.argument("parts", nargs=-1, required=True, metavar="PART...")
def start(lab_dir: Path | None, parts: tuple[str, ...]) -> None:
    """Start opt-in parts on a running lab (`all` for every one) and wait until
    Prometheus scrapes them. They run until `gameday lab down`."""
    config = load_running_config(resolve_lab_dir(lab_dir))
    chosen = choose_extras(parts)
    started = start_extras(config, chosen, progress=_say)
    for extra in chosen:
        state = "started" if extra.name in started else "already running"
        click.echo(f"  {extra.name:<10} {state}: {extra.summary}")


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
    _echo_rules(report["rules"])


def _echo_rules(record: RulesRecord | None) -> None:
    """The team's rules the lab runs: system, time scale, files, notes."""
    if record is None or not record["files"]:
        return
    system = f" of {record['system']}" if record["system"] else ""
    own = "instead of" if record["replace_lab_rules"] else "beside"
    click.echo(f"\nrules{system} ({own} the lab's), time scale {record['time_scale']:g}")
    click.echo(f"  changed: {record['rewrite']}")
    for row in record["files"]:
        loaded = "" if row["loaded"] == row["source"] else f" -> {row['loaded']}"
        click.echo(f"  {row['source']}{loaded}")
    for note in record["notes"]:
        click.echo(f"  note: {note}")


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
