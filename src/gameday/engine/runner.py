"""Runs one experiment through chaoslib with gameday's guarantees around it.

Before: the experiment is validated (exit 2, nothing injected), the target
answers (exit 3), faults left by a crashed run are reverted. During: load,
timeline, alert watcher, progress. After, on every ending (Ctrl-C and SIGTERM
included): chaoslib's rollbacks ("always"), the load stopped, every fault still
in the ledger reverted, and result.json written with whatever was measured.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaoslib.configuration import load_configuration
from chaoslib.exceptions import ChaosException
from chaoslib.experiment import run_experiment
from chaoslib.secret import load_secrets

from gameday.context import RunContext
from gameday.engine.events import TimelineEvents
from gameday.engine.interrupts import InterruptGuard
from gameday.engine.journal import journal_expectations
from gameday.engine.preflight import (
    RouteCheck,
    check_against_target,
    check_fault_kinds,
    check_routes,
)
from gameday.engine.progress import progress_for
from gameday.engine.recovery import mark_run, recover_leftovers, running_runs
from gameday.engine.reporting import write_report
from gameday.engine.stop_conditions import StopConditionWatch, Trip
from gameday.errors import EnvironmentProblem, GamedayError, InvalidInputError
from gameday.experiment import Experiment, check_experiment, read_experiment
from gameday.experiment.baseline import with_quiet_baseline
from gameday.experiment.manual import for_manual_remediation
from gameday.lab.team_rules import alert_for_seconds
from gameday.model import RESULT_SCHEMA, ExperimentRef, RunResult, TimelineEvent
from gameday.observe.series import fetch_series
from gameday.observe.watcher import AlertWatcher
from gameday.record.files import EVENT_LOG_NAME, EXPECTATION_LOG_NAME, JsonLines, write_json
from gameday.record.ledger import FaultLedger
from gameday.record.redaction import Redactor, secret_values
from gameday.record.timeline import EventListener, Timeline
from gameday.report.result_file import JOURNAL_NAME, write_result
from gameday.targets import LAB_DIR_KEY, Target, TargetSpec, resolve_target
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
    :param target: the system under test, from a target file or a plan (None: the lab, or
        what the experiment's configuration names)
    """

    report_dir: Path | None = None
    manual: bool = False
    manual_timeout_s: float = 600.0
    lab_dir: Path | None = None
    progress: bool = True
    label: str = ""
    write_report: bool = True
    target: TargetSpec | None = None


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
    document = with_quiet_baseline(experiment, document)
    configuration = document.setdefault("configuration", {})
    if options.lab_dir is not None:
        configuration[LAB_DIR_KEY] = str(options.lab_dir.resolve())
    return document


@dataclass(frozen=True)
class Checked:
    """An experiment checked for a run against its target: the document chaoslib runs,
    its loaded configuration and secrets, the target (None: the lab or the experiment's
    configuration, resolved when the run starts) and the routes the pre-flight checked."""

    document: dict[str, Any]
    configuration: dict[str, Any]
    secrets: dict[str, Any]
    target: Target | None
    routes: list[RouteCheck]


def check_run(experiment: Experiment, options: RunOptions) -> Checked:
    """Everything that can refuse the experiment before anything runs (exit 2): its own
    checks, its configuration and secrets, and, on a target that is not the lab, the
    target file's credentials, the blast radius and the pre-flight routing check."""
    document = prepare(experiment, options)
    try:
        configuration = load_configuration(document.get("configuration") or {})
        secrets = load_secrets(document.get("secrets") or {}, configuration) or {}
    except ChaosException as exc:
        raise InvalidInputError(
            f"configuration or secrets: {exc}", source=str(experiment.path), where="secrets"
        ) from None
    if options.target is None or options.target.kind == "lab":
        check_fault_kinds(experiment, "lab", "lab", configuration, secrets)
        return Checked(document, configuration, secrets, None, [])
    target = options.target.resolve(secrets)
    check_against_target(experiment, target, configuration, secrets)
    return Checked(document, configuration, secrets, target, check_routes(experiment, target))


