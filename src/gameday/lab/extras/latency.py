"""The opt-in part `latency`: a proxy in front of Redis and etcd that adds network latency.

Its one process, `latency-proxy` (:mod:`gameday.lab.latency_proxy`), listens on
``ports.latency_redis`` and ``ports.latency_etcd`` and forwards to the real
Redis and etcd members; the gateway's quota check
(:mod:`gameday.lab.gateway_quota_check`) reads through it. The fault
`gameday.chaos.latency.actions.inject_latency` sets the delay through its
control endpoint; Prometheus scrapes that endpoint's metrics.
"""

from __future__ import annotations

import sys

from gameday.lab.config import HOST, LabConfig
from gameday.lab.extras.base import Extra, ScrapeJob, ScrapeTarget
from gameday.lab.latency_proxy import clear_state, state_file
from gameday.lab.supervisor import Part, Program

GROUP = "latency-proxy"


def _parts(config: LabConfig) -> list[Part]:
    ports = config.ports
    listens = [f"{HOST}:{ports.latency_redis} (redis)"] + [
        f"{HOST}:{port} (etcd-{i})" for i, port in enumerate(ports.latency_etcd)
    ]
    return [
        Part(
            name=GROUP,
            binary=sys.executable,
            install_hint="reinstall gameday",
            programs=(
                Program(
                    name=GROUP,
                    command=[
                        sys.executable,
                        "-m",
                        "gameday.lab.latency_proxy",
                        "--lab-config",
                        str(config.config_file),
                    ],
                    address=", ".join(listens) + f" (control {HOST}:{ports.latency_control})",
                    priority=450,
                    stop_wait_s=5,
                ),
            ),
        )
    ]


def _scrape_jobs(config: LabConfig) -> list[ScrapeJob]:
    return [ScrapeJob(name=GROUP, targets=(ScrapeTarget(port=config.ports.latency_control),))]


def _release(config: LabConfig) -> None:
    # A latency left in force (a crashed run) must not greet the next `lab up`.
    clear_state(state_file(config.run))


EXTRA = Extra(
    name="latency",
    summary="adds latency to Redis and etcd round trips (the gateway quota check reads through it)",
    parts=_parts,
    scrape_jobs=_scrape_jobs,
    release=_release,
)
