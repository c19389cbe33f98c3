import configparser
from pathlib import Path

from gameday.lab.config import LabConfig, LabPorts
from gameday.lab.parts import lab_parts
from gameday.lab.supervisor import render_config


def _rendered(tmp_path: Path) -> configparser.RawConfigParser:
    config = LabConfig(directory=tmp_path, ports=LabPorts.from_base(20000))
    parts = lab_parts(
        config, prometheus_yml=tmp_path / "p.yml", alertmanager_yml=tmp_path / "a.yml"
    )
    text = render_config(
        parts, port=20012, directory=tmp_path, logs=tmp_path, environment={"GAMEDAY_LAB_ID": "x"}
    )
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return parser


def test_every_replica_is_a_restarting_program_in_its_group(tmp_path: Path) -> None:
    parser = _rendered(tmp_path)
    assert parser.get("group:gateway", "programs") == "gateway-0,gateway-1,gateway-2"
    assert parser.get("group:etcd", "programs") == "etcd-0,etcd-1,etcd-2"
    for replica in ("gateway-0", "gateway-1", "gateway-2", "redis", "prometheus"):
        section = f"program:{replica}"
        assert parser.get(section, "autorestart") == "true"
        assert parser.get(section, "autostart") == "true"


def test_supervisor_api_and_processes_are_bound_to_loopback_and_marked(tmp_path: Path) -> None:
    parser = _rendered(tmp_path)
    assert parser.get("inet_http_server", "port") == "127.0.0.1:20012"
    assert 'GAMEDAY_LAB_ID="x"' in parser.get("supervisord", "environment")
    assert "--bind 127.0.0.1" in parser.get("program:redis", "command")


def test_empty_arguments_survive_supervisor_quoting(tmp_path: Path) -> None:
    parser = _rendered(tmp_path)
    # redis --save '' disables snapshots; an empty cluster address turns gossip off.
    assert "--save ''" in parser.get("program:redis", "command")
    assert "--cluster.listen-address=" in parser.get("program:alertmanager", "command")


def test_etcd_members_advertise_the_peer_proxy(tmp_path: Path) -> None:
    parser = _rendered(tmp_path)
    command = parser.get("program:etcd-1", "command")
    assert "--listen-peer-urls http://127.0.0.1:20034" in command
    assert "--initial-advertise-peer-urls http://127.0.0.1:20037" in command
