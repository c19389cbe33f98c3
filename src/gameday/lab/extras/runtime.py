"""Starting opt-in lab parts on demand, and what the lab does with them at up and down.

An opt-in part's processes are in the supervisor's configuration from `lab up` on, with
autostart off. Starting one runs its `prepare` step, starts its supervisor groups, waits
for them to run, then writes its scrape targets into Prometheus' file discovery and waits
until Prometheus scrapes them. Which parts were started is kept in `run/extras.json`,
so status, health checks and `lab down` know.
"""

from __future__ import annotations

import glob
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from gameday.errors import LabError
from gameday.lab import processes
from gameday.lab.config import LabConfig
from gameday.lab.extras.base import Extra, ScrapeJob
from gameday.lab.extras.registry import EXTRAS
from gameday.lab.supervisor import Part, SupervisorClient
from gameday.observe.prometheus import Prometheus

Progress = Callable[[str], None]
START_TIMEOUT_S = 60.0
POLL_S = 0.25


def _quiet(_: str) -> None:
    return None


def extra_parts(config: LabConfig) -> list[Part]:
    """Every opt-in part's processes, configured not to start with the lab."""
    parts: list[Part] = []
    for extra in EXTRAS.values():
        for part in extra.parts(config):
            programs = tuple(replace(program, autostart=False) for program in part.programs)
            parts.append(replace(part, programs=programs))
    return parts


def scrape_jobs(config: LabConfig) -> list[ScrapeJob]:
    return [job for extra in EXTRAS.values() for job in extra.scrape_jobs(config)]


def targets_file(config: LabConfig, job: str) -> Path:
    return config.directory / "config" / "targets" / f"{job}.json"


def prometheus_jobs(config: LabConfig) -> list[dict[str, Any]]:
    """One file-discovery job per opt-in scrape job; empty until its part starts."""
    return [
        {
            **job.settings,
            "job_name": job.name,
            "metrics_path": job.targets[0].path if job.targets else "/metrics",
            "file_sd_configs": [
                {"files": [str(targets_file(config, job.name))], "refresh_interval": "1s"}
            ],
        }
        for job in scrape_jobs(config)
    ]


def reset(config: LabConfig) -> None:
    """At `lab up`: no opt-in part started, no target listed."""
    for job in scrape_jobs(config):
        _write_targets(config, job, started=False)
    _started_file(config).unlink(missing_ok=True)


def _write_targets(config: LabConfig, job: ScrapeJob, *, started: bool) -> None:
    path = targets_file(config, job.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = (
        [
            {"targets": [target.address], "labels": {"namespace": "lab", **target.labels}}
            for target in job.targets
        ]
        if started
        else []
    )
    path.write_text(json.dumps(document) + "\n")


def _started_file(config: LabConfig) -> Path:
    return config.run / "extras.json"


def started_extras(config: LabConfig) -> list[str]:
    """The opt-in parts started since `lab up` (in the registry's order)."""
    try:
        names = json.loads(_started_file(config).read_text())
    except (OSError, ValueError):
        return []
    return [name for name in EXTRAS if name in names]


def _mark_started(config: LabConfig, name: str) -> None:
    names = set(started_extras(config)) | {name}
    _started_file(config).write_text(json.dumps(sorted(names)) + "\n")


def groups_of(config: LabConfig, extra: Extra) -> list[str]:
    return [part.name for part in extra.parts(config)]


def optional_groups(config: LabConfig) -> dict[str, str]:
    """Supervisor group → its opt-in part's name."""
    return {part.name: extra.name for extra in EXTRAS.values() for part in extra.parts(config)}


def start_extras(
    config: LabConfig, extras: list[Extra], *, progress: Progress = _quiet
) -> list[str]:
    """Start each of these parts that is not running yet; return the names started now."""
    client = SupervisorClient(config.supervisor_url)
    if not client.reachable():
        raise LabError(
            f"no lab runs in {str(config.directory)!r}",
            part="lab",
            hint="start it with `gameday lab up`",
        )
    started: list[str] = []
    for extra in extras:
        groups = groups_of(config, extra)
        states = {
            info["name"]: info["statename"]
            for info in client.processes()
            if info["group"] in groups
        }
        already = extra.name in started_extras(config) and all(
            state == "RUNNING" for state in states.values()
        )
        if already:
            continue
        progress(f"starting opt-in part {extra.name}")
        _check_binaries(extra)
        extra.prepare(config)
        for group in groups:
            client.start_group(group)
        _wait_running(client, config, groups, extra.name)
        processes.record_pids(
            config.pids_file,
            {i["name"]: i["pid"] for i in client.processes() if i["statename"] == "RUNNING"},
        )
        _mark_started(config, extra.name)
        jobs = extra.scrape_jobs(config)
        for job in jobs:
            _write_targets(config, job, started=True)
        _wait_scraped(config, [job.name for job in jobs], extra.name)
        started.append(extra.name)
    return started


def _check_binaries(extra: Extra) -> None:
    for binary, package in extra.binaries.items():
        if shutil.which(binary) is None and not glob.glob(binary):
            raise LabError(
                f"{binary!r} not found (the {extra.name} part needs it)",
                part=extra.name,
                hint=f"install it: apt-get install -y --no-install-recommends {package}",
            )


def _wait_running(
    client: SupervisorClient, config: LabConfig, groups: list[str], name: str
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        infos = [info for info in client.processes() if info["group"] in groups]
        failed = [i for i in infos if i["statename"] in {"FATAL", "EXITED", "BACKOFF"}]
        if failed:
            log = config.logs / f"{failed[0]['name']}.log"
            raise LabError(
                f"{failed[0]['name']} did not start ({failed[0]['statename']}): {_tail(log)}",
                part=name,
                hint=f"its log: {log}",
            )
        if infos and all(info["statename"] == "RUNNING" for info in infos):
            return
        if time.monotonic() > deadline:
            raise LabError(f"{name} still starting after {START_TIMEOUT_S:.0f}s", part=name)
        time.sleep(POLL_S)


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return " | ".join(lines[-3:]) or "empty log"


def _wait_scraped(config: LabConfig, jobs: list[str], name: str) -> None:
    if not jobs:
        return
    prometheus = Prometheus(config.prometheus_url, timeout=2)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        targets = [t for t in prometheus.targets() if t["job"] in jobs]
        seen = {t["job"] for t in targets}
        if seen == set(jobs) and all(t["health"] == "up" for t in targets):
            return
        if time.monotonic() > deadline:
            down = [
                f"{t['job']} {t['instance']} ({t['last_error'] or t['health']})" for t in targets
            ]
            raise LabError(
                f"{name} runs but Prometheus does not scrape it after {START_TIMEOUT_S:.0f}s: "
                + ("; ".join(down) or "no target yet"),
                part=name,
                hint=f"see the logs in {config.logs}",
            )
        time.sleep(POLL_S)


def release_all(config: LabConfig, *, progress: Progress = _quiet) -> list[str]:
    """At `lab down` (also after a crash): each part's release step; the errors, if any."""
    problems: list[str] = []
    for extra in EXTRAS.values():
        try:
            extra.release(config)
        except Exception as exc:  # one part's failure must not keep the others set up
            problems.append(f"{extra.name}: {exc}")
            progress(f"could not release {extra.name}: {exc}")
    return problems


def expected_to_run(config: LabConfig, group: str) -> bool:
    """Whether a supervisor group should be running: every part of the lab, and an opt-in
    part's groups once that part was started."""
    optional = optional_groups(config)
    return group not in optional or optional[group] in started_extras(config)
