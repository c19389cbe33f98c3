import json
from pathlib import Path

from gameday.load.locust_process import EXPORTER, WATCHDOG, LoadProfile, LocustProcess
from gameday.load.locust_summary import summarise


def test_locust_stats_are_reduced_to_totals_and_percentiles(tmp_path: Path) -> None:
    stats = [
        {
            "num_requests": 90,
            "num_failures": 3,
            "response_times": {"4": 80, "12": 10},
            "start_time": 100.0,
            "last_request_timestamp": 110.0,
        },
        {
            "num_requests": 10,
            "num_failures": 0,
            "response_times": {"300": 10},
            "start_time": 101.0,
            "last_request_timestamp": 109.0,
        },
    ]
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(stats))
    summary = summarise(path, users=5, elapsed_s=99)
    assert summary == {
        "requests": 100,
        "failures": 3,
        "requests_per_s": 10.0,
        "p50_ms": 4.0,
        "p95_ms": 300.0,
        "users": 5,
        "workers": 0,
    }
    spread = summarise(path, users=5, elapsed_s=99, workers=2)
    assert spread is not None and spread["workers"] == 2
    assert summarise(tmp_path / "absent.json", users=1, elapsed_s=1) is None


def test_any_locustfile_runs_unmodified_next_to_the_exporter(tmp_path: Path) -> None:
    profile = LoadProfile(locustfile=tmp_path / "theirs.py", host="http://127.0.0.1:1", users=3)
    command = LocustProcess(profile=profile, metrics_port=1, workdir=tmp_path).command()
    files = f"{tmp_path / 'theirs.py'},{WATCHDOG}"
    assert command[command.index("-f") + 1] == f"{files},{EXPORTER}"
    assert "--headless" in command and command[command.index("--run-time") + 1] == "900s"
    quiet = LoadProfile(locustfile=tmp_path / "theirs.py", host="h", export_metrics=False)
    command = LocustProcess(profile=quiet, metrics_port=1, workdir=tmp_path).command()
    assert command[command.index("-f") + 1] == files  # the watchdog always: no orphaned load
