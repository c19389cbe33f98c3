"""gameday's pytest plugin: experiments and plans as test items.

`pytest experiments/` collects every Chaos Toolkit experiment YAML under the
paths named on the command line (not under testpaths, so a suite's fixtures are
never run by accident); `pytest --gameday-plan experiments/lab-gameday.yaml`
collects a plan's experiments. Each experiment runs once, against the lab in
`--gameday-lab-dir` (or $GAMEDAY_LAB_DIR, or ./.lab), and reports one item per
expectation-bearing activity plus one for the run as a whole; pytest's own
`--junitxml` then carries every expectation.

In a test of your own, the `gameday_run` fixture runs an experiment against a
target (e.g. `containers_target(...)` built from the containers the test started
with testcontainers) and fails the test when the run does not pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gameday.documents import read_yaml
from gameday.engine.plan_runner import plan_target
from gameday.engine.runner import RunOptions, RunOutcome, run_checked
from gameday.errors import GamedayError
from gameday.experiment import Experiment, load_plan, read_experiment
from gameday.model import Expectation
from gameday.targets import TargetSpec, target_spec

YAML_SUFFIXES = (".yaml", ".yml")
RUNS_KEY = pytest.StashKey[dict[str, "RunOutcome | GamedayError"]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gameday", "gameday resilience experiments")
    group.addoption(
        "--gameday-plan",
        action="append",
        default=[],
        metavar="PLAN",
        help="collect this game-day plan's experiments as test items (repeatable)",
    )
    group.addoption(
        "--gameday-lab-dir",
        default=None,
        metavar="DIR",
        help="the lab to run experiments against [default: $GAMEDAY_LAB_DIR or ./.lab]",
    )
    group.addoption(
        "--gameday-target",
        default=None,
        metavar="FILE",
        help="a target file naming the system under test [default: a plan's target, "
        "else the lab]; running the tests is the consent to inject its faults",
    )
    group.addoption(
        "--gameday-report-dir",
        default=None,
        metavar="DIR",
        help="where each experiment's result.json goes [default: reports/pytest-<time>]",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RUNS_KEY] = {}


def _is_experiment(path: Path) -> bool:
    try:
        document = read_yaml(path)
    except GamedayError:
        return False
    return isinstance(document, dict) and "method" in document


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    config = parent.config
    if file_path.suffix not in YAML_SUFFIXES:
        return None
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return None  # only paths the user named: never a suite's fixture files
    if not _is_experiment(file_path):
        return None
    collector: ExperimentFile = ExperimentFile.from_parent(parent, path=file_path)
    return collector


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    for plan_path in config.getoption("gameday_plan"):
        plan = load_plan(Path(plan_path))
        for entry in plan.entries:
            collector = ExperimentFile.from_parent(
                session, path=entry.path, experiment=entry.experiment, target=plan_target(plan)
            )
            items.extend(collector.collect())


class ExperimentFile(pytest.File):
    """An experiment file, or one experiment of a plan (its overrides applied)."""

    def __init__(
        self,
        *args: Any,
        experiment: Experiment | None = None,
        target: TargetSpec | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._experiment = experiment
        self.target = target

    @property
    def experiment(self) -> Experiment:
        if self._experiment is None:
            self._experiment = read_experiment(self.path)
        return self._experiment

    def collect(self) -> Iterator[pytest.Item]:
        experiment = self.experiment
        for activity in [*experiment.steady_state, *experiment.method]:
            if activity.records_expectations:
                yield ExpectationItem.from_parent(self, name=activity.name)
        yield ExperimentRunItem.from_parent(self, name="run")

    def outcome(self) -> RunOutcome:
        runs = self.config.stash[RUNS_KEY]
        key = f"{self.path}:{sorted(self.experiment.overrides.items())}"
        if key not in runs:
            runs[key] = self._run()
        found = runs[key]
        if isinstance(found, GamedayError):
            raise found
        return found

    def _run(self) -> RunOutcome | GamedayError:
        lab_dir = self.config.getoption("gameday_lab_dir")
        target_file = self.config.getoption("gameday_target")
        root = self.config.getoption("gameday_report_dir") or (
            Path("reports") / f"pytest-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
        )
        options = RunOptions(
            report_dir=Path(root) / self.path.stem,
            lab_dir=Path(lab_dir) if lab_dir else None,
            progress=False,
            target=target_spec(Path(target_file)) if target_file else self.target,
        )
        try:
            return run_checked(self.experiment, options)
        except GamedayError as exc:
            return exc


class ExpectationFailure(Exception):
    """An expectation that was not met: reported without a Python traceback."""


class ExpectationItem(pytest.Item):
    """The expectations one activity checked (a hypothesis probe checks before and after)."""

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, ExperimentFile)
        outcome = parent.outcome()
        mine: list[Expectation] = [
            e for e in outcome.result["expectations"] if e.get("activity") == self.name
        ]
        for expectation in mine:
            self.user_properties.append((expectation["name"], expectation["message"]))
        if not mine:
            pytest.skip(f"not reached (run {outcome.result['status']})")
        failed = [e for e in mine if not e["passed"]]
        if failed:
            raise ExpectationFailure("\n".join(f"{e['name']}: {e['message']}" for e in failed))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ExpectationFailure | GamedayError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"expectation: {self.name}"


class ExperimentRunItem(ExpectationItem):
    """The run as a whole: steady state, failed actions, errors, interrupts."""

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, ExperimentFile)
        outcome = parent.outcome()
        result = outcome.result
        self.user_properties.append(("report", str(outcome.report_dir)))
        if result["status"] in ("error", "interrupted", "crashed", "aborted"):
            raise ExpectationFailure(f"run {result['status']}: see {outcome.report_dir}")
        failed = [e for e in result["expectations"] if not e["passed"]]
        if failed:
            lines = [f"{e['name']}: {e['message']}" for e in failed]
            raise ExpectationFailure("experiment failed:\n" + "\n".join(lines))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, "experiment run"


def _url(endpoint: Any, port: int) -> str:
    """A URL as given, or the mapped address of a testcontainers container's `port`."""
    if isinstance(endpoint, str):
        return endpoint
    return f"http://{endpoint.get_container_host_ip()}:{endpoint.get_exposed_port(port)}"


