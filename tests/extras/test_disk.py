"""The disk part without a lab: the fill arithmetic, the simulated quota and its
exporter, prepare/release (a real tmpfs where the machine lets root mount), and the
fill/free faults with their ledger entry."""

from __future__ import annotations

import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from chaoslib.exceptions import ActivityFailed
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gameday.chaos.disk import actions
from gameday.lab.config import LabConfig, LabPorts
from gameday.lab.disk_exporter import SimulatedDiskCollector
from gameday.lab.extras import disk
from gameday.lab.extras.registry import EXTRAS
from gameday.targets import fault_ledger

MIB = 1024 * 1024
SIZE = 64 * MIB
EXPORTER = (sys.executable, "-m", "gameday.lab.disk_exporter", "--lab-config")


def lab_at(directory: Path, base: int = 34000) -> LabConfig:
    config = LabConfig(directory=directory, ports=LabPorts.from_base(base))
    config.save()
    config.run.mkdir(parents=True, exist_ok=True)
    return config


def simulated(config: LabConfig, size: int = MIB) -> disk.DiskState:
    """A prepared simulated disk of `size` bytes (small: the fill really writes)."""
    path = disk.disk_dir(config)
    path.mkdir(parents=True, exist_ok=True)
    state = disk.DiskState(mode=disk.SIMULATED, path=str(path), size_bytes=size, reason="test")
    disk.write_state(config, state)
    return state


