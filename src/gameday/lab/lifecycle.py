"""Bringing the lab up, reporting its status, taking it down: the lab's composition root."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from gameday.errors import LabError
from gameday.lab import monitoring, processes, team_rules
from gameday.lab.config import LabConfig
from gameday.lab.extras import runtime as extras
from gameday.lab.extras.registry import choose_extras
from gameday.lab.parts import lab_parts
from gameday.lab.release import release_file
from gameday.lab.replica_state import is_paused, read_restarts
from gameday.lab.supervisor import Part, ProcessInfo, SupervisorClient, render_config
from gameday.observe.prometheus import Prometheus, TargetHealth

Progress = Callable[[str], None]
READY_TIMEOUT_S = 60.0
SUPERVISOR_START_TIMEOUT_S = 10.0
SUPERVISOR_STOP_TIMEOUT_S = 30.0
POLL_S = 0.2


def _quiet(_: str) -> None:
    pass


class ProcessRow(TypedDict):
    """One supervised process in `gameday lab status`."""

    part: str
    process: str
    state: str
    pid: int | None
    address: str
    restarts: int
    uptime_s: int | None


class TargetRow(TypedDict):
    job: str
    instance: str
    health: str
    last_error: str


class LabStatus(TypedDict):
    """What `gameday lab status --json` prints."""

    directory: str
    supervisor: str
    processes: list[ProcessRow]
    targets: list[TargetRow]
    prometheus: str
    alertmanager: str
    gateway: str
    system: str | None
    time_scale: float
    rules: team_rules.RulesRecord | None


@dataclass(frozen=True)
class UpResult:
    config: LabConfig
    seconds: float
    targets: list[TargetHealth]


def _pid_file(config: LabConfig) -> Path:
    return config.run / "supervisord.pid"


def _parts(config: LabConfig) -> list[Part]:
    """The lab's parts, then the opt-in ones (configured, not started)."""
    return lab_parts(
        config,
        prometheus_yml=config.directory / "config" / "prometheus.yml",
        alertmanager_yml=config.directory / "config" / "alertmanager.yml",
    ) + extras.extra_parts(config)


def _preflight(config: LabConfig, parts: list[Part]) -> None:
    optional = extras.optional_groups(config)
    for part in parts:
        if part.name in optional:
            continue  # checked when started: a lab without them still comes up
        if shutil.which(part.binary) is None and not Path(part.binary).is_file():
            raise LabError(
                f"binary {part.binary!r} not found on PATH",
                part=part.name,
                hint=f"install it: {part.install_hint}",
            )
    for name, port in config.ports.all().items():
        if name == "load_metrics":
            continue  # used by load runs, not by `lab up`
        if processes.port_in_use(port):
            raise LabError(
                f"port {port} ({name}) on 127.0.0.1 is already in use",
                part=name.split("[")[0].replace("_", "-"),
                hint="stop what listens there, or move the lab with --base-port",
            )


def _prepare(config: LabConfig, parts: list[Part], team: team_rules.RulesRecord) -> Path:
    """Fresh data and configs; the notification record survives restarts of the lab."""
    shutil.rmtree(config.data, ignore_errors=True)
    for directory in (config.logs, config.run, config.data / "redis", config.directory / "config"):
        directory.mkdir(parents=True, exist_ok=True)
    (config.run / "restarts.json").unlink(missing_ok=True)
    release_file(config.run).unlink(missing_ok=True)  # a fresh lab serves the baseline
    config.load_targets_file.write_text("[]\n")
    extras.reset(config)
    config.save()
    own = [] if config.replace_lab_rules else monitoring.lab_rule_files()
    rule_files = own + [Path(row["loaded"]) for row in team["files"]]
    monitoring.write_yaml(
        config.directory / "config" / "prometheus.yml",
        monitoring.prometheus_config(config, rule_files),
    )
    monitoring.write_yaml(
        config.directory / "config" / "alertmanager.yml", monitoring.alertmanager_config(config)
    )
    conf = config.directory / "config" / "supervisord.conf"
    conf.write_text(
        render_config(
            parts,
            port=config.ports.supervisor,
            directory=config.run,
            logs=config.logs,
            environment={processes.LAB_ID_ENV: str(config.directory)},
        )
    )
    return conf


