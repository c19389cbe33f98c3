"""One run's load: the Locust process, the scrape target that announces its metrics to
Prometheus, and when it started. Held by the run context; stopped once, on every ending."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from gameday.load import targets
from gameday.load.client_monitor import ClientMonitor
from gameday.load.locust_process import LocustProcess
from gameday.model import LoadSummary


@dataclass(kw_only=True)
class LoadSession:
    """:param process: the Locust run (not started yet)
    :param targets_file: the file-discovery file Prometheus reads its scrape target from
        (None: no client-side metrics)
    :param labels: labels of that scrape target
    :param monitor: gameday's own Prometheus for the client-side figures (a system that is
        not the lab does not scrape them); started after Locust, stopped with it
    :param scratch_dir: a temporary directory of this load's (logs, figures, the client
        Prometheus' data): removed once the load stopped with its final figures, kept
        when it did not (its logs say why)
    """

    process: LocustProcess
    targets_file: Path | None = None
    labels: dict[str, str] = field(default_factory=dict)
    monitor: ClientMonitor | None = None
    scratch_dir: Path | None = None
    started_at: datetime | None = field(default=None, init=False)
    stopped: bool = field(default=False, init=False)

    def start(self) -> None:
        """Start Locust; raises EnvironmentProblem when it does not come up."""
        self.process.start()
        self.started_at = datetime.now(UTC)
        if self.monitor is not None:
            try:
                self.monitor.start()
            except BaseException:
                self.process.stop()
                raise
        if self.targets_file is not None:
            targets.announce(self.targets_file, self.process.metrics_port, **self.labels)

    @property
    def running(self) -> bool:
        return not self.stopped and self.process.running

    def stop(self) -> LoadSummary | None:
        """Withdraw the scrape target and stop Locust; its final figures (idempotent)."""
        if self.stopped:
            return None
        self.stopped = True
        if self.targets_file is not None:
            targets.withdraw(self.targets_file)
        summary: LoadSummary | None = None
        try:
            summary = self.process.stop()
            return summary
        finally:
            if self.monitor is not None:
                self.monitor.stop()
            if self.scratch_dir is not None and summary is not None:
                shutil.rmtree(self.scratch_dir, ignore_errors=True)
