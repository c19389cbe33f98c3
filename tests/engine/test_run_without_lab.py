"""`gameday run` with no lab to run against: an environment error (exit 3) that says what
to do, before anything is injected or written."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_no_lab_is_an_environment_error_with_the_fix(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gameday.cli",
            "run",
            "experiments/redis-down.yaml",
            "--report-dir",
            str(tmp_path / "report"),
        ],
        cwd=REPO,
        env=dict(os.environ, GAMEDAY_LAB_DIR=str(tmp_path / "no-lab")),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "no lab in" in done.stderr and "gameday lab up" in done.stderr
    assert not (tmp_path / "report").exists()
