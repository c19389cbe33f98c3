"""Distributed load (`workers: N`): Locust as a master and N worker processes.

The command lines, the check of `workers` before anything runs, the master's export of
its workers' figures, starts that fail with the logs named, no process outliving a
killed gameday, and the load control on the real lab with two workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from gameday.chaos.load.control import after_experiment_control, before_experiment_control
from gameday.context import RunContext
from gameday.errors import EnvironmentProblem, InvalidInputError
from gameday.experiment import check_experiment, read_experiment
from gameday.lab import processes
from gameday.lab.config import LabConfig
from gameday.load.client_monitor import free_port
from gameday.load.locust_process import EXPORTER, WATCHDOG, LoadProfile, LocustProcess
from gameday.load.locust_workers import MAX_WORKERS, parse_workers
from gameday.record.timeline import Timeline
from gameday.report.result_file import read_result
from gameday.targets import resolve_target

REPO = Path(__file__).resolve().parents[2]
REDIS_DOWN = REPO / "experiments" / "redis-down.yaml"

VISITOR = """
from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0.05)

    @task
    def index(self):
        self.client.get("/")
"""


# --- command lines ---------------------------------------------------------------------


def _process(tmp_path: Path, **profile: Any) -> LocustProcess:
    return LocustProcess(
        profile=LoadProfile(locustfile=tmp_path / "theirs.py", host="http://h:1", **profile),
        metrics_port=9646,
        workdir=tmp_path,
        master_port=5599,
    )


def _value(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_the_master_holds_users_run_time_and_figures_and_waits_for_its_workers(
    tmp_path: Path,
) -> None:
    command = _process(tmp_path, users=30, spawn_rate=5.0, workers=3, run_time_s=60).command()
    assert command[1:3] == ["-m", "locust"] and "--master" in command
    assert "--worker" not in command and "--headless" in command
    assert _value(command, "--expect-workers") == "3"
    assert _value(command, "--master-bind-host") == "127.0.0.1"
    assert _value(command, "--master-bind-port") == "5599"
    assert _value(command, "--users") == "30" and _value(command, "--spawn-rate") == "5.0"
    assert _value(command, "--run-time") == "60s" and _value(command, "--host") == "http://h:1"
    assert _value(command, "--json-file") == str(tmp_path / "locust-stats")


def test_workers_connect_to_the_master_with_the_same_files_and_nothing_else(
    tmp_path: Path,
) -> None:
    process = _process(tmp_path, workers=2, export_metrics=False)
    assert process.workers is not None
    command = process.workers.command()
    # The master serves its metrics even without export: gameday counts workers there.
    files = f"{tmp_path / 'theirs.py'},{WATCHDOG},{EXPORTER}"
    assert _value(process.command(), "-f") == files and _value(command, "-f") == files
    assert "--worker" in command and "--master" not in command
    assert _value(command, "--master-host") == "127.0.0.1"
    assert _value(command, "--master-port") == "5599"
    for master_only in ("--headless", "--users", "--run-time", "--json-file", "--host"):
        assert master_only not in command
    assert [p.name for p in process.log_paths] == [
        "locust.log",
        "locust-worker-1.log",
        "locust-worker-2.log",
    ]


def test_no_workers_is_the_single_process_of_before(tmp_path: Path) -> None:
    process = _process(tmp_path)
    command = process.command()
    assert process.workers is None and process.pids == {}
    for distributed in ("--master", "--worker", "--expect-workers", "--master-bind-port"):
        assert distributed not in command
    quiet = _process(tmp_path, export_metrics=False).command()
    assert _value(quiet, "-f") == f"{tmp_path / 'theirs.py'},{WATCHDOG}"


# --- workers is checked before anything runs -------------------------------------------


@pytest.mark.parametrize("good", [0, 1, MAX_WORKERS])
def test_workers_within_the_cap_are_taken(good: int) -> None:
    assert parse_workers(good) == good


@pytest.mark.parametrize("bad", [-1, MAX_WORKERS + 1, True, 2.5, "2", None, [2]])
def test_other_workers_are_refused_with_exit_2(bad: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_workers(bad)
    assert caught.value.exit_code == 2
    assert f"workers must be a whole number from 0 to {MAX_WORKERS}, not {bad!r}" in (
        caught.value.message
    )


def test_an_experiment_with_bad_workers_is_refused_at_its_place(tmp_path: Path) -> None:
    document = yaml.safe_load(REDIS_DOWN.read_text())
    document["controls"][0]["provider"]["arguments"]["workers"] = "two"
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(InvalidInputError) as caught:
        check_experiment(read_experiment(path))
    assert caught.value.message == (
        f"{path}:controls[0].provider.arguments.workers: "
        f"workers must be a whole number from 0 to {MAX_WORKERS}, not 'two'"
    )


def test_gameday_validate_refuses_a_plan_asking_too_many_workers(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        yaml.safe_dump(
            {
                "name": "too many workers",
                "load": {"users": 10, "workers": MAX_WORKERS + 1},
                "experiments": [str(REDIS_DOWN)],
            }
        )
    )
    completed = subprocess.run(
        [sys.executable, "-m", "gameday.cli", "validate", str(plan)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert completed.stderr.startswith(f"error: {plan}:experiments[0]: "), completed.stderr
    assert (
        f"provider.arguments.workers: workers must be a whole number from 0 to {MAX_WORKERS}, "
        f"not {MAX_WORKERS + 1}"
    ) in completed.stderr
    good = plan.read_text().replace(f"workers: {MAX_WORKERS + 1}", "workers: 2")
    plan.write_text(good)
    completed = subprocess.run(
        [sys.executable, "-m", "gameday.cli", "validate", str(plan)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


# --- the master exports what its workers report ----------------------------------------


def test_stats_become_the_counter_and_histogram_of_a_single_process() -> None:
    # In a child: importing Locust monkey-patches the interpreter.
    script = textwrap.dedent(
        f"""
        import importlib.util
        from types import SimpleNamespace
        from prometheus_client import CollectorRegistry, generate_latest
        spec = importlib.util.spec_from_file_location("exporter", {str(EXPORTER)!r})
        exporter = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(exporter)
        entries = [
            SimpleNamespace(method="GET", name="/a", num_requests=10, num_failures=2,
                            response_times={{4: 6, 300: 3, 12000: 1}},
                            total_response_time=4 * 6 + 300 * 3 + 12000),
            SimpleNamespace(method="GET", name="/b", num_requests=5, num_failures=0,
                            response_times={{10: 5}}, total_response_time=50),
        ]
        class Stats:
            def collect(self):
                return exporter.stats_families(entries)
        registry = CollectorRegistry()
        registry.register(Stats())
        print(generate_latest(registry).decode())
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(completed.stdout)
        for sample in family.samples
    }

    def requests_of(name: str, result: str) -> float:
        key = (("method", "GET"), ("name", name), ("result", result))
        return samples["locust_requests_total", key]

    def bucket(le: str) -> float:
        return samples["locust_request_duration_seconds_bucket", (("le", le), ("method", "GET"))]

    assert requests_of("/a", "success") == 8 and requests_of("/a", "failure") == 2
    assert requests_of("/b", "success") == 5 and requests_of("/b", "failure") == 0
    assert bucket("0.005") == 6 and bucket("0.01") == 11 and bucket("0.25") == 11
    assert bucket("0.5") == 14 and bucket("10.0") == 14 and bucket("+Inf") == 15
    count = samples["locust_request_duration_seconds_count", (("method", "GET"),)]
    total = samples["locust_request_duration_seconds_sum", (("method", "GET"),)]
    assert count == 15 and total == pytest.approx((24 + 900 + 12000 + 50) / 1000)


