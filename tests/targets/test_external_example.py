"""The README's external example (examples/external/) validates offline: its target
file names the rules and the Alertmanager configuration, so the pre-flight needs no
network; a receiver its routes cannot reach is refused with exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "external"


def gameday(*args: str, cwd: Path = EXAMPLE) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STAGING_MONITORING_TOKEN": "planted-token-value-123"}
    return subprocess.run(
        [sys.executable, "-m", "gameday.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
    )


def test_the_example_validates_and_dry_runs_offline() -> None:
    valid = gameday("validate", "cache-down.yaml", "--target", "target.yaml")
    assert valid.returncode == 0, valid.stderr
    dry = gameday("run", "cache-down.yaml", "--target", "target.yaml", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "route [ok]: CacheDown" in dry.stdout and "→ storage-pager" in dry.stdout
    assert "touches process:ssh cache-1.staging.example sudo systemctl stop redis-server" in (
        dry.stdout
    )
    assert "planted-token-value-123" not in dry.stdout + dry.stderr


def test_a_receiver_the_routes_cannot_reach_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "example"
    shutil.copytree(EXAMPLE, copy)
    experiment = copy / "cache-down.yaml"
    experiment.write_text(
        experiment.read_text().replace(
            "{alert: CacheDown, receiver: storage-pager, within_s: 420}",
            "{alert: CacheDown, receiver: storage-chat, within_s: 420}",
            1,
        )
    )
    refused = gameday("validate", "cache-down.yaml", "--target", "target.yaml", cwd=copy)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "expects CacheDown at 'storage-chat'" in refused.stderr
    assert "storage-pager (at route.routes[0].routes[0])" in refused.stderr


def test_an_action_outside_allow_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "example"
    shutil.copytree(EXAMPLE, copy)
    target = copy / "target.yaml"
    target.write_text(target.read_text().replace("cache-1.staging.example", "cache-2.example"))
    refused = gameday("validate", "cache-down.yaml", "--target", "target.yaml", cwd=copy)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "outside the blast radius" in refused.stderr and "stop-cache" in refused.stderr