def can_mount() -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    probe = Path(f"/tmp/gameday-disk-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "probe", str(probe)],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], check=False)
        return True
    finally:
        probe.rmdir()


# The fill arithmetic


@pytest.mark.parametrize("percent", [1, 50, 95, 99, 85.5])
def test_a_sane_percent_is_accepted(percent: float) -> None:
    assert disk.check_percent(percent) == float(percent)


@pytest.mark.parametrize("percent", [0, 0.5, 99.5, 100, 120, -5, math.nan, math.inf])
def test_a_percent_outside_1_to_99_is_refused_naming_the_range(percent: float) -> None:
    with pytest.raises(ValueError, match="between 1 and 99"):
        disk.check_percent(percent)


@pytest.mark.parametrize("percent", [True, "95", None])
def test_a_percent_that_is_not_a_number_is_refused(percent: object) -> None:
    with pytest.raises(ValueError, match="give a number"):
        disk.check_percent(percent)


def test_an_empty_disk_needs_the_percent_of_its_size() -> None:
    empty = disk.Usage(size=SIZE, free=SIZE, avail=SIZE)
    assert disk.bytes_to_fill(empty, 95) == math.ceil(SIZE * 0.95)
    assert disk.bytes_to_fill(empty, 50) == SIZE // 2


def test_a_partly_used_disk_needs_only_the_difference() -> None:
    used = 10 * MIB
    current = disk.Usage(size=SIZE, free=SIZE - used, avail=SIZE - used)
    assert disk.bytes_to_fill(current, 95) == math.ceil(SIZE * 0.95) - used


def test_a_disk_already_that_full_needs_nothing() -> None:
    current = disk.Usage(size=SIZE, free=SIZE // 50, avail=SIZE // 50)  # 98 % used
    assert disk.bytes_to_fill(current, 95) == 0
    assert disk.bytes_to_fill(disk.Usage(size=0, free=0, avail=0), 95) == 0


def test_the_fill_never_asks_for_more_than_is_available() -> None:
    # Reserved blocks: free says 20 %, but only 2 % is available to write.
    current = disk.Usage(size=100 * MIB, free=20 * MIB, avail=2 * MIB)
    assert current.used_fraction == pytest.approx(0.8)
    assert disk.bytes_to_fill(current, 95) == 2 * MIB


# The simulated quota


def test_the_simulated_usage_is_the_quota_less_the_files(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    state = simulated(config)
    (Path(state.path) / "sub").mkdir()
    (Path(state.path) / "a").write_bytes(bytes(1000))
    (Path(state.path) / "sub" / "b").write_bytes(bytes(24))
    assert disk.usage(state) == disk.Usage(size=MIB, free=MIB - 1024, avail=MIB - 1024)


def test_a_fill_reaches_the_percent_in_bounded_chunks_and_free_undoes_it(
    tmp_path: Path,
) -> None:
    state = simulated(lab_at(tmp_path))
    result = disk.fill(state, 95, chunk=64 * 1024)
    assert result.before.used == 0 and not result.full
    assert result.after.used_fraction >= 0.95
    assert result.written == math.ceil(MIB * 0.95) == state.fill_path.stat().st_size
    again = disk.fill(state, 95, chunk=64 * 1024)
    assert again.written == 0  # already there
    assert disk.free(state) == result.written
    assert disk.usage(state).used == 0
    assert disk.free(state) == 0  # idempotent


def test_the_simulated_exporter_uses_node_exporter_names_labelled_simulated(
    tmp_path: Path,
) -> None:
    state = simulated(lab_at(tmp_path))
    disk.fill(state, 90)
    registry = CollectorRegistry()
    registry.register(SimulatedDiskCollector(state))
    samples = {
        sample.name: sample
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for sample in family.samples
    }
    labels = {
        "device": "lab-disk",
        "fstype": "simulated",
        "mountpoint": state.path,
        "simulated": "true",
    }
    avail = disk.usage(state).avail
    assert avail / MIB <= 0.1
    for name, value in (
        ("node_filesystem_size_bytes", MIB),
        ("node_filesystem_avail_bytes", avail),
        ("node_filesystem_free_bytes", avail),
        ("node_filesystem_readonly", 0),
    ):
        assert samples[name].labels == labels and samples[name].value == value, name
    assert samples["lab_disk_simulated"].labels == {}
    assert samples["lab_disk_simulated"].value == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_the_exporter_serves_the_simulated_disk_on_its_port(tmp_path: Path) -> None:
    port = _free_port()
    config = lab_at(tmp_path, base=port - 77)
    assert config.ports.node_exporter == port
    state = simulated(config)
    process = subprocess.Popen(
        [*EXPORTER, str(config.config_file)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        text = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "lab_disk_simulated" not in text:
            try:
                text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
            except requests.ConnectionError:
                time.sleep(0.2)
        assert f'mountpoint="{state.path}",simulated="true"' in text
        assert "lab_disk_simulated 1.0" in text
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_exporter_refuses_to_run_on_an_unprepared_disk(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    done = subprocess.run(
        [*EXPORTER, str(config.config_file)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "not prepared" in done.stderr


# The part: registry, scrape job, prepare and release


def test_the_part_is_registered_with_node_exporter_on_its_port(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    extra = EXTRAS["disk"]
    [part] = extra.parts(config)
    [program] = part.programs
    assert program.address == f"127.0.0.1:{config.ports.node_exporter}"
    assert extra.binaries == {"prometheus-node-exporter": "prometheus-node-exporter"}
    command = disk.node_exporter_command(config)
    assert "--collector.disable-defaults" in command and "--collector.filesystem" in command
    assert f"--web.listen-address=127.0.0.1:{config.ports.node_exporter}" in command


def test_the_scrape_keeps_only_the_lab_mount(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    [job] = disk.scrape_jobs(config)
    [target] = job.targets
    assert target.labels == {"volume": "lab-data"}
    [rule] = job.settings["metric_relabel_configs"]  # type: ignore[misc]
    assert rule["action"] == "keep" and rule["source_labels"] == ["mountpoint"]
    regex = re.compile(rule["regex"])
    assert regex.fullmatch(str(disk.disk_dir(config)))
    assert regex.fullmatch("")  # series without a mount point (lab_disk_simulated)
    for other in ("/", "/tmp", str(disk.disk_dir(config)) + "x"):
        assert not regex.fullmatch(other), other


def test_prepare_falls_back_to_the_labelled_simulation_when_it_cannot_mount(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = lab_at(tmp_path)
    monkeypatch.setattr(disk, "_mount", lambda path, size: "mount failed: not permitted")
    monkeypatch.setattr(disk.shutil, "which", lambda name: f"/usr/bin/{name}")
    disk.prepare(config)
    state = disk.read_state(config)
    assert state is not None and state.simulated
    assert state.size_bytes == disk.SIZE_BYTES and "not permitted" in state.reason
    assert Path(state.path) == tmp_path.resolve() / "disk"
    # A crashed run's fill is gone at the next prepare.
    state.fill_path.write_bytes(bytes(100))
    disk.prepare(config)
    assert not state.fill_path.exists() and Path(state.path).is_dir()
    disk.release(config)
    assert not Path(state.path).exists() and disk.read_state(config) is None
    disk.release(config)  # idempotent


def test_prepare_and_release_never_follow_a_link_at_the_disk_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = lab_at(tmp_path / "lab")
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep").write_text("mine")
    (config.directory / "disk").symlink_to(precious)
    monkeypatch.setattr(disk, "_mount", lambda path, size: "mount failed: not permitted")
    monkeypatch.setattr(disk.shutil, "which", lambda name: f"/usr/bin/{name}")
    disk.prepare(config)
    assert (precious / "keep").read_text() == "mine"
    assert not (config.directory / "disk").is_symlink()
    (config.directory / "disk").rmdir()
    (config.directory / "disk").symlink_to(precious)
    disk.release(config)
    assert (precious / "keep").read_text() == "mine"
    assert not (config.directory / "disk").exists()


def test_prepare_refuses_without_node_exporter_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gameday.errors import LabError

    monkeypatch.setattr(disk.os, "geteuid", lambda: 0)
    monkeypatch.setattr(disk.shutil, "which", lambda name: None)
    with pytest.raises(LabError, match="prometheus-node-exporter") as caught:
        disk.prepare(lab_at(tmp_path))
    assert caught.value.hint and "apt-get install" in caught.value.hint


@pytest.mark.skipif(not can_mount(), reason="needs root and a kernel that lets it mount tmpfs")
def test_prepare_replaces_a_stale_mount_and_release_unmounts(tmp_path: Path) -> None:
    if shutil.which(disk.NODE_EXPORTER) is None:
        pytest.skip("needs prometheus-node-exporter")
    config = lab_at(tmp_path)
    path = disk.disk_dir(config)
    path.mkdir()
    # What a crashed lab leaves: a mount with its fill still in it, busy.
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "lab-disk", str(path)], check=True)
    (path / disk.FILL_FILE).write_bytes(bytes(1000))
    try:
        disk.prepare(config)
        state = disk.read_state(config)
        assert state is not None and state.mode == disk.TMPFS and not state.reason
        assert os.path.ismount(path)
        mounts = Path("/proc/self/mounts").read_text().split("\n")
        assert sum(1 for line in mounts if f" {path} " in line) == 1
        assert disk.usage(state).size == disk.SIZE_BYTES
        assert not state.fill_path.exists()
        with state.fill_path.open("ab"):  # busy: release must still get rid of it
            disk.release(config)
        assert not os.path.ismount(path) and not path.exists()
        disk.release(config)
    finally:
        while os.path.ismount(path):
            subprocess.run(["umount", "-l", str(path)], check=False)


# The faults


def test_fill_disk_records_its_revert_and_free_disk_clears_it(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    state = simulated(config)
    configuration = {"gameday_lab_dir": str(tmp_path)}
    filled = actions.fill_disk(percent=95, configuration=configuration)
    assert filled["used_percent"] >= 95 and filled["simulated"] is True
    [entry] = fault_ledger(config).entries()
    assert entry["revert"]["module"] == "gameday.chaos.disk.actions"
    assert entry["revert"]["func"] == "free_disk"
    freed = actions.free_disk(configuration=configuration)
    assert freed["freed_bytes"] == filled["written_bytes"] and freed["used_percent"] == 0
    assert fault_ledger(config).entries() == []
    assert not state.fill_path.exists()
    assert actions.free_disk(configuration=configuration)["freed_bytes"] == 0


@pytest.mark.parametrize("percent", [0, 100, 150])
def test_fill_disk_refuses_an_insane_percent_before_touching_anything(
    tmp_path: Path, percent: float
) -> None:
    config = lab_at(tmp_path)
    state = simulated(config)
    with pytest.raises(ActivityFailed, match="between 1 and 99"):
        actions.fill_disk(percent=percent, configuration={"gameday_lab_dir": str(tmp_path)})
    assert not state.fill_path.exists()
    assert fault_ledger(config).entries() == []


def test_fill_disk_says_how_to_start_the_part_when_it_is_not_started(tmp_path: Path) -> None:
    lab_at(tmp_path)
    with pytest.raises(ActivityFailed, match=r"parts: \[disk\]"):
        actions.fill_disk(configuration={"gameday_lab_dir": str(tmp_path)})
    # Its revert after the part was released has nothing to do, and says so.
    assert actions.free_disk(configuration={"gameday_lab_dir": str(tmp_path)}) == {
        "freed_bytes": 0,
        "used_percent": None,
    }
