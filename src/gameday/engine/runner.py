"""Runs one experiment through chaoslib with gameday's guarantees around it.

Before: the experiment is validated (exit 2, nothing injected), the target
answers (exit 3), faults left by a crashed run are reverted. During: load,
timeline, alert watcher, progress. After, on every ending (Ctrl-C and SIGTERM
included): chaoslib's rollbacks ("always"), the load stopped, every fault still
in the ledger reverted, and result.json written with whatever was measured.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from chaoslib.configuration import load_configuration
from chaoslib.exceptions import ChaosException
from chaoslib.experiment import run_experiment
from chaoslib.secret import load_secrets

from gameday.context import RunContext
from gameday.engine.events import TimelineEvents
from gameday.engine.progress import progress_for
from gameday.engine.reporting import find_runbook, write_report
from gameday.errors import EnvironmentProblem, InvalidInputError
from gameday.experiment import Experiment, check_experiment, read_experiment
from gameday.experiment.manual import for_manual_remediation
from gameday.model import RESULT_SCHEMA, Expectation, ExperimentRef, RunResult
from gameday.observe.prometheus import Prometheus
from gameday.observe.series import fetch_series
from gameday.observe.watcher import AlertWatcher
from gameday.record.files import EVENT_LOG_NAME, EventLog, write_json
from gameday.record.ledger import FaultLedger
from gameday.record.redaction import Redactor, secret_values
from gameday.record.timeline import Timeline
from gameday.report.result_file import JOURNAL_NAME, write_result
from gameday.targets import LAB_DIR_KEY, Target, fault_ledger, resolve_target
from gameday.verify import verdicts

logger = logging.getLogger("gameday.engine.runner")
SETTINGS: dict[str, Any] = {"runtime": {"rollbacks": {"strategy": "always"}}}


@dataclass(kw_only=True)
class RunOptions:
    """How to run an experiment.

    :param report_dir: where result.json and the journal go (default reports/<time>-<name>)
    :param manual: people remediate; gameday waits and measures
    :param manual_timeout_s: how long to wait for people
    :param lab_dir: the lab to run against (default: the experiment's configuration)
    :param progress: print progress lines to stderr
    :param label: what progress lines call this run (a plan's "[2/6 redis-down]")
    :param write_report: render index.html, summary.md and junit.xml next to result.json
    """

    report_dir: Path | None = None
    manual: bool = False
    manual_timeout_s: float = 600.0
    lab_dir: Path | None = None
    progress: bool = True
    label: str = ""
    write_report: bool = True


@dataclass(frozen=True)
class RunOutcome:
    result: RunResult
    report_dir: Path


def default_report_dir(title: str, root: Path = Path("reports")) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "experiment"
    return root / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{slug}"


def prepare(experiment: Experiment, options: RunOptions) -> dict[str, Any]:
    """Check the experiment for a run and adapt it (manual remediation, lab); returns the
    document chaoslib runs. Raises InvalidInputError (exit 2) before anything runs."""
    check_experiment(experiment)
    document = (
        for_manual_remediation(experiment, options.manual_timeout_s)
        if options.manual
        else copy.deepcopy(experiment.document)
    )
    configuration = document.setdefault("configuration", {})
    if options.lab_dir is not None:
        configuration[LAB_DIR_KEY] = str(options.lab_dir.resolve())
    return document


def _redactor(document: dict[str, Any]) -> Redactor:
    try:
        configuration = load_configuration(document.get("configuration") or {})
        secrets = load_secrets(document.get("secrets") or {}, configuration)
    except ChaosException as exc:
        raise InvalidInputError(f"configuration or secrets: {exc}", where="secrets") from None
    return Redactor(secret_values(configuration, secrets or {}))


def _target(document: dict[str, Any]) -> Target:
    try:
        configuration = load_configuration(document.get("configuration") or {})
    except ChaosException as exc:
        raise InvalidInputError(f"configuration: {exc}", where="configuration") from None
    try:
        target = resolve_target(configuration)
    except ChaosException as exc:
        raise EnvironmentProblem(str(exc), hint="start the lab: `gameday lab up`") from None
    if not Prometheus(target.prometheus_url, timeout=3).reachable():
        raise EnvironmentProblem(
            f"prometheus at {target.prometheus_url} does not answer",
            hint="start the lab (`gameday lab up`) or fix prometheus_url",
        )
    return target


class InterruptGuard:
    """Ctrl-C and SIGTERM both interrupt the run the same way (KeyboardInterrupt, which
    chaoslib answers with the rollbacks); once rollbacks start, signals wait for them.

    chaoslib installs its own SIGTERM handler while it runs (one that its activity
    wrapper swallows as a failed activity), so `install()` is called again from
    inside the run.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, timeline: Timeline) -> None:
        self.interrupted = False
        self.rolling_back = False
        self._timeline = timeline

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.rolling_back:
            logger.warning("rolling back: ignoring signal %s until faults are undone", signum)
            return
        self.interrupted = True
        self._timeline.interrupt_requested = True
        raise KeyboardInterrupt

    def start_rollbacks(self) -> None:
        self.rolling_back = True
        self._timeline.interrupt_requested = False

    def install(self) -> None:
        for sig in self.SIGNALS:
            signal.signal(sig, self._handle)

    @contextlib.contextmanager
    def active(self) -> Iterator[InterruptGuard]:
        previous = {sig: signal.getsignal(sig) for sig in self.SIGNALS}
        self.install()
        try:
            yield self
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)


