"""A Chaos Toolkit control that holds Locust load around an experiment.

Declare it in an experiment::

    controls:
      - name: load
        provider:
          type: python
          module: gameday.chaos.load.control
          arguments:
            locustfile: loadtests/lab_api.py
            users: 10
            spawn_rate: 10

Locust starts headless before the steady-state hypothesis, its client-side
figures go to Prometheus (job `locust`) while it runs, and it stops after the
rollbacks (also on Ctrl-C). `host` defaults to the lab's gateway. A relative
`locustfile` is looked up from the working directory, then from the
experiment's directory and its parent.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from chaoslib.exceptions import InterruptExecution
from chaoslib.types import Configuration, Experiment, Secrets

from gameday.context import RunContext, run_context
from gameday.errors import GamedayError
from gameday.lab import processes
from gameday.load.client_monitor import ClientMonitor, free_port
from gameday.load.locust_process import LoadProfile, LocustProcess
from gameday.load.locustfile import DEFAULT_LOCUSTFILE, find_locustfile
from gameday.load.session import LoadSession
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import Prometheus

__all__ = [
    "after_experiment_control",
    "before_experiment_control",
    "cleanup_control",
    "configure_control",
]
logger = logging.getLogger("gameday.chaos.load.control")
DEFAULT_WARMUP_S = 6.0


def configure_control(
    locustfile: str = DEFAULT_LOCUSTFILE,
    users: int = 10,
    spawn_rate: float = 10,
    host: str | None = None,
    run_time_s: int = 900,
    warmup_s: float = DEFAULT_WARMUP_S,
    export_metrics: bool = True,
    configuration: Configuration = None,
    secrets: Secrets = None,
    experiment: Experiment = None,
) -> None:
    """Check the load settings when the experiment starts (the locustfile must exist)."""
    find_locustfile(locustfile, run_context(configuration).experiment_dir)


def before_experiment_control(
    context: Experiment,
    locustfile: str = DEFAULT_LOCUSTFILE,
    users: int = 10,
    spawn_rate: float = 10,
    host: str | None = None,
    run_time_s: int = 900,
    warmup_s: float = DEFAULT_WARMUP_S,
    export_metrics: bool = True,
    configuration: Configuration = None,
    secrets: Secrets = None,
    **_: Any,
) -> None:
    """Start Locust and wait until Prometheus has `warmup_s` seconds of its figures."""
    run = run_context(configuration)
    if run.detached and not run.active:
        # Plain `chaos run`: keep this context for the whole experiment, so the faults,
        # probes and the control's own end share it.
        run.activate()
    target = run.target
    if target.lab is None:
        session, profile = _external_session(
            run, locustfile, users, spawn_rate, host, run_time_s, bool(export_metrics)
        )
    else:
        profile = LoadProfile(
            locustfile=find_locustfile(locustfile, run.experiment_dir),
            host=host or target.lab.gateway_url,
            users=int(users),
            spawn_rate=float(spawn_rate),
            run_time_s=int(run_time_s),
            export_metrics=bool(export_metrics),
        )
        session = LoadSession(
            process=LocustProcess(
                profile=profile,
                metrics_port=target.lab.ports.load_metrics,
                workdir=target.lab.run / "load",
            ),
            targets_file=target.lab.load_targets_file if profile.export_metrics else None,
            labels={"namespace": "lab"},
        )
    try:
        session.start()
    except GamedayError as exc:
        run.record("error", f"load did not start: {exc.message}")
        raise InterruptExecution(f"load did not start: {exc.message}") from exc
    run.load = session
    if session.process.pid is not None and target.lab is not None:
        # Found again by `gameday recover` if this process dies without stopping it.
        processes.record_pids(target.lab.load_pids_file, {"locust": session.process.pid})
    run.record(
        "load_started",
        f"{profile.users} users on {profile.host} ({profile.locustfile.name})",
        pid=session.process.pid,
        users=profile.users,
    )
    if profile.export_metrics:
        _wait_for_client_metrics(run, run.client_prometheus())
    _warm_up(run, float(warmup_s))


def _external_session(
    run: RunContext,
    locustfile: str,
    users: int,
    spawn_rate: float,
    host: str | None,
    run_time_s: int,
    export_metrics: bool,
) -> tuple[LoadSession, LoadProfile]:
    """Load on a system that is not the lab: against the target's load host. Its
    Prometheus does not scrape gameday's Locust: a Prometheus of gameday's own keeps the
    client-side figures for the client-side SLOs."""
    chosen = host or run.target.load_host
    if not chosen:
        raise InterruptExecution(
            f"load control: target {run.target.name!r} has no load host: set load: {{host: …}} "
            "in its target file, or host: in the control's arguments"
        )
    profile = LoadProfile(
        locustfile=find_locustfile(locustfile, run.experiment_dir),
        host=chosen,
        users=int(users),
        spawn_rate=float(spawn_rate),
        run_time_s=int(run_time_s),
        export_metrics=export_metrics,
    )
    workdir = Path(tempfile.mkdtemp(prefix="gameday-load-"))
    metrics_port = free_port()
    session = LoadSession(
        process=LocustProcess(profile=profile, metrics_port=metrics_port, workdir=workdir),
        monitor=ClientMonitor(workdir=workdir, locust_metrics_port=metrics_port)
        if export_metrics
        else None,
    )
    return session, profile


def _wait_for_client_metrics(run: RunContext, prometheus: Prometheus) -> None:
    seen = poll_until(
        lambda: prometheus.query_value("sum(locust_requests_total)"),
        timeout_s=20,
        interval_s=0.25,
        on_wait=lambda left: run.waiting("Prometheus to scrape the load", left),
    )
    if not seen.met:
        run.record("error", "Prometheus never scraped Locust's metrics")
        raise InterruptExecution("Prometheus never scraped Locust's metrics (job 'locust')")


def _warm_up(run: RunContext, warmup_s: float) -> None:
    if warmup_s > 0:
        end = time.monotonic() + warmup_s
        while (left := end - time.monotonic()) > 0:
            run.waiting("load to warm up", left)
            time.sleep(min(0.5, left))


def after_experiment_control(
    context: Experiment, state: Any = None, configuration: Configuration = None, **_: Any
) -> None:
    """Stop Locust: this runs after the rollbacks, on every ending."""
    run_context(configuration).stop_load()


def cleanup_control(configuration: Configuration = None) -> None:
    run = run_context(configuration)
    run.stop_load()
    if run.detached:
        run.deactivate()
