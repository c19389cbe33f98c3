from pathlib import Path

import pytest

from gameday.errors import InvalidInputError
from gameday.lab.config import LabConfig, LabPorts, resolve_base_port


def test_ports_follow_the_base_port_and_do_not_collide() -> None:
    ports = LabPorts.from_base(20000)
    assert ports.gateway == 20000
    assert ports.prometheus == 20040
    named = ports.all()
    assert len(set(named.values())) == len(named), "two parts share a port"


def test_a_port_can_be_moved_by_name() -> None:
    ports = LabPorts.from_base(20000, {"prometheus": 19090})
    assert ports.prometheus == 19090
    assert ports.alertmanager == 20041


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [({"promethus": 1}, "unknown port name 'promethus'"), ({"etcd_client": 1}, "range")],
)
def test_bad_port_overrides_are_refused(overrides: dict[str, int], fragment: str) -> None:
    with pytest.raises(InvalidInputError, match=fragment) as caught:
        LabPorts.from_base(20000, overrides)
    assert caught.value.exit_code == 2


def test_base_port_out_of_range_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="out of range"):
        LabPorts.from_base(80)


def test_base_port_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAMEDAY_LAB_BASE_PORT", "21000")
    assert resolve_base_port(None) == 21000
    monkeypatch.setenv("GAMEDAY_LAB_BASE_PORT", "many")
    with pytest.raises(InvalidInputError, match="'many'"):
        resolve_base_port(None)


def test_config_round_trips_through_its_file(tmp_path: Path) -> None:
    config = LabConfig(
        directory=tmp_path, ports=LabPorts.from_base(20000), extra_rule_files=(tmp_path / "x.yml",)
    )
    config.save()
    assert LabConfig.load(config.config_file) == config


def test_camera_vision_and_peer_proxy_control_ports_follow_the_base_port() -> None:
    ports = LabPorts.from_base(20000)
    assert ports.peer_proxy_control == 20039
    assert ports.cameras == (20060, 20061, 20062, 20063)
    assert ports.vision == 20064
    config = LabConfig(directory=Path("/tmp/lab"), ports=ports)
    assert config.camera_urls[0] == "rtsp://127.0.0.1:20060/stream"
