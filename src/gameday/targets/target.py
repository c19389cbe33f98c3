"""Where a run and the extension's activities find the system under test.

An experiment's `configuration` may set `gameday_lab_dir` (the lab's directory;
default: $GAMEDAY_LAB_DIR, else ./.lab) and, for a system other than the lab,
`prometheus_url` and `notification_sink_url`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaoslib.exceptions import ActivityFailed

from gameday.errors import GamedayError
from gameday.lab.config import LabConfig, load_running_config, resolve_lab_dir
from gameday.lab.supervisor import SupervisorClient
from gameday.record.ledger import FaultLedger

LAB_DIR_KEY = "gameday_lab_dir"


@dataclass(frozen=True)
class Target:
    """The URLs (and, for the lab, the supervisor and fault ledger) an activity uses."""

    prometheus_url: str
    sink_url: str
    lab: LabConfig | None

    def supervisor(self) -> SupervisorClient:
        if self.lab is None:
            raise ActivityFailed("this activity needs the gameday lab; none is configured")
        return SupervisorClient(self.lab.supervisor_url)

    def ledger(self) -> FaultLedger:
        if self.lab is None:
            raise ActivityFailed("this activity needs the gameday lab; none is configured")
        return fault_ledger(self.lab)


def fault_ledger(lab: LabConfig) -> FaultLedger:
    return FaultLedger(lab.run / "faults.json")


def lab_dir_of(configuration: Mapping[str, Any] | None) -> Path:
    return resolve_lab_dir((configuration or {}).get(LAB_DIR_KEY))


def resolve_target(configuration: Mapping[str, Any] | None) -> Target:
    config = dict(configuration or {})
    lab: LabConfig | None = None
    if not (config.get("prometheus_url") and config.get("notification_sink_url")):
        try:
            lab = load_running_config(lab_dir_of(config))
        except GamedayError as exc:
            raise ActivityFailed(exc.message + (f" ({exc.hint})" if exc.hint else "")) from exc
    return Target(
        prometheus_url=str(config.get("prometheus_url") or (lab and lab.prometheus_url)),
        sink_url=str(config.get("notification_sink_url") or (lab and lab.sink_url)),
        lab=lab,
    )
