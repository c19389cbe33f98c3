"""chaoslib's run events turned into timeline events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chaoslib.run import RunEventHandler
from chaoslib.types import Activity, Experiment, Journal, Run

from gameday.record.timeline import Timeline


class TimelineEvents(RunEventHandler):  # type: ignore[misc]
    """Records the experiment's phases and activities; marks remediation activities, and
    records when plain Chaos Toolkit faults (`faults`: name → what it touches) were
    applied (their action succeeded in the method) and reverted (a rollback action
    succeeded), as gameday's own faults record themselves."""

    def __init__(
        self,
        timeline: Timeline,
        *,
        remediation: set[str],
        faults: dict[str, str] | None = None,
        on_started: Callable[[], None] | None = None,
        on_method: Callable[[], None] | None = None,
        on_rollbacks: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self._timeline = timeline
        self._remediation = remediation
        self._faults = faults or {}
        self._rolling_back = False
        self._applied: list[str] = []
        self._started_at: dict[str, str] = {}
        self._on_started = on_started
        self._on_method = on_method
        self._on_rollbacks = on_rollbacks

    def running(self, *args: Any, **kwargs: Any) -> None:
        # Called inside chaoslib's run, after it installed its own signal handlers.
        if self._on_started is not None:
            self._on_started()

    def start_hypothesis_before(self, experiment: Experiment) -> None:
        self._timeline.record("steady_state_started", "steady state before the fault")

    def hypothesis_before_completed(
        self, experiment: Experiment, state: dict[str, Any], journal: Journal
    ) -> None:
        self._steady_state(state, "before the fault")

    def start_hypothesis_after(self, experiment: Experiment) -> None:
        self._timeline.record("steady_state_started", "steady state after the method")

    def hypothesis_after_completed(
        self, experiment: Experiment, state: dict[str, Any], journal: Journal
    ) -> None:
        self._steady_state(state, "after the method")

    def _steady_state(self, state: dict[str, Any] | None, when: str) -> None:
        met = bool(state and state.get("steady_state_met"))
        self._timeline.record(
            "steady_state_met" if met else "steady_state_failed", f"steady state {when}"
        )

    def start_method(self, experiment: Experiment) -> None:
        self._timeline.record("method_started", "method")
        if self._on_method is not None:
            self._on_method()

    def start_activity(self, activity: Activity) -> None:
        self._timeline.raise_if_interrupted()
        name = str(activity.get("name", ""))
        self._timeline.start_activity(name)
        self._timeline.record("activity_started", name, type=activity.get("type"))
        self._started_at[name] = self._timeline.events[-1]["at"]
        if name in self._remediation:
            self._timeline.record("remediation_started", name)

    def activity_completed(self, activity: Activity, run: Run) -> None:
        name = str(activity.get("name", ""))
        status = str(run.get("status", ""))
        data: dict[str, object] = {"status": status, "type": activity.get("type")}
        if run.get("exception"):
            data["error"] = "".join(run["exception"][-1:]).strip()
        self._timeline.record("activity_completed", f"{name}: {status}", **data)
        if name in self._remediation:
            self._timeline.record("remediation_completed", f"{name}: {status}")
        if status != "succeeded" or activity.get("type") != "action":
            return
        if not self._rolling_back and name in self._faults:
            self._applied.append(name)
            self._timeline.record(
                "fault_applied",
                f"{name} ({self._faults[name]})",
                fault=name,
                touches=self._faults[name],
                activity_started_at=self._started_at.get(name),
            )
        elif self._rolling_back and self._applied:
            self._timeline.record(
                "fault_reverted", f"{', '.join(self._applied)} (rollback {name})", rollback=name
            )

    def start_rollbacks(self, experiment: Experiment) -> None:
        self._rolling_back = True
        self._timeline.record("rollbacks_started", "rollbacks")
        if self._on_rollbacks is not None:
            self._on_rollbacks()

    def rollbacks_completed(self, experiment: Experiment, journal: Journal) -> None:
        self._timeline.record("rollbacks_completed", "rollbacks")

    def interrupted(self, experiment: Experiment, journal: Journal) -> None:
        self._timeline.record("interrupted", "the experiment was interrupted")

    def signal_exit(self) -> None:
        self._timeline.record("interrupted", "interrupted by a signal")
