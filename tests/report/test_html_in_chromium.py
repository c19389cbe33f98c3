"""index.html as a browser draws it: headless Chromium dumps the DOM and takes a screenshot.

Needs Debian's `chromium` (scripts/setup.sh installs it); skipped without it.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from gameday.report.render import render_report
from gameday.runbook import parse_runbook

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
RUNBOOK = Path(__file__).resolve().parents[1] / "fixtures" / "runbook" / "lab-runbook.md"
WIDTH, HEIGHT = 1280, 2400

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (scripts/setup.sh installs it: apt-get install chromium)",
)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True)


def _png_rows(path: Path, rows: int) -> tuple[int, int, list[bytes]]:
    """Width, height and the first `rows` rows of an 8-bit RGB/RGBA PNG, as raw pixels."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat = 8, b""
    width = height = channels = 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    out: list[bytes] = []
    for y in range(min(rows, height)):
        start = y * (stride + 1)
        filter_type, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if filter_type == 1:
                line[i] = (line[i] + left) & 0xFF
            elif filter_type == 2:
                line[i] = (line[i] + up) & 0xFF
            elif filter_type == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif filter_type == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        out.append(bytes(line))
        previous = line
    return width, height, out


def _pixel(row: bytes, x: int, channels: int) -> tuple[int, int, int]:
    r, g, b = row[x * channels : x * channels + 3]
    return r, g, b


def _render(directory: Path) -> Path:
    render_report(directory, runbook=parse_runbook(RUNBOOK))
    return directory / "index.html"


def test_dom_has_charts_markers_and_verdict(plan_dir: Path, tmp_path: Path) -> None:
    index = _render(plan_dir)
    dom = _chromium(tmp_path, "--dump-dom", index.as_uri()).stdout
    assert '<span class="badge big" id="verdict">FAILED</span>' in dom
    assert dom.count('class="timeline-chart"') == 4
    for series in (
        "client_error_ratio",
        "server_error_ratio",
        "client_p95_latency_s",
        "server_p95_latency_s",
        "client_requests_per_s",
        "server_requests_per_s",
    ):
        assert f'data-series="{series}"' in dom
    assert 'class="fault-window" data-start-s="10.292" data-end-s="18.563"' in dom
    for kind in ("alert_pending", "alert_firing", "alert_resolved", "notified", "slo_restored"):
        assert f'data-kind="{kind}"' in dom
    assert 'data-kind="remediation_started"' in dom
    assert 'data-kind="error"' in dom
    assert "simulated GPU" in dom


def test_screenshot_is_a_real_page(passed_dir: Path, failed_dir: Path, tmp_path: Path) -> None:
    colours: dict[str, tuple[int, int, int]] = {}
    for name, directory in (("passed", passed_dir), ("failed", failed_dir)):
        shot = tmp_path / f"{name}.png"
        _chromium(
            tmp_path,
            f"--screenshot={shot}",
            f"--window-size={WIDTH},{HEIGHT}",
            "--hide-scrollbars",
            _render(directory).as_uri(),
        )
        assert shot.stat().st_size > 100_000  # a blank page of this size is a few KB
        width, height, rows = _png_rows(shot, 200)
        assert (width, height) == (WIDTH, HEIGHT)
        channels = len(rows[0]) // width
        colours[name] = _pixel(rows[2], WIDTH // 2, channels)  # the verdict stripe on top
        distinct = {_pixel(row, x, channels) for row in rows[::7] for x in range(0, WIDTH, 9)}
        assert len(distinct) > 20  # text, badge and background, not one flat colour
    assert colours["passed"] == (0x15, 0x80, 0x3D)  # --pass
    assert colours["failed"] == (0xB9, 0x1C, 0x1C)  # --fail
