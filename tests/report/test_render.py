from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gameday.errors import InvalidInputError
from gameday.report.render import render_report


def test_writes_the_three_reports(passed_dir: Path) -> None:
    paths = render_report(passed_dir)
    assert [p.name for p in paths] == ["index.html", "summary.md", "junit.xml"]
    assert all(p.parent == passed_dir and p.stat().st_size > 0 for p in paths)
    ET.parse(passed_dir / "junit.xml")
    assert not list(passed_dir.glob("*.tmp"))


def test_rendering_again_gives_the_same_files(plan_dir: Path) -> None:
    first = [p.read_bytes() for p in render_report(plan_dir)]
    second = [p.read_bytes() for p in render_report(plan_dir)]
    assert first == second


def test_directory_without_results(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        render_report(tmp_path)
    assert caught.value.exit_code == 2
    assert caught.value.hint
