from __future__ import annotations

from pathlib import Path

from gameday.report.result_file import read_result
from gameday.report.simulation import simulated_part


def test_a_real_run_has_no_simulated_part(passed_dir: Path) -> None:
    assert simulated_part(read_result(passed_dir)) is None


def test_a_simulated_gpu_is_named(gpu_dir: Path) -> None:
    part = simulated_part(read_result(gpu_dir))
    assert part is not None
    assert part.headline == "simulated GPU"
    assert any("gpu stress" in line for line in part.evidence)


def test_any_mention_of_simulated_counts(passed_dir: Path) -> None:
    result = read_result(passed_dir)
    result["timeline"][1]["data"]["labels"] = {"backend": "simulated"}
    part = simulated_part(result)
    assert part is not None and part.headline == "simulated part"
    assert part.evidence == ["+0.6s load_started: 10 users on http://127.0.0.1:37800 (lab_api.py)"]
