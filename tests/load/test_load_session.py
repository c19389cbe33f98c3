"""A load session with a real Locust subprocess against a small local HTTP server: its
metrics are announced to Prometheus' file discovery and withdrawn, its figures come back
once, and the run context records its end."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
import requests

from gameday.context import RunContext
from gameday.load.locust_process import LoadProfile, LocustProcess
from gameday.load.session import LoadSession
from gameday.record.timeline import Timeline
from gameday.targets import resolve_target

LOCUSTFILE = """
from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0.05)

    @task
    def index(self):
        self.client.get("/")
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_session_holds_load_announces_its_metrics_and_stops_once(
    tmp_path: Path, service: str
) -> None:
    locustfile = tmp_path / "visit.py"
    locustfile.write_text(LOCUSTFILE)
    targets_file = tmp_path / "load-targets.json"
    port = _free_port()
    session = LoadSession(
        process=LocustProcess(
            profile=LoadProfile(locustfile=locustfile, host=service, users=2, run_time_s=60),
            metrics_port=port,
            workdir=tmp_path / "load",
        ),
        targets_file=targets_file,
        labels={"namespace": "test"},
    )
    context = RunContext(
        timeline=Timeline(),
        target=resolve_target({"prometheus_url": service, "notification_sink_url": service}),
    )
    session.start()
    context.load = session
    try:
        assert session.running and context.load_started_at() is not None
        announced = json.loads(targets_file.read_text())
        assert announced == [{"targets": [f"127.0.0.1:{port}"], "labels": {"namespace": "test"}}]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            if "locust_requests_total" in metrics:
                break
            time.sleep(0.2)
        assert "locust_requests_total" in metrics
    finally:
        summary = context.stop_load()
    assert summary is not None and summary["requests"] > 0 and summary["users"] == 2
    assert json.loads(targets_file.read_text()) == []
    assert not session.running and context.load is None and context.load_summary == summary
    assert context.stop_load() is None and session.stop() is None  # once only
    [stopped] = [e for e in context.timeline.events if e["kind"] == "load_stopped"]
    assert stopped["data"]["requests"] == summary["requests"]


def test_a_scratch_directory_goes_once_the_figures_are_in_and_stays_when_they_are_not(
    tmp_path: Path, service: str
) -> None:
    locustfile = tmp_path / "visit.py"
    locustfile.write_text(LOCUSTFILE)

    def session(scratch: Path, host: str) -> LoadSession:
        return LoadSession(
            process=LocustProcess(
                profile=LoadProfile(locustfile=locustfile, host=host, users=1, run_time_s=30),
                metrics_port=_free_port(),
                workdir=scratch,
            ),
            scratch_dir=scratch,
        )

    held = session(tmp_path / "held", service)
    held.start()
    time.sleep(2)
    assert held.stop() is not None
    assert not (tmp_path / "held").exists()

    # Locust exits at once on a file that is not a locustfile: no figures, logs kept.
    locustfile.write_text("raise SystemExit('not a locustfile')\n")
    broken = session(tmp_path / "broken", service)
    with pytest.raises(Exception, match="locust exited"):
        broken.start()
    assert broken.stop() is None
    assert (tmp_path / "broken" / "locust.log").is_file()
