"""The parts of the containers support that need no Docker: the app's handlers and metrics,
and reading apt's mirror for debootstrap."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from tests.containers_app.app import ClientMetrics, Metrics, TextMetrics, make_app
from tests.docker_engine import DEFAULT_MIRROR, apt_mirror


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_hand_written_metrics_match_prometheus_client() -> None:
    by_hand, by_client = TextMetrics(), ClientMetrics()
    for code, seconds in ((200, 0.003), (200, 0.2), (503, 1.0), (503, 7.0)):
        by_hand.observe(code, seconds)
        by_client.observe(code, seconds)
    assert _samples(by_hand) == _samples(by_client)
    assert _samples(by_hand)[("app_requests_total", (("code", "503"),))] == 2


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_app_answers_503_without_redis_and_counts_it() -> None:
    async def scenario() -> None:
        metrics = TextMetrics()
        app = make_app("127.0.0.1", _closed_port(), timeout_s=0.5, metrics=metrics)
        async with TestClient(TestServer(app)) as client:
            assert (await client.get("/healthz")).status == 200
            answer = await client.get("/items/7")
            assert answer.status == 503
            assert "unavailable" in (await answer.json())["error"]
            exposition = await (await client.get("/metrics")).text()
        assert 'app_requests_total{code="503"} 1' in exposition

    asyncio.run(scenario())


def test_apt_mirror_reads_one_line_and_deb822_sources(tmp_path: Path) -> None:
    assert apt_mirror(apt_dir=tmp_path) == DEFAULT_MIRROR
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "a.sources").write_text(
        "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n\n"
        "Types: deb deb-src\n# a comment\nURIs: http://mirror.example/debian\n"
        "Suites: bookworm bookworm-updates\nComponents: main\n"
    )
    (tmp_path / "sources.list.d" / "b.sources.disabled").write_text(
        "Types: deb\nURIs: http://ignored.example/debian\nSuites: bookworm\n"
    )
    assert apt_mirror(apt_dir=tmp_path) == "http://mirror.example/debian"
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.example/debian bookworm main\n"
        "deb [signed-by=/usr/share/keyrings/k.gpg] http://one-line.example/debian bookworm main\n"
    )
    assert apt_mirror(apt_dir=tmp_path) == "http://one-line.example/debian"
    assert apt_mirror("trixie", apt_dir=tmp_path) == DEFAULT_MIRROR
