from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from tests.report.conftest import edit_result

from gameday.report.directory import load_report_set
from gameday.report.page import render_html
from gameday.report.result_file import read_result
from gameday.report.terminal import summary_lines
from gameday.runbook import parse_runbook

RUNBOOK = Path(__file__).resolve().parents[1] / "fixtures" / "runbook" / "lab-runbook.md"
INJECTED = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


class _Collector(HTMLParser):
    """Tags and their attributes, to check the page structure without a browser."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = _Collector()
    collector.feed(html)
    return collector.tags


def test_passed_page(passed_dir: Path) -> None:
    html = render_html(load_report_set(passed_dir))
    assert html.startswith("<!doctype html>")
    assert '<span class="badge big" id="verdict">PASSED</span>' in html
    assert "<strong>8/8</strong> expectations met" in html
    assert 'class="timeline-chart"' in html
    for heading in ("Detection and recovery", "Load", "Expectations", "Timeline events"):
        assert f"<h3>{heading}</h3>" in html
    assert "MTTD · RedisDown" in html and "MTTR" in html
    assert "2,409" in html and "570 (23.7%)" in html
    assert "slo restored" in html  # the timeline table
    assert "simulated" not in html.lower()
    hrefs = [a.get("href") for tag, a in _tags(html) if tag == "a"]
    assert {"result.json", "journal.json", "junit.xml", "summary.md"} <= set(hrefs)


def test_page_is_self_contained(plan_dir: Path) -> None:
    html = render_html(load_report_set(plan_dir), parse_runbook(RUNBOOK))
    for tag, attrs in _tags(html):
        assert tag not in ("script", "link", "iframe", "img", "object", "embed"), tag
        assert "src" not in attrs, (tag, attrs)
        href = attrs.get("href") or ""
        assert not re.match(r"^[a-z]+:", href), href  # relative links and anchors only
    assert "@import" not in html and "url(" not in html and "@font-face" not in html


def test_runbook_targets_are_shown(passed_dir: Path) -> None:
    html = render_html(load_report_set(passed_dir), parse_runbook(RUNBOOK))
    assert "<th class='num'>Runbook target</th>" in html
    assert "&lt; 2 min" in html and "&lt; 10 min" in html
    assert "✓ runbook" in html
    assert 'class="slo-target"' in html


def test_failed_page_says_what_failed(failed_dir: Path) -> None:
    html = render_html(load_report_set(failed_dir))
    assert '<span class="badge big" id="verdict">FAILED</span>' in html
    assert 'class="what-failed"' in html
    assert "<strong>RedisDown fires within 2s</strong> — 6.1s, 4.1s over the 2s budget" in html
    assert "✗ over budget" in html


def test_plan_page_covers_every_experiment(plan_dir: Path) -> None:
    html = render_html(load_report_set(plan_dir))
    assert "<strong>2/5</strong> experiments passed" in html
    assert html.count('class="timeline-chart"') == 4
    ids = [str(a["id"]) for _, a in _tags(html) if (a.get("id") or "").startswith("exp-")]
    anchors = [a.get("href") for tag, a in _tags(html) if tag == "a" and a.get("href")]
    assert ids and {f"#{i}" for i in ids} <= set(anchors)
    assert "No result.json in <code>05-etcd-partition/</code>" in html
    assert 'href="02-redis-down-tight-budget/result.json"' in html
    assert 'href="plan-result.json"' in html


def test_simulated_gpu_note_is_visible(gpu_dir: Path, plan_dir: Path) -> None:
    html = render_html(load_report_set(gpu_dir))
    assert '<div class="note simulated"><strong>simulated GPU</strong>' in html
    plan_html = render_html(load_report_set(plan_dir))
    assert "GPU thermal stress pages on-call: simulated GPU" in plan_html


def test_result_text_is_escaped_never_injected(failed_dir: Path) -> None:
    path = failed_dir / "result.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["experiment"]["title"] = INJECTED
    document["timeline"][1]["detail"] = INJECTED
    document["timeline"][1]["data"]["note"] = INJECTED
    failed = next(e for e in document["expectations"] if not e["passed"])
    failed["message"] = INJECTED
    failed["name"] = INJECTED
    document["measurements"]["mttd_s"][INJECTED] = 1.0
    path.write_text(json.dumps(document), encoding="utf-8")

    html = render_html(load_report_set(failed_dir))
    assert INJECTED in path.read_text(encoding="utf-8").replace('\\"', '"')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in html
    assert not any(tag in ("script", "img") for tag, _ in _tags(html))


def test_locust_workers_are_shown_only_when_the_load_had_some(passed_dir: Path) -> None:
    # The fixture is an older result, without `workers`: one Locust process.
    html = render_html(load_report_set(passed_dir))
    [line] = [s for s in summary_lines(read_result(passed_dir), "r") if "load:" in s]
    assert "Locust workers" not in html and line.endswith("(10 users)")
    edit_result(passed_dir, lambda document: document["load"].update(workers=2))
    html = render_html(load_report_set(passed_dir))
    [line] = [s for s in summary_lines(read_result(passed_dir), "r") if "load:" in s]
    assert "<dt>Locust workers</dt><dd class='num'>2</dd>" in html
    assert line.endswith("(10 users on 2 Locust workers)")