def _start_supervisor(config: LabConfig, conf: Path) -> SupervisorClient:
    env = dict(os.environ)
    env[processes.LAB_ID_ENV] = str(config.directory)
    supervisord = shutil.which(
        "supervisord", path=str(Path(sys.executable).parent)
    ) or shutil.which("supervisord")
    if supervisord is None:
        raise LabError("supervisord not found", part="supervisor", hint="pip install supervisor")
    with (config.logs / "supervisord.stdout.log").open("ab") as log:
        process = subprocess.Popen(
            [supervisord, "-c", str(conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the `gameday lab up` that started it
            env=env,
        )
    _pid_file(config).write_text(f"{process.pid}\n")
    client = SupervisorClient(config.supervisor_url)
    deadline = time.monotonic() + SUPERVISOR_START_TIMEOUT_S
    while not client.reachable():
        if process.poll() is not None:
            raise LabError(
                f"supervisord exited with code {process.returncode}",
                part="supervisor",
                hint=f"see {config.logs / 'supervisord.log'}",
            )
        if time.monotonic() > deadline:
            raise LabError("supervisord did not answer in time", part="supervisor")
        time.sleep(POLL_S)
    return client


def _wait_running(client: SupervisorClient, config: LabConfig, progress: Progress) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    reported: set[str] = set()
    optional = extras.optional_groups(config)
    while True:
        infos = [info for info in client.processes() if info["group"] not in optional]
        for info in infos:
            if info["statename"] in {"FATAL", "EXITED", "BACKOFF"}:
                log = _log_tail(config, info)
                raise LabError(
                    f"{info['name']} did not start ({info['statename']}): {log}",
                    part=info["group"],
                    hint=f"its log: {config.logs / (info['name'] + '.log')}",
                )
            if info["statename"] == "RUNNING" and info["name"] not in reported:
                reported.add(info["name"])
        if all(info["statename"] == "RUNNING" for info in infos):
            progress(f"all {len(infos)} processes running")
            return
        if time.monotonic() > deadline:
            waiting = [i["name"] for i in infos if i["statename"] != "RUNNING"]
            raise LabError(f"still starting after {READY_TIMEOUT_S:.0f}s: {', '.join(waiting)}")
        time.sleep(POLL_S)


def _log_tail(config: LabConfig, info: ProcessInfo) -> str:
    path = config.logs / f"{info['name']}.log"
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return info.get("spawnerr") or "no log"
    return " | ".join(lines[-3:]) or info.get("spawnerr") or "empty log"


def _wait_targets(config: LabConfig, progress: Progress) -> list[TargetHealth]:
    prometheus = Prometheus(config.prometheus_url, timeout=2)
    deadline = time.monotonic() + READY_TIMEOUT_S
    last_count = -1
    while True:
        targets = prometheus.targets() if prometheus.reachable() else []
        up = [t for t in targets if t["health"] == "up"]
        if targets and len(up) == len(targets):
            return targets
        if len(up) != last_count and targets:
            progress(f"prometheus targets up: {len(up)}/{len(targets)}")
            last_count = len(up)
        if time.monotonic() > deadline:
            down = [
                f"{t['job']} {t['instance']} ({t['last_error'] or t['health']})"
                for t in targets
                if t["health"] != "up"
            ]
            raise LabError(
                "prometheus targets not up after "
                f"{READY_TIMEOUT_S:.0f}s: " + ("; ".join(down) or "prometheus not ready"),
                part=down[0].split()[0] if down else "prometheus",
                hint=f"see the logs in {config.logs}",
            )
        time.sleep(POLL_S)


def up(
    config: LabConfig, *, progress: Progress = _quiet, with_extras: tuple[str, ...] = ()
) -> UpResult:
    """Start every part (and the opt-in parts named), wait until each Prometheus target is
    up; on failure stop it all."""
    started = time.monotonic()
    if SupervisorClient(config.supervisor_url, timeout=1).reachable() or leftover_pids(config):
        raise LabError(
            f"a lab is already running in {str(config.directory)!r}",
            part="lab",
            hint="use it (`gameday lab status`) or stop it first (`gameday lab down`)",
        )
    chosen = choose_extras(with_extras)
    team = team_rules.prepare_rules(config)
    parts = _parts(config)
    _preflight(config, parts)
    conf = _prepare(config, parts, team)
    try:
        progress("starting supervisord")
        client = _start_supervisor(config, conf)
        _wait_running(client, config, progress)
        processes.record_pids(config.pids_file, {i["name"]: i["pid"] for i in client.processes()})
        progress("waiting for every prometheus target to be up")
        targets = _wait_targets(config, progress)
        if chosen:
            extras.start_extras(config, chosen, progress=progress)
            targets = _wait_targets(config, progress)
    except BaseException:
        down(config)
        raise
    return UpResult(config=config, seconds=time.monotonic() - started, targets=targets)


def leftover_pids(config: LabConfig) -> list[int]:
    marked = processes.lab_pids(str(config.directory))
    return sorted(set(marked) | set(processes.recorded_pids(config.pids_file)))


def status(config: LabConfig) -> LabStatus:
    client = SupervisorClient(config.supervisor_url, timeout=2)
    restarts = read_restarts(config)
    addresses = {
        program.name: program.address for part in _parts(config) for program in part.programs
    }
    rows: list[ProcessRow] = []
    supervisor_state = "down"
    if client.reachable():
        supervisor_state = f"running (pid {client.pid()})"
        optional = extras.optional_groups(config)
        started = extras.started_extras(config)
        for info in client.processes():
            running = info["statename"] == "RUNNING"
            state = _state_label(info)
            if info["group"] in optional and optional[info["group"]] not in started:
                state = "opt-in, not started" if state == "STOPPED" else state
            rows.append(
                ProcessRow(
                    part=info["group"],
                    process=info["name"],
                    state=state,
                    pid=info["pid"] or None,
                    address=addresses.get(info["name"], ""),
                    restarts=restarts.get(info["name"], 0),
                    uptime_s=(info["now"] - info["start"]) if running else None,
                )
            )
    elif leftover_pids(config):
        supervisor_state = "crashed (lab processes left behind: run `gameday lab down`)"
    targets: list[TargetRow] = []
    prometheus = Prometheus(config.prometheus_url, timeout=2)
    if prometheus.reachable():
        targets = [
            TargetRow(
                job=t["job"], instance=t["instance"], health=t["health"], last_error=t["last_error"]
            )
            for t in prometheus.targets()
        ]
    return LabStatus(
        directory=str(config.directory),
        supervisor=supervisor_state,
        processes=rows,
        targets=targets,
        prometheus=config.prometheus_url,
        alertmanager=config.alertmanager_url,
        gateway=config.gateway_url,
        system=config.system,
        time_scale=config.time_scale,
        rules=team_rules.read_rules_record(config),
    )


def _state_label(info: ProcessInfo) -> str:
    if info["statename"] == "RUNNING" and is_paused(info["pid"]):
        return "PAUSED"
    return info["statename"]


@dataclass(frozen=True)
class DownResult:
    stopped_by_supervisor: bool
    swept: list[int]
    killed: list[int]
    ports_still_listening: list[str]


def down(config: LabConfig, *, progress: Progress = _quiet) -> DownResult:
    """Stop everything; also after the supervisor crashed; verify no lab port listens."""
    client = SupervisorClient(config.supervisor_url, timeout=3)
    stopped = False
    if client.reachable():
        supervisor_pid = client.pid()
        progress("stopping lab processes")
        client.signal_all("CONT")  # a paused process ignores SIGTERM
        client.stop_all()
        _wait_all_stopped(client)
        client.shutdown()
        deadline = time.monotonic() + SUPERVISOR_STOP_TIMEOUT_S
        while processes.alive(supervisor_pid) and time.monotonic() < deadline:
            time.sleep(POLL_S)
        stopped = True
    leftovers = leftover_pids(config)
    killed: list[int] = []
    if leftovers:
        progress(f"stopping {len(leftovers)} leftover lab processes by pid")
        killed = processes.terminate(leftovers)
    extras.release_all(config, progress=progress)
    _pid_file(config).unlink(missing_ok=True)
    config.pids_file.unlink(missing_ok=True)
    listening = [
        f"{name}={port}"
        for name, port in config.ports.all().items()
        if name != "load_metrics" and processes.port_in_use(port)
    ]
    return DownResult(stopped, leftovers, killed, listening)


def _wait_all_stopped(client: SupervisorClient) -> None:
    deadline = time.monotonic() + SUPERVISOR_STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            infos = client.processes()
        except Exception:
            return
        if all(info["statename"] in {"STOPPED", "EXITED", "FATAL"} for info in infos):
            return
        time.sleep(POLL_S)