def _revert_leftovers(ledger: FaultLedger | None, timeline: Timeline, why: str) -> None:
    if ledger is None:
        return
    for entry, error in ledger.revert_all():
        if error:
            timeline.record("error", f"could not revert {entry['fault']}: {error}")
        else:
            timeline.record("fault_reverted", f"{entry['fault']} ({why})")


def _journal_expectations(
    journal: dict[str, Any], judged: set[str]
) -> tuple[list[Expectation], list[str]]:
    """Failed activities that did not judge themselves (`judged`: the activities that
    recorded an expectation): user probes fail the run (exit 1); failed remediation
    fails it; a failed fault is an error (exit 3)."""
    remediation = set()
    for extension in journal.get("experiment", {}).get("extensions") or []:
        if isinstance(extension, dict) and extension.get("name") == "gameday":
            remediation = set(extension.get("remediation") or [])
    expectations: list[Expectation] = []
    errors: list[str] = []
    for when, label in (("before", "before the fault"), ("after", "after the method")):
        hypothesis = (journal.get("steady_states") or {}).get(when) or {}
        for run in hypothesis.get("probes") or []:
            activity = run.get("activity", {})
            if run.get("tolerance_met", True) or activity.get("name") in judged:
                continue
            expectations.append(
                Expectation(
                    name=f"steady state {label}: {activity.get('name')}",
                    kind="steady_state",
                    alert=None,
                    receiver=None,
                    passed=False,
                    measured_s=None,
                    budget_s=None,
                    message=f"{activity.get('name')} was not within its tolerance ({label})",
                    activity=str(activity.get("name")),
                )
            )
    for run in journal.get("run") or []:
        activity = run.get("activity", {})
        if run.get("status") != "failed" or activity.get("name") in judged:
            continue
        reason = "".join(run.get("exception") or []).strip().splitlines()[-1:] or ["failed"]
        name = str(activity.get("name"))
        if activity.get("name") in remediation or activity.get("type") == "probe":
            expectations.append(
                Expectation(
                    name=f"{name} succeeds",
                    kind="remediation" if activity.get("name") in remediation else "probe",
                    alert=None,
                    receiver=None,
                    passed=False,
                    measured_s=None,
                    budget_s=None,
                    message=f"{name} failed: {reason[0]}",
                    activity=name,
                )
            )
        else:
            errors.append(f"action {name!r} failed: {reason[0]}")
    return expectations, errors


def run_experiment_file(path: Path, options: RunOptions) -> RunOutcome:
    """Read, check and run the experiment at `path`."""
    return run_checked(read_experiment(path), options)