def _container_name(container: Any) -> str:
    if isinstance(container, str):
        return container
    return str(container.get_wrapped_container().name)


def containers_target(
    *,
    containers: list[Any],
    prometheus: Any,
    alertmanager: Any = None,
    allow: list[str] | None = None,
    slo: dict[str, str] | None = None,
    load_host: Any = None,
    name: str = "containers",
    docker_host: str | None = None,
) -> dict[str, Any]:
    """A containers target (the mapping a target file holds) from the containers a test
    started with testcontainers: their names, and Prometheus' (9090) and Alertmanager's
    (9093) mapped ports resolved for you. Each endpoint may also be a URL.
    `allow` defaults to every container named (faults may touch the system itself)."""
    names = [_container_name(c) for c in containers]
    document: dict[str, Any] = {
        "kind": "containers",
        "name": name,
        "containers": names,
        "prometheus": {"url": _url(prometheus, 9090)},
        "allow": list(allow) if allow is not None else [f"container:{n}" for n in names],
    }
    if alertmanager is not None:
        document["alertmanager"] = {"url": _url(alertmanager, 9093)}
    if slo:
        document["slo"] = dict(slo)
    if load_host is not None:
        document["load"] = {"host": load_host}
    if docker_host:
        document["docker"] = {"host": docker_host}
    return document


@pytest.fixture
def gameday_run(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Run an experiment against a target inside a test and turn its verdict into the
    test's result::

        def test_gate(gameday_run):
            target = containers_target(containers=[redis, app], prometheus=prom, ...)
            gameday_run("experiments/cache-down.yaml", target=target)

    The run's report directory and each expectation become JUnit properties; the path
    of the report is printed; a run that does not pass fails the test with the
    expectations that were not met. Returns the RunOutcome."""

    def run(
        experiment: str | Path,
        *,
        target: dict[str, Any] | TargetSpec | None = None,
        report_dir: Path | None = None,
    ) -> RunOutcome:
        path = Path(experiment)
        spec = (
            TargetSpec(
                document=target,
                source=f"{request.node.nodeid} (target)",
                base=path.parent,
                default_name=str(target.get("name", "containers")),
            )
            if isinstance(target, dict)
            else target
        )
        options = RunOptions(
            report_dir=report_dir or tmp_path / f"gameday-{path.stem}",
            progress=False,
            target=spec,
        )
        try:
            outcome = run_checked(read_experiment(path), options)
        except GamedayError as exc:  # refused before anything ran (exit 2), or no system
            pytest.fail(f"gameday: {exc.format()}", pytrace=False)
        result = outcome.result
        request.node.user_properties.append(("gameday_status", result["status"]))
        request.node.user_properties.append(("gameday_report", str(outcome.report_dir)))
        for expectation in result["expectations"]:
            verdict = "passed" if expectation["passed"] else "FAILED"
            request.node.user_properties.append(
                (f"gameday: {expectation['name']}", f"{verdict}: {expectation['message']}")
            )
        print(f"gameday report: {outcome.report_dir / 'index.html'} ({result['status']})")
        if result["status"] != "passed":
            failed = [
                f"{e['name']}: {e['message']}" for e in result["expectations"] if not e["passed"]
            ]
            detail = "\n".join(failed) or f"run {result['status']}"
            pytest.fail(
                f"gameday: {result['experiment']['title']} {result['status'].upper()}\n{detail}\n"
                f"report: {outcome.report_dir / 'index.html'}",
                pytrace=False,
            )
        return outcome

    return run
