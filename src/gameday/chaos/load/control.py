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
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaoslib.exceptions import InterruptExecution
from chaoslib.types import Configuration, Experiment, Secrets

from gameday.chaos.target import resolve_target
from gameday.engine import timeline
from gameday.errors import GamedayError, InvalidInputError
from gameday.load import targets
from gameday.load.locust_process import LoadProfile, LocustProcess
from gameday.model import LoadSummary
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import Prometheus

__all__ = [
    "after_experiment_control",
    "before_experiment_control",
    "cleanup_control",
    "configure_control",
    "current_load",
    "last_summary",
    "started_at",
    "stop_load",
]
logger = logging.getLogger("gameday.chaos.load.control")
EXPERIMENT_DIR_ENV = "GAMEDAY_EXPERIMENT_DIR"
DEFAULT_WARMUP_S = 6.0

_lock = threading.Lock()
_current: LocustProcess | None = None
_targets_file: Path | None = None
_summary: LoadSummary | None = None
_started_at: datetime | None = None


def find_locustfile(locustfile: str, experiment_dir: str | Path | None = None) -> Path:
    """The locustfile, from the working directory or the experiment's directory."""
    candidate = Path(locustfile)
    places = [Path.cwd()]
    experiment_dir = experiment_dir or os.environ.get(EXPERIMENT_DIR_ENV)
    if experiment_dir:
        places += [Path(experiment_dir), Path(experiment_dir).parent]
    for place in places:
        path = candidate if candidate.is_absolute() else place / candidate
        if path.is_file():
            return path.resolve()
    raise InvalidInputError(
        f"locustfile {locustfile!r} not found (looked in {', '.join(map(str, places))})",
        where="controls.load.provider.arguments.locustfile",
        hint="give a path relative to where you run gameday, or an absolute one",
    )


def configure_control(
    locustfile: str = "loadtests/lab_api.py",
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
    find_locustfile(locustfile)


def before_experiment_control(
    context: Experiment,
    locustfile: str = "loadtests/lab_api.py",
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
    global _current, _targets_file, _summary, _started_at
    target = resolve_target(configuration)
    profile = LoadProfile(
        locustfile=find_locustfile(locustfile),
        host=host or (target.lab.gateway_url if target.lab else ""),
        users=int(users),
        spawn_rate=float(spawn_rate),
        run_time_s=int(run_time_s),
        export_metrics=bool(export_metrics),
    )
    if not profile.host:
        raise InterruptExecution("load control: no host given and no lab to default to")
    if target.lab is None:
        raise InterruptExecution("load control: client-side metrics need the gameday lab")
    workdir = target.lab.run / "load"
    process = LocustProcess(
        profile=profile, metrics_port=target.lab.ports.load_metrics, workdir=workdir
    )
    with _lock:
        if _current is not None and _current.running:
            return  # already holding load (a plan's shared load)
        try:
            process.start()
        except GamedayError as exc:
            timeline.record("error", f"load did not start: {exc.message}")
            raise InterruptExecution(f"load did not start: {exc.message}") from exc
        _current, _summary = process, None
        _targets_file = target.lab.load_targets_file
        _started_at = datetime.now(UTC)
    if profile.export_metrics:
        targets.announce(_targets_file, target.lab.ports.load_metrics, namespace="lab")
    timeline.record(
        "load_started",
        f"{profile.users} users on {profile.host} ({profile.locustfile.name})",
        pid=process.pid,
        users=profile.users,
    )
    if profile.export_metrics:
        _wait_for_client_metrics(Prometheus(target.prometheus_url), float(warmup_s))


def _wait_for_client_metrics(prometheus: Prometheus, warmup_s: float) -> None:
    seen = poll_until(
        lambda: prometheus.query_value("sum(locust_requests_total)"),
        timeout_s=20,
        interval_s=0.25,
        on_wait=lambda left: timeline.waiting("Prometheus to scrape the load", left),
    )
    if not seen.met:
        timeline.record("error", "Prometheus never scraped Locust's metrics")
        raise InterruptExecution("Prometheus never scraped Locust's metrics (job 'locust')")
    if warmup_s > 0:
        end = time.monotonic() + warmup_s
        while (left := end - time.monotonic()) > 0:
            timeline.waiting("load to warm up", left)
            time.sleep(min(0.5, left))


def stop_load() -> LoadSummary | None:
    """Stop the load if it runs; its final figures, also kept for `last_summary()`."""
    global _current, _summary
    with _lock:
        process, _current = _current, None
        if _targets_file is not None:
            targets.withdraw(_targets_file)
    if process is None:
        return None
    summary = process.stop()
    _summary = summary
    if summary is not None:
        timeline.record(
            "load_stopped",
            f"{summary['requests']} requests, {summary['failures']} failures, "
            f"{summary['requests_per_s']} req/s",
            **dict(summary),
        )
    else:
        timeline.record("load_stopped", "load stopped (no final figures)")
    return summary


def after_experiment_control(context: Experiment, state: Any = None, **_: Any) -> None:
    """Stop Locust: this runs after the rollbacks, on every ending."""
    stop_load()


def cleanup_control() -> None:
    stop_load()


def current_load() -> LocustProcess | None:
    return _current


def last_summary() -> LoadSummary | None:
    return _summary


def started_at() -> datetime | None:
    """When the load running now started (None when none runs)."""
    return _started_at if _current is not None else None