def _target(checked: Checked, options: RunOptions) -> Target:
    """The run's target, answering (EnvironmentProblem, exit 3, when it does not)."""
    target = checked.target
    if target is None and options.target is not None:  # kind: lab in a target file
        target = options.target.resolve(checked.secrets)
    if target is None:
        try:
            target = resolve_target(checked.configuration)
        except ChaosException as exc:
            raise EnvironmentProblem(str(exc), hint="start the lab: `gameday lab up`") from None
    problem = target.prometheus(timeout=3).answers()
    if problem is not None:
        raise EnvironmentProblem(
            f"prometheus at {target.prometheus_url} does not answer: {problem}",
            hint="start the lab (`gameday lab up`)"
            if target.is_lab
            else f"check prometheus: in {target.source or 'the configuration'}",
        )
    manager = target.alertmanager()
    if manager is not None and not target.is_lab and not manager.ready():
        raise EnvironmentProblem(
            f"alertmanager at {manager.url} does not answer",
            hint=f"check alertmanager: in {target.source}",
        )
    return target


def _revert_leftovers(ledger: FaultLedger | None, timeline: Timeline, why: str) -> None:
    if ledger is None:
        return
    for entry, error in ledger.revert_all():
        if error:
            timeline.record("error", f"could not revert {entry['fault']}: {error}")
        else:
            timeline.record("fault_reverted", f"{entry['fault']} ({why})")


def _before_the_run(target: Target, ledger: FaultLedger | None, timeline: Timeline) -> None:
    """Refuse a lab another live run uses; put right what a crashed run left (its
    faults, its load) and tell the user to finalise its report. On a containers target,
    revert what a run killed before it could left in the target's ledger."""
    if ledger is None:
        return
    if target.lab is None:
        _revert_leftovers(ledger, timeline, "left by an earlier run")
        return
    busy = running_runs(target.lab)
    if busy:
        raise EnvironmentProblem(
            f"another gameday run (pid {busy[0]['pid']}, {busy[0]['title']!r}) is using "
            f"the lab in {target.lab.directory}",
            hint="wait for it to finish, or stop it (Ctrl-C reverts its faults)",
        )
    left = recover_leftovers(target.lab, ledger)
    for fault in left.reverted:
        timeline.record("fault_reverted", f"{fault} (left by an earlier run)")
    for problem in left.revert_errors:
        timeline.record("error", f"could not revert {problem}")
    if left.load_stopped:
        logger.warning("stopped load an earlier run left running (pid %s)", left.load_stopped)
    for crashed in left.crashed:
        logger.warning(
            "a run that crashed (pid %s) left %s unfinished: its faults are reverted; run "
            "`gameday recover` to finalise its report",
            crashed["pid"],
            crashed["report_dir"],
        )


def _at_each_fault(watcher: AlertWatcher, context: RunContext) -> EventListener:
    """List every alert already active when a fault begins (it cannot be credited to it);
    without a notification sink, keep Alertmanager's notification counters of that moment
    (delivery is judged from them)."""
    manager = context.target.alertmanager() if context.target.sink_url is None else None

    def listen(event: TimelineEvent) -> None:
        if event["kind"] == "fault_applied":
            began = context.fault_started()
            if began is not None:
                watcher.note_fault(began)
            if manager is not None:
                try:
                    context.delivery_baseline = manager.counters()
                except GamedayError as exc:
                    logger.warning("no notification counters at the fault: %s", exc.message)

    return listen


def _on_trip(
    timeline: Timeline, ledger: FaultLedger | None, guard: InterruptGuard
) -> Callable[[Trip], None]:
    def tripped(trip: Trip) -> None:
        data: dict[str, object] = {"condition": trip.condition.describe(), "seen": trip.seen}
        if trip.value is not None:
            data["value"] = trip.value
        timeline.record("stop_condition_tripped", f"{trip.condition.name}: {trip.seen}", **data)
        _revert_leftovers(ledger, timeline, f"stop condition {trip.condition.name!r}")
        guard.abort()

    return tripped


def run_experiment_file(path: Path, options: RunOptions) -> RunOutcome:
    """Read, check and run the experiment at `path`."""
    return run_checked(read_experiment(path), options)


