from __future__ import annotations

import json
import shutil
from pathlib import Path

from gameday.report.directory import load_report_set
from gameday.report.markdown import markdown_text, render_summary


def test_passed_summary(passed_dir: Path) -> None:
    text = render_summary(load_report_set(passed_dir))
    lines = text.splitlines()
    assert lines[0] == (
        "### ✅ gameday PASSED: Redis down pages on-call and the restart restores the SLOs"
    )
    assert "**8/8** expectations met" in text
    assert (
        "| ✅ passed | Redis down pages on-call and the restart restores the SLOs | 8/8 | "
        "RedisDown 5.5s, HighErrorRate 6.9s | 14.9s |" in lines
    )
    assert "What failed" not in text
    assert "Simulated" not in text


def test_failed_summary_shows_exactly_the_failure(failed_dir: Path) -> None:
    text = render_summary(load_report_set(failed_dir))
    assert text.splitlines()[0].startswith("### ❌ gameday FAILED:")
    failures = [line for line in text.splitlines() if line.startswith("- ")]
    assert failures == ["- **RedisDown fires within 2s**: 6.1s, 4.1s over the 2s budget"]
    assert "**7/8** expectations met" in text


def test_plan_summary_fits_a_pull_request_comment(plan_dir: Path) -> None:
    # Six experiments: the five of the fixture plan and another failed one.
    shutil.copytree(plan_dir / "02-redis-down-tight-budget", plan_dir / "06-again")
    path = plan_dir / "plan-result.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["experiments"].append({**document["experiments"][1], "dir": "06-again"})
    path.write_text(json.dumps(document), encoding="utf-8")

    text = render_summary(load_report_set(plan_dir))
    lines = text.splitlines()
    assert len(lines) < 60
    assert lines[0] == "### ❌ gameday FAILED: Lab game day"
    assert "**2/6** experiments passed" in lines[2]
    assert sum(1 for line in lines if line.startswith("| ")) == 7  # header + 6 rows
    assert "| ⏭️ skipped | Consensus partition keeps writes available | — | — | — |" in lines
    assert (
        "- Redis down pages on-call and the restart restores the SLOs: run error: "
        "prometheus at http://127.0.0.1:17890 did not answer within 5s" in lines
    )
    assert (
        lines.count(
            "- Redis down pages on-call and the restart restores the SLOs: "
            "**RedisDown fires within 2s**: 6.1s, 4.1s over the 2s budget"
        )
        == 2
    )
    assert "> **Simulated parts:** GPU thermal stress pages on-call (simulated GPU)." in lines


def test_markdown_text_neutralises_markup() -> None:
    assert markdown_text("a | b") == "a \\| b"
    assert markdown_text("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert markdown_text("**bold** [link](x)\nnext") == "\\*\\*bold\\*\\* \\[link\\](x) next"
