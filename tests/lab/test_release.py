"""The gateway's release switch: what a deploy writes, what the replicas read, how a bad
release fails its share of requests, and what the gateway exports about it."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from gameday.lab.release import (
    BASELINE,
    CHECK_INTERVAL_S,
    Release,
    ReleaseCollector,
    ReleaseSwitch,
    read_release,
    release_file,
    write_release,
)


def test_no_file_is_the_baseline_release(tmp_path: Path) -> None:
    switch = ReleaseSwitch(release_file(tmp_path))
    assert switch.current() == Release(name=BASELINE)
    assert not any(switch.fails_next() for _ in range(100))


def test_a_deploy_is_read_back_as_written(tmp_path: Path) -> None:
    path = release_file(tmp_path)
    deployed = Release(name="v2", error_ratio=0.25, deployed_at=1234.5, previous="v1")
    write_release(path, deployed)
    assert read_release(path) == deployed


def test_a_half_written_file_keeps_the_baseline(tmp_path: Path) -> None:
    path = release_file(tmp_path)
    path.write_text('{"name": "v2", "error_')
    assert read_release(path) == Release()


def test_a_bad_release_fails_its_share_of_requests_evenly(tmp_path: Path) -> None:
    path = release_file(tmp_path)
    write_release(path, Release(name="v2", error_ratio=0.3, deployed_at=1.0, previous="v1"))
    switch = ReleaseSwitch(path)
    outcomes = [switch.fails_next(now=0.0) for _ in range(1000)]
    assert sum(outcomes) == 300
    # Evenly: every stretch of 10 requests fails 3, not 300 in a row.
    assert all(sum(outcomes[i : i + 10]) == 3 for i in range(0, 1000, 10))


def test_replicas_see_a_deploy_and_a_rollback_after_the_check_interval(tmp_path: Path) -> None:
    path = release_file(tmp_path)
    switch = ReleaseSwitch(path)
    assert switch.current(now=0.0).name == BASELINE
    write_release(path, Release(name="v2", error_ratio=1.0, deployed_at=5.0, previous="v1"))
    assert switch.current(now=CHECK_INTERVAL_S / 2).name == BASELINE  # not re-read yet
    assert switch.current(now=CHECK_INTERVAL_S * 2).name == "v2"
    assert switch.fails_next(now=CHECK_INTERVAL_S * 2)
    path.unlink()
    assert switch.current(now=CHECK_INTERVAL_S * 4).name == BASELINE


def test_the_gateway_exports_the_release_and_its_deploy_time(tmp_path: Path) -> None:
    path = release_file(tmp_path)
    write_release(path, Release(name="v2-bad", error_ratio=0.3, deployed_at=1700.0))
    registry = CollectorRegistry()
    registry.register(ReleaseCollector(ReleaseSwitch(path)))
    text = generate_latest(registry).decode()
    assert 'gateway_release_info{release="v2-bad"} 1.0' in text
    assert "gateway_release_deployed_timestamp_seconds 1700.0" in text
