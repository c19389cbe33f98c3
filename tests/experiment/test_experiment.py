"""Loading experiments: chaoslib's rules, gameday's checks, clear errors with places."""

from pathlib import Path

import pytest
import yaml

from gameday.errors import InvalidInputError
from gameday.experiment import Experiment, check_experiment, read_experiment
from gameday.experiment.manual import for_manual_remediation

REPO = Path(__file__).resolve().parents[2]
EXPERIMENTS = REPO / "experiments"


@pytest.mark.parametrize(
    "name",
    [
        "redis-down",
        "pod-kill",
        "pod-kill-single",
        "consensus-partition",
        "gpu-stress",
        "camera-rtsp-flap",
    ],
)
def test_the_shipped_experiments_are_valid(name: str) -> None:
    experiment = load_experiment(EXPERIMENTS / f"{name}.yaml")
    assert experiment.title


def load_experiment(path: Path) -> Experiment:
    """Read and checked as a run does."""
    return check_experiment(read_experiment(path))


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(document) if not isinstance(document, str) else document)
    return path


def _redis_down() -> dict[str, object]:
    document: dict[str, object] = yaml.safe_load((EXPERIMENTS / "redis-down.yaml").read_text())
    return document


def test_a_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "title: x\nmethod: [\n  - a: b\n")
    with pytest.raises(InvalidInputError) as caught:
        load_experiment(path)
    assert caught.value.exit_code == 2
    assert f"{path}:line " in caught.value.message


def test_an_unknown_function_names_the_activity(tmp_path: Path) -> None:
    document = _redis_down()
    document["method"][0]["provider"]["func"] = "stop_servic"  # type: ignore[index]
    with pytest.raises(InvalidInputError) as caught:
        load_experiment(_write(tmp_path, document))
    assert "method[0] (stop redis)" in caught.value.message
    assert "stop_servic" in caught.value.message


def test_a_wrong_argument_is_refused(tmp_path: Path) -> None:
    document = _redis_down()
    document["method"][1]["provider"]["arguments"]["within"] = 3  # type: ignore[index]
    with pytest.raises(InvalidInputError, match="RedisDown fires"):
        load_experiment(_write(tmp_path, document))


def test_remediation_must_name_a_method_activity(tmp_path: Path) -> None:
    document = _redis_down()
    document["extensions"][0]["remediation"] = ["reboot the world"]  # type: ignore[index]
    with pytest.raises(InvalidInputError) as caught:
        load_experiment(_write(tmp_path, document))
    assert "extensions[gameday].remediation[0]" in caught.value.message


def test_a_missing_locustfile_is_refused_before_the_run(tmp_path: Path) -> None:
    document = _redis_down()
    document["controls"][0]["provider"]["arguments"]["locustfile"] = "nope.py"  # type: ignore[index]
    with pytest.raises(InvalidInputError) as caught:
        load_experiment(_write(tmp_path, document))
    assert "controls[0].provider.arguments.locustfile" in caught.value.message


def test_not_an_experiment(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no 'method'"):
        load_experiment(_write(tmp_path, {"title": "plan", "experiments": []}))
    with pytest.raises(InvalidInputError, match="not found"):
        load_experiment(tmp_path / "absent.yaml")


def test_manual_mode_hands_remediation_to_people() -> None:
    experiment = load_experiment(EXPERIMENTS / "redis-down.yaml")
    document = for_manual_remediation(experiment, timeout_s=300)
    names = [activity["name"] for activity in document["method"]]
    assert "restart redis" not in names
    assert "people remediate: restart redis" in names
    restored = next(a for a in document["method"] if a["name"] == "SLOs restored")
    assert restored["provider"]["arguments"]["within_s"] == 300
    # The original is untouched: rollbacks still restart Redis.
    assert any(a["name"] == "restart redis" for a in experiment.document["method"])


def test_manual_mode_needs_named_remediation() -> None:
    experiment = load_experiment(EXPERIMENTS / "pod-kill-single.yaml")
    with pytest.raises(InvalidInputError, match="--manual"):
        for_manual_remediation(experiment)