def run_checked(experiment: Experiment, options: RunOptions) -> RunOutcome:
    """Run an experiment (a plan's overrides already applied), with every guarantee."""
    document = prepare(experiment, options)
    redactor = _redactor(document)
    target = _target(document)
    runbook = find_runbook(
        experiment.gameday_extension().get("runbook"),
        experiment.path.parent,
        experiment.path.parent.parent,
        Path.cwd(),
    )
    report_dir = options.report_dir or default_report_dir(experiment.title)
    report_dir.mkdir(parents=True, exist_ok=True)
    timeline = Timeline()
    # Each event is on disk as it happens: a crash of gameday itself loses nothing measured.
    timeline.event_listeners.append(EventLog(report_dir / EVENT_LOG_NAME, redactor).append)
    printer = progress_for(label=options.label) if options.progress else None
    if printer is not None:
        timeline.event_listeners.append(printer.event)
        timeline.wait_listeners.append(printer.waiting)
    ledger = fault_ledger(target.lab) if target.lab is not None else None
    context = RunContext(
        timeline=timeline, target=target, ledger=ledger, experiment_dir=experiment.path.parent
    )
    _revert_leftovers(ledger, timeline, "left by an earlier run")
    timeline.record("run_started", experiment.title, path=str(experiment.path))
    watcher = AlertWatcher(
        timeline=timeline, prometheus_url=target.prometheus_url, sink_url=target.sink_url
    )
    journal: dict[str, Any] = {"status": "interrupted", "run": [], "experiment": document}
    interrupted = False
    watcher.start()
    try:
        with context.activated(), InterruptGuard(timeline).active() as guard:
            handler = TimelineEvents(
                timeline,
                remediation=set(experiment.remediation_names()),
                on_started=guard.install,
                on_rollbacks=guard.start_rollbacks,
            )
            try:
                journal = run_experiment(document, settings=SETTINGS, event_handlers=[handler])
            except KeyboardInterrupt:
                timeline.record("interrupted", "interrupted outside the experiment's method")
            except Exception as exc:  # a bug must still leave a result with what was measured
                logger.exception("the experiment's run failed")
                timeline.record("error", f"the run failed: {type(exc).__name__}: {exc}")
            finally:
                guard.start_rollbacks()
                context.stop_load()
                _revert_leftovers(ledger, timeline, "reverted by gameday after the run")
            interrupted = guard.interrupted or journal.get("status") == "interrupted"
    finally:
        watcher.stop()
        if printer is not None:
            timeline.event_listeners.clear()
            timeline.wait_listeners.clear()
            printer.close()
    timeline.record("run_finished", str(journal.get("status")))
    write_json(report_dir / JOURNAL_NAME, redactor.scrub_document(journal))
    judged = {str(e.get("activity")) for e in timeline.expectations if e.get("activity")}
    extra, errors = _journal_expectations(journal, judged)
    errors += [e["detail"] for e in timeline.events if e["kind"] == "error"]
    expectations = timeline.expectations + extra
    result = RunResult(
        schema=RESULT_SCHEMA,
        experiment=ExperimentRef(
            title=experiment.title,
            path=str(experiment.path),
            runbook=str(runbook) if runbook else None,
        ),
        started_at=timeline.started.isoformat(),
        ended_at=datetime.now(UTC).isoformat(),
        status=verdicts.run_status(expectations, interrupted=interrupted, errors=errors),
        chaostoolkit_status=str(journal.get("status")),
        manual=options.manual,
        timeline=timeline.events,
        expectations=expectations,
        measurements=verdicts.measurements(expectations),
        load=context.load_summary,
        series=fetch_series(target.prometheus_url, timeline.started, datetime.now(UTC)),
        journal=JOURNAL_NAME,
    )
    result = redactor.scrub_document(result)
    write_result(report_dir, result)
    if options.write_report:
        write_report(report_dir, runbook)
    return RunOutcome(result=result, report_dir=report_dir)
