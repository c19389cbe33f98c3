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

`workers: N` runs a Locust master and N workers: processes on this machine, or, with
`workers_in: cluster` on a kind: kubernetes target, pods in the target's namespace
(`load/cluster_workers.py`) that connect to the master at `master_host` (the address the
pods reach this machine at; the master binds it), from `worker_image` (default: Locust's
image at the version installed here)::

          arguments:
            workers: 4
            workers_in: cluster
            master_host: 10.0.3.17
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from chaoslib.exceptions import InterruptExecution
from chaoslib.types import Configuration, Experiment, Secrets

from gameday.context import RunContext, run_context
from gameday.errors import GamedayError
from gameday.lab import processes
from gameday.load.client_monitor import ClientMonitor, free_port
from gameday.load.cluster_workers import ClusterWorkers
from gameday.load.locust_process import LoadProfile, LocustProcess, Workers
from gameday.load.locust_workers import parse_workers
from gameday.load.locustfile import DEFAULT_LOCUSTFILE, find_locustfile
from gameday.load.placement import parse_placement
from gameday.load.session import LoadSession
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import Prometheus
from gameday.targets.kubernetes import KubeAccess

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
    workers: int = 0,
    workers_in: str = "local",
    worker_image: str | None = None,
    master_host: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
    experiment: Experiment = None,
) -> None:
    """Check the load settings when the experiment starts (the locustfile must exist,
    `workers` must be a whole number from 0 to 64, `workers_in: cluster` needs workers and
    a `master_host`)."""
    parse_placement(
        workers=parse_workers(workers),
        workers_in=workers_in,
        master_host=master_host,
        worker_image=worker_image,
    )
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
    workers: int = 0,
    workers_in: str = "local",
    worker_image: str | None = None,
    master_host: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
    **_: Any,
) -> None:
    """Start Locust (with `workers`: a master and its workers, all connected; with
    `workers_in: cluster`, the workers as pods in the target's cluster) and wait until
    Prometheus has `warmup_s` seconds of its figures."""
    run = run_context(configuration)
    if run.detached and not run.active:
        # Plain `chaos run`: keep this context for the whole experiment, so the faults,
        # probes and the control's own end share it.
        run.activate()
    target = run.target
    chosen = host or (target.lab.gateway_url if target.lab is not None else target.load_host)
    if not chosen:
        raise InterruptExecution(
            f"load control: target {target.name!r} has no load host: set load: {{host: …}} "
            "in its target file, or host: in the control's arguments"
        )
    profile = LoadProfile(
        locustfile=find_locustfile(locustfile, run.experiment_dir),
        host=chosen,
        users=int(users),
        spawn_rate=float(spawn_rate),
        run_time_s=int(run_time_s),
        export_metrics=bool(export_metrics),
        workers=parse_workers(workers),
    )
    pods = _in_cluster(run, profile, workers_in, master_host, worker_image)
    if pods is not None:
        session = _external_session(profile, pods)
    elif target.lab is None:
        session = _external_session(profile)
    else:
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
        # The hint names Locust's log files: the run's record must carry them.
        why = f"load did not start: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
        run.record("error", why)
        raise InterruptExecution(why) from exc
    run.load = session
    if target.lab is not None:
        # Found again by `gameday recover` if this process dies without stopping it.
        processes.record_pids(target.lab.load_pids_file, session.process.pids)
    spread = f" over {profile.workers} Locust workers" if profile.workers else ""
    placed: dict[str, object] = {}
    if isinstance(session.process.workers, ClusterWorkers):
        made = session.process.workers
        spread += f" (pods in namespace {made.namespace}, label gameday.dev/load={made.name})"
        placed = {"workers_in": "cluster", "namespace": made.namespace}
    run.record(
        "load_started",
        f"{profile.users} users on {profile.host} ({profile.locustfile.name}){spread}",
        pid=session.process.pid,
        users=profile.users,
        workers=profile.workers,
        **placed,
    )
    if profile.export_metrics:
        _wait_for_client_metrics(run, run.client_prometheus())
    _warm_up(run, float(warmup_s))


def _in_cluster(
    run: RunContext,
    profile: LoadProfile,
    workers_in: object,
    master_host: object,
    worker_image: object,
) -> Callable[[int, Path], ClusterWorkers] | None:
    """With `workers_in: cluster`: what makes the worker pods, given the master's port and
    work directory (their removal goes to the target's fault ledger). It needs a kind:
    kubernetes target: InterruptExecution, recorded, before anything starts."""
    try:
        placement = parse_placement(
            workers=profile.workers,
            workers_in=workers_in,
            master_host=master_host,
            worker_image=worker_image,
        )
    except GamedayError as exc:
        _refuse(run, f"load control: {exc.message}")
    if placement is None:
        return None
    target = run.target
    if target.kind != "kubernetes" or target.kubernetes is None:
        _refuse(
            run,
            f"load control: workers_in: cluster needs a kind: kubernetes target; target "
            f"{target.name!r} is {target.kind}",
        )
    if "${" in placement.master_host:
        _refuse(
            run,
            f"load control: master_host {placement.master_host!r} was not substituted: the "
            "experiment's configuration has no such key",
        )
    access: KubeAccess = target.kubernetes
    ledger = target.own_ledger()

    def pods(master_port: int, workdir: Path) -> ClusterWorkers:
        return ClusterWorkers(
            count=profile.workers,
            locustfile=profile.locustfile,
            master_host=placement.master_host,
            master_port=master_port,
            namespace=access.namespace,
            workdir=workdir,
            image=placement.image,
            ledger=ledger,
            **access.as_arguments(),
        )

    return pods


def _refuse(run: RunContext, why: str) -> NoReturn:
    run.record("error", why)
    raise InterruptExecution(why)


def _external_session(
    profile: LoadProfile, workers: Callable[[int, Path], Workers] | None = None
) -> LoadSession:
    """Load on a system that is not the lab: against the target's load host. Its
    Prometheus does not scrape gameday's Locust: a Prometheus of gameday's own keeps the
    client-side figures for the client-side SLOs. `workers` makes the master's workers
    from its port and work directory (default: processes on this machine)."""
    workdir = Path(tempfile.mkdtemp(prefix="gameday-load-"))
    metrics_port = free_port()
    master_port = free_port()
    return LoadSession(
        process=LocustProcess(
            profile=profile,
            metrics_port=metrics_port,
            workdir=workdir,
            master_port=master_port,
            workers=workers(master_port, workdir) if workers is not None else None,
        ),
        monitor=ClientMonitor(workdir=workdir, locust_metrics_port=metrics_port)
        if profile.export_metrics
        else None,
        scratch_dir=workdir,
    )


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
