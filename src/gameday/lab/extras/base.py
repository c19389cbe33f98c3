"""What an opt-in lab part is: its processes, its scrape targets, and its set-up and
release steps. Each part lives in a module of this package; `registry` lists them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gameday.lab.config import HOST, LabConfig
from gameday.lab.supervisor import Part


def _nothing(_: LabConfig) -> None:
    return None


@dataclass(frozen=True)
class ScrapeTarget:
    """One address Prometheus scrapes once the part runs, with the labels it adds."""

    port: int
    labels: dict[str, str] = field(default_factory=dict)
    path: str = "/metrics"

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"


@dataclass(frozen=True)
class ScrapeJob:
    """A Prometheus job of an opt-in part. Its targets are written to a file-discovery
    file when the part starts, so a part not started is no target at all (and no alert
    on its absence). Extra keys (`params`, `honor_labels` …) go into the job as given."""

    name: str
    targets: tuple[ScrapeTarget, ...]
    settings: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Extra:
    """An opt-in lab part: configured in the supervisor at every `lab up` but started only
    on demand (`gameday lab up --with NAME`, or an experiment's `lab-parts` control).

    :param parts: its supervised processes (started as supervisor groups, in order)
    :param scrape_jobs: what Prometheus scrapes once it runs
    :param prepare: run before each start (idempotent): data directories, certificates,
        mounts; raises `LabError` with a hint when the machine lacks something
    :param release: run at `lab down`, also after a crash (idempotent): unmount, remove
    :param binaries: commands it needs, with the Debian package that has each
    """

    name: str
    summary: str
    parts: Callable[[LabConfig], list[Part]]
    scrape_jobs: Callable[[LabConfig], list[ScrapeJob]]
    prepare: Callable[[LabConfig], None] = _nothing
    release: Callable[[LabConfig], None] = _nothing
    binaries: dict[str, str] = field(default_factory=dict)