def run_checked(experiment: Experiment, options: RunOptions) -> RunOutcome:
    """Run an experiment (a plan's overrides already applied), with every guarantee."""
    checked = check_run(experiment, options)
    document = checked.document
    target = _target(checked, options)
    redactor = Redactor(
        secret_values(checked.configuration, checked.secrets) | set(target.secret_values())
    )
    runbook = experiment.runbook_path()
    report_dir = options.report_dir or default_report_dir(experiment.title)
    report_dir.mkdir(parents=True, exist_ok=True)
    timeline = Timeline()
    # Each event and verdict is on disk as it happens: a crash of gameday itself loses
    # nothing measured (`gameday recover` builds the result from these logs).
    timeline.event_listeners.append(JsonLines(report_dir / EVENT_LOG_NAME, redactor).append)
    timeline.expectation_listeners.append(
        JsonLines(report_dir / EXPECTATION_LOG_NAME, redactor).append
    )
    printer = progress_for(label=options.label) if options.progress else None
    if printer is not None:
        # What reaches the terminal is scrubbed like what reaches the files.
        shown = printer

        def show(event: TimelineEvent) -> None:
            shown.event(redactor.scrub_document(event))

        timeline.event_listeners.append(show)
        timeline.wait_listeners.append(printer.waiting)
    ledger = target.own_ledger()
    context = RunContext(
        timeline=timeline, target=target, ledger=ledger, experiment_dir=experiment.path.parent
    )
    _before_the_run(target, ledger, timeline)
    marker = (
        mark_run(target.lab, report_dir=report_dir, title=experiment.title, path=experiment.path)
        if target.lab is not None
        else None
    )
    timeline.record("run_started", experiment.title, path=str(experiment.path))
    watcher = AlertWatcher(
        timeline=timeline, prometheus=target.prometheus(timeout=2), sink_url=target.sink_url
    )
    timeline.event_listeners.append(_at_each_fault(watcher, context))
    journal: dict[str, Any] = {"status": "interrupted", "run": [], "experiment": document}
    watcher.start()
    guard = InterruptGuard(timeline)
    stop_watch = StopConditionWatch(
        conditions=experiment.stop_conditions,
        prometheus=target.prometheus(timeout=2),
        on_trip=_on_trip(timeline, ledger, guard),
    )
    try:
        with context.activated(), guard.active():
            handler = TimelineEvents(
                timeline,
                remediation=set(experiment.remediation_names()),
                faults={a.name: a.touches for a in experiment.plain_faults()},
                on_started=guard.install,
                on_method=stop_watch.start,
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
                stop_watch.stop()
    finally:
        watcher.stop()
        if printer is not None:
            timeline.event_listeners.remove(show)
            timeline.wait_listeners.clear()
            printer.close()
    aborted = stop_watch.tripped is not None
    recorded_errors = [e["detail"] for e in timeline.events if e["kind"] == "error"]
    # chaoslib says "interrupted" for a person's Ctrl-C and for a control that stopped the
    # run on an error it recorded (the load did not start): the latter is an error (exit 3).
    interrupted = guard.interrupted or (
        journal.get("status") == "interrupted" and not aborted and not recorded_errors
    )
    timeline.record("run_finished", "aborted" if aborted else str(journal.get("status")))
    write_json(report_dir / JOURNAL_NAME, redactor.scrub_document(journal))
    judged = {str(e.get("activity")) for e in timeline.expectations if e.get("activity")}
    extra, errors = journal_expectations(journal, judged)
    if not aborted:
        errors += recorded_errors
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
        status=verdicts.run_status(
            expectations, interrupted=interrupted, errors=errors, aborted=aborted
        ),
        chaostoolkit_status=str(journal.get("status")),
        manual=options.manual,
        timeline=timeline.events,
        expectations=expectations,
        measurements=verdicts.measurements(
            expectations,
            time_scale=target.time_scale,
            for_s=alert_for_seconds(target.lab) if target.lab is not None else None,
        ),
        load=context.load_summary,
        series=fetch_series(
            target.prometheus(), timeline.started, datetime.now(UTC), target.slo_queries or None
        ),
        journal=JOURNAL_NAME,
    )
    result = redactor.scrub_document(result)
    write_result(report_dir, result)
    if marker is not None:
        marker.unlink(missing_ok=True)  # finished: nothing for `gameday recover` to do
    if options.write_report:
        write_report(report_dir, runbook)
    return RunOutcome(result=result, report_dir=report_dir)