# --- real Locust, a local service -------------------------------------------------------


def _locustfile(tmp_path: Path, worker_prelude: str = "") -> Path:
    """The visitor locustfile; `worker_prelude` runs first, in workers only."""
    path = tmp_path / "visit.py"
    guard = f'import sys\nif "--worker" in sys.argv:\n{textwrap.indent(worker_prelude, "    ")}\n'
    path.write_text((guard if worker_prelude else "") + VISITOR)
    return path


def _gone(pids: list[int], within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while any(processes.alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(processes.alive(pid) for pid in pids)


@pytest.mark.parametrize(
    ("prelude", "expected"),
    [
        ("sys.exit(7)", "a locust worker exited with code 7"),
        ("import time\ntime.sleep(60)", "0 of 2 locust workers connected to the master in 4s"),
    ],
    ids=["a worker dies", "workers never connect"],
)
def test_a_start_without_every_worker_fails_names_the_logs_and_leaves_nothing(
    tmp_path: Path, service: str, prelude: str, expected: str
) -> None:
    process = LocustProcess(
        profile=LoadProfile(locustfile=_locustfile(tmp_path, prelude), host=service, workers=2),
        metrics_port=free_port(),
        workdir=tmp_path / "load",
        start_timeout_s=4,
    )
    with pytest.raises(EnvironmentProblem) as caught:
        process.start()
    assert expected in caught.value.message
    assert "locust-worker-" in (caught.value.hint or "")
    if "connected" in expected:
        for log in process.log_paths:
            assert str(log) in (caught.value.hint or "")
    pids = list(process.pids.values())
    assert len(pids) == 3 and _gone(pids, within_s=0.5)


@pytest.mark.parametrize("master_too", [False, True], ids=["gameday", "gameday and master"])
def test_no_locust_process_outlives_a_killed_gameday(
    tmp_path: Path, service: str, master_too: bool
) -> None:
    """Killed with SIGKILL: the master stops by itself and tells its workers; and
    when the master is killed as well, each worker stops by itself."""
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from gameday.load.client_monitor import free_port
        from gameday.load.locust_process import LoadProfile, LocustProcess
        process = LocustProcess(
            profile=LoadProfile(locustfile=Path({str(_locustfile(tmp_path))!r}),
                                host={service!r}, users=2, workers=2),
            metrics_port=free_port(),
            workdir=Path({str(tmp_path / "load")!r}),
        )
        process.start()
        print(" ".join(map(str, process.pids.values())), flush=True)
        time.sleep(120)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pids = [int(pid) for pid in parent.stdout.readline().split()]
    try:
        assert len(pids) == 3 and all(processes.alive(pid) for pid in pids)
        parent.send_signal(signal.SIGKILL)
        if master_too:
            os.kill(pids[0], signal.SIGKILL)
        parent.wait(timeout=10)
        assert _gone(pids, within_s=15), "a Locust process outlived gameday"
    finally:
        for pid in pids:
            if processes.alive(pid):
                os.kill(pid, signal.SIGKILL)


# --- the load control on the real lab ---------------------------------------------------


def _metrics(port: int) -> dict[str, float]:
    """Each sample of the master's exposition, summed over labels, by sample name."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=3).text
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name] = found.get(sample.name, 0.0) + sample.value
    return found


def _eventually(check: Callable[[], bool], within_s: float = 20.0) -> bool:
    deadline = time.monotonic() + within_s
    while not check() and time.monotonic() < deadline:
        time.sleep(0.25)
    return check()


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def test_the_load_control_holds_lab_load_with_a_master_and_two_workers(lab: LabConfig) -> None:
    configuration = {"gameday_lab_dir": str(lab.directory)}
    run = RunContext(timeline=Timeline(), target=resolve_target(configuration))
    port = lab.ports.load_metrics
    with run.activated():
        try:
            before_experiment_control(
                {},
                locustfile=str(REPO / "loadtests" / "lab_api.py"),
                users=6,
                spawn_rate=6,
                warmup_s=0,
                workers=2,
                configuration=configuration,
            )
            assert run.load is not None
            pids = run.load.process.pids
            assert set(pids) == {"locust", "locust-worker-1", "locust-worker-2"}
            assert all(processes.alive(pid) for pid in pids.values())
            assert "--master" in _cmdline(pids["locust"])
            assert all("--worker" in _cmdline(pids[f"locust-worker-{i}"]) for i in (1, 2))
            # `gameday recover` would find all three if this process died now.
            assert processes.recorded_pids(lab.load_pids_file) == sorted(pids.values())
            assert _eventually(lambda: _metrics(port).get("locust_users", 0) == 6)
            metrics = _metrics(port)
            assert metrics["locust_workers_connected"] == 2
            assert metrics["locust_requests_total"] > 0
            prometheus = run.client_prometheus()
            assert _eventually(lambda: prometheus.query_value("max(locust_workers_connected)") == 2)
            time.sleep(3)
        finally:
            after_experiment_control({}, configuration=configuration)
    summary = run.load_summary
    assert summary is not None and summary["requests"] > 0 and summary["workers"] == 2
    assert summary["requests"] >= metrics["locust_requests_total"]
    assert _gone(list(pids.values()), within_s=0.5), "a Locust process is still running"
    [started] = [e for e in run.timeline.events if e["kind"] == "load_started"]
    assert started["data"]["workers"] == 2 and "over 2 Locust workers" in started["detail"]


def test_a_game_day_with_workers_judges_its_client_side_slo_on_the_masters_figures(
    lab: LabConfig, tmp_path: Path
) -> None:
    """pod-kill-single checks a client-side error ratio: with `load: {workers: 2}` the
    figures it judges come from the master, and result.json says how the load ran."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        yaml.safe_dump(
            {
                "name": "distributed load",
                "target": "lab",
                "load": {"users": 10, "spawn_rate": 10, "workers": 2},
                "experiments": [str(REPO / "experiments" / "pod-kill-single.yaml")],
            }
        )
    )
    report = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "gameday.cli", "run", "-q", str(plan), "--report-dir", str(report)],
        cwd=REPO,
        env=dict(os.environ, GAMEDAY_LAB_DIR=str(lab.directory)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = read_result(report / "01-pod-kill-single")
    [client_slo] = [e for e in result["expectations"] if e["name"].endswith("(client)")]
    assert client_slo["passed"] and "no data" not in client_slo["message"], client_slo
    held = [e["data"] for e in result["timeline"] if e["kind"] == "slo_held"]
    [seen] = [data["client error ratio"] for data in held if "client error ratio" in data]
    assert seen is not None and 0 <= float(seen) <= 0.01  # type: ignore[arg-type]
    load = result["load"]
    assert load is not None and load["workers"] == 2 and load["requests"] > 100
    [started] = [e for e in result["timeline"] if e["kind"] == "load_started"]
    assert started["data"]["workers"] == 2
    assert processes.recorded_pids(lab.load_pids_file) == []


def test_a_worker_that_dies_at_start_stops_the_run_before_any_fault_naming_its_log(
    lab: LabConfig, tmp_path: Path
) -> None:
    locustfile = _locustfile(tmp_path, "sys.exit(7)")
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        yaml.safe_dump(
            {
                "name": "a worker dies",
                "target": "lab",
                "load": {"locustfile": str(locustfile), "workers": 2},
                "experiments": [str(REPO / "experiments" / "pod-kill-single.yaml")],
            }
        )
    )
    report = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "gameday.cli", "run", "-q", str(plan), "--report-dir", str(report)],
        cwd=REPO,
        env=dict(os.environ, GAMEDAY_LAB_DIR=str(lab.directory)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # An error, not an interruption: nobody pressed Ctrl-C.
    assert done.returncode == 3, done.stdout + done.stderr
    # Both workers exit; whichever is seen first is named, with its own log.
    named = [
        lab.run / "load" / f"locust-worker-{n}.log"
        for n in (1, 2)
        if f"a locust worker exited with code 7: nothing logged (see "
        f"{lab.run / 'load' / f'locust-worker-{n}.log'})" in done.stderr
    ]
    assert len(named) == 1, done.stderr
    result = read_result(report / "01-pod-kill-single")
    assert result["status"] == "error" and result["load"] is None
    [error] = [e for e in result["timeline"] if e["kind"] == "error"]
    assert error["detail"].startswith("load did not start: a locust worker exited with code 7")
    assert str(named[0]) in error["detail"]
    assert not any(e["kind"] == "fault_applied" for e in result["timeline"])
