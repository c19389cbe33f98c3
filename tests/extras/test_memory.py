"""The memory part without a lab: reading a memory cgroup as cAdvisor does (fake cgroup
directories), finding and creating the lab's cgroup, the simulated fallback, the
regulator's growth bounds, the worker's control endpoint and metrics, and the faults
with their ledger entry (a real worker process; a real cgroup where the machine allows)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from chaoslib.exceptions import ActivityFailed
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gameday.chaos.memory import actions
from gameday.lab import memory_cgroup
from gameday.lab.config import HOST, LabConfig, LabPorts
from gameday.lab.extras import memory
from gameday.lab.extras.registry import EXTRAS
from gameday.lab.memory_cgroup import V1, V2, CgroupUnavailable, Mount, Reading
from gameday.lab.memory_worker import (
    CGROUP,
    SIMULATED,
    BadRequest,
    MemoryState,
    ProcessMeter,
    Regulator,
    Worker,
    WorkerCollector,
    apply_request,
    handler_for,
    join,
    read_state,
    write_state,
)
from gameday.targets import fault_ledger

MIB = 1024 * 1024
# Inside this suite's base port (35000) but on no lab port: a worker without a lab.
WORKER_PORT = 35090

MOUNTINFO_V1 = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
CGROUP_V1 = """\
9:name=systemd:/
4:memory:/process_api/abc
1:cpu,cpuacct:/
0::/
"""


def lab_at(directory: Path) -> LabConfig:
    config = LabConfig(
        directory=directory,
        ports=LabPorts.from_base(35000, {"memory_hog": WORKER_PORT}),
    )
    config.save()
    config.run.mkdir(parents=True, exist_ok=True)
    return config


def fake_v1(directory: Path, usage: int, stat: dict[str, int], limit: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "memory.usage_in_bytes").write_text(f"{usage}\n")
    (directory / "memory.limit_in_bytes").write_text(f"{limit}\n")
    (directory / "memory.stat").write_text("".join(f"{k} {v}\n" for k, v in stat.items()))
    return directory


# --- reading a cgroup as cAdvisor does -----------------------------------------------------


def test_v1_working_set_is_usage_less_inactive_file_pages(tmp_path: Path) -> None:
    stat = {"cache": 30 * MIB, "rss": 1, "total_rss": 80 * MIB, "total_inactive_file": 10 * MIB}
    path = fake_v1(tmp_path / "cg", usage=100 * MIB, stat=stat, limit=256 * MIB)
    reading = memory_cgroup.MemoryCgroup(path, V1).read()
    assert reading == Reading(usage=100 * MIB, working_set=90 * MIB, rss=80 * MIB, limit=256 * MIB)


def test_v1_working_set_never_goes_below_zero(tmp_path: Path) -> None:
    path = fake_v1(tmp_path / "cg", usage=MIB, stat={"total_inactive_file": 5 * MIB}, limit=MIB)
    assert memory_cgroup.MemoryCgroup(path, V1).read().working_set == 0


def test_v2_reads_memory_current_max_and_inactive_file(tmp_path: Path) -> None:
    path = tmp_path / "cg"
    path.mkdir()
    (path / "memory.current").write_text(f"{200 * MIB}\n")
    (path / "memory.max").write_text(f"{256 * MIB}\n")
    (path / "memory.stat").write_text(
        f"anon {150 * MIB}\nfile {50 * MIB}\ninactive_file {20 * MIB}\n"
    )
    reading = memory_cgroup.MemoryCgroup(path, V2).read()
    assert reading == Reading(
        usage=200 * MIB, working_set=180 * MIB, rss=150 * MIB, limit=256 * MIB
    )
    (path / "memory.max").write_text("max\n")
    assert memory_cgroup.MemoryCgroup(path, V2).read().limit == 0  # unlimited, as cAdvisor


def test_the_memory_mount_is_found_in_mountinfo() -> None:
    assert memory_cgroup.memory_mount(MOUNTINFO_V1) == Mount(V1, Path("/sys/fs/cgroup/memory"))
    only_v2 = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"
    assert memory_cgroup.memory_mount(only_v2) == Mount(V2, Path("/sys/fs/cgroup"))
    assert memory_cgroup.memory_mount("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n") is None


def test_own_cgroup_and_its_directory_under_a_sub_tree_mount() -> None:
    assert memory_cgroup.own_cgroup(CGROUP_V1, V1) == "/process_api/abc"
    assert memory_cgroup.own_cgroup("0::/user.slice/session-1.scope\n", V2) == (
        "/user.slice/session-1.scope"
    )
    with pytest.raises(CgroupUnavailable):
        memory_cgroup.own_cgroup("0::/\n", V1)
    mount = Mount(V1, Path("/sys/fs/cgroup/memory"), root="/docker/ctr")
    assert memory_cgroup.cgroup_dir(mount, "/docker/ctr/app") == Path("/sys/fs/cgroup/memory/app")
    plain = Mount(V1, Path("/sys/fs/cgroup/memory"))
    assert memory_cgroup.cgroup_dir(plain, "/a/b") == Path("/sys/fs/cgroup/memory/a/b")


def test_create_makes_the_lab_cgroup_under_its_own_with_the_limit(tmp_path: Path) -> None:
    own = tmp_path / "memory" / "process_api" / "abc"
    own.mkdir(parents=True)
    mountinfo = f"35 31 0:32 / {tmp_path / 'memory'} rw - cgroup cgroup rw,memory\n"
    cgroup = memory_cgroup.create(
        "gameday-lab-1/memory-worker", 256 * MIB, mountinfo=mountinfo, proc_cgroup=CGROUP_V1
    )
    assert cgroup == memory_cgroup.MemoryCgroup(own / "gameday-lab-1" / "memory-worker", V1)
    assert (cgroup.path / "memory.limit_in_bytes").read_text() == str(256 * MIB)


def test_create_v2_hands_the_memory_controller_down(tmp_path: Path) -> None:
    root = tmp_path / "unified"
    own = root / "lab.scope"
    own.mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (own / "cgroup.subtree_control").write_text("\n")
    (own / "gameday-lab-1").mkdir()
    (own / "gameday-lab-1" / "cgroup.subtree_control").write_text("\n")
    mountinfo = f"30 23 0:26 / {root} rw - cgroup2 cgroup2 rw\n"
    cgroup = memory_cgroup.create(
        "gameday-lab-1/memory-worker", 64 * MIB, mountinfo=mountinfo, proc_cgroup="0::/lab.scope\n"
    )
    assert cgroup.version == V2
    assert (own / "cgroup.subtree_control").read_text() == "+memory"
    assert (cgroup.path / "memory.max").read_text() == str(64 * MIB)


@pytest.mark.parametrize(
    ("mountinfo", "says"),
    [
        ("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", "no cgroup hierarchy"),
        ("30 23 0:26 / {root} rw - cgroup2 cgroup2 rw\n", "no memory controller"),
        ("35 31 0:32 / {root} rw - cgroup cgroup rw,memory\n", "is not visible"),
    ],
)
def test_create_says_why_there_is_no_memory_cgroup(
    tmp_path: Path, mountinfo: str, says: str
) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu pids\n")
    with pytest.raises(CgroupUnavailable, match=says):
        memory_cgroup.create(
            "lab/worker", MIB, mountinfo=mountinfo.format(root=tmp_path), proc_cgroup=CGROUP_V1
        )


def test_create_refuses_when_it_cannot_make_the_cgroup(tmp_path: Path) -> None:
    own = tmp_path / "process_api" / "abc"
    own.mkdir(parents=True)
    (own / "lab").write_text("a file where the cgroup would go")
    mountinfo = f"35 31 0:32 / {tmp_path} rw - cgroup cgroup rw,memory\n"
    with pytest.raises(CgroupUnavailable, match="cannot create a memory cgroup"):
        memory_cgroup.create("lab/worker", MIB, mountinfo=mountinfo, proc_cgroup=CGROUP_V1)


def test_remove_is_idempotent_and_names_what_still_holds_processes(tmp_path: Path) -> None:
    assert memory_cgroup.remove(tmp_path / "gone" / "worker", 2, wait_s=0) == []
    busy = tmp_path / "lab" / "worker"
    busy.mkdir(parents=True)
    (busy / "cgroup.procs").write_text("4242\n")
    [left] = memory_cgroup.remove(busy, 2, wait_s=0)
    assert str(busy) in left and "4242" in left
    (busy / "cgroup.procs").unlink()
    assert memory_cgroup.remove(busy, 2, wait_s=0) == []
    assert not (tmp_path / "lab").exists()


# --- the simulated fallback ----------------------------------------------------------------


def test_prepare_falls_back_to_the_simulation_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = lab_at(tmp_path)
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n")
    monkeypatch.setattr(memory_cgroup, "PROC_MOUNTINFO", mountinfo)
    memory.prepare(config)
    state = read_state(config)
    assert state is not None and state.simulated and state.mode == SIMULATED
    assert state.limit_bytes == 256 * MIB and "no cgroup hierarchy" in state.reason
    memory.release(config)
    memory.release(config)  # idempotent
    assert read_state(config) is None


def test_prepare_records_the_cgroup_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = lab_at(tmp_path / "lab")
    (tmp_path / "memory" / "process_api" / "abc").mkdir(parents=True)
    (tmp_path / "mountinfo").write_text(
        f"35 31 0:32 / {tmp_path / 'memory'} rw - cgroup cgroup rw,memory\n"
    )
    (tmp_path / "cgroup").write_text(CGROUP_V1)
    monkeypatch.setattr(memory_cgroup, "PROC_MOUNTINFO", tmp_path / "mountinfo")
    monkeypatch.setattr(memory_cgroup, "PROC_CGROUP", tmp_path / "cgroup")
    memory.prepare(config)
    state = read_state(config)
    expected = tmp_path / "memory/process_api/abc/gameday-lab-35090/memory-worker"
    assert state == MemoryState(
        mode=CGROUP, limit_bytes=256 * MIB, cgroup=str(expected), version=V1, levels=2
    )


def test_a_simulated_worker_meters_its_rss_against_the_configured_limit(tmp_path: Path) -> None:
    statm = tmp_path / "statm"
    statm.write_text(f"9000 {10 * MIB // os.sysconf('SC_PAGE_SIZE')} 300 1 0 800 0\n")
    reading = ProcessMeter(64 * MIB, statm=statm).read()
    assert reading == Reading(usage=10 * MIB, working_set=10 * MIB, rss=10 * MIB, limit=64 * MIB)


def test_a_cgroup_the_worker_cannot_join_makes_it_simulated_saying_why(tmp_path: Path) -> None:
    state = MemoryState(mode=CGROUP, limit_bytes=64 * MIB, cgroup=str(tmp_path / "gone"), levels=2)
    meter, joined = join(state, os.getpid())
    assert isinstance(meter, ProcessMeter) and joined.simulated
    assert joined.limit_bytes == 64 * MIB and "could not join" in joined.reason


def series(worker: Worker) -> dict[str, tuple[dict[str, str], float]]:
    registry = CollectorRegistry()
    registry.register(WorkerCollector(worker))
    found: dict[str, tuple[dict[str, str], float]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            found[sample.name] = (sample.labels, sample.value)
    return found


def test_simulated_series_carry_cadvisor_names_and_simulated_true() -> None:
    state = MemoryState(mode=SIMULATED, limit_bytes=64 * MIB, reason="test")
    worker = Worker(state, Regulator(FakeMeter(limit=64 * MIB, overhead=8 * MIB)))
    found = series(worker)
    labels = {"namespace": "lab", "pod": "memory-worker-0", "container": "worker"}
    assert found["container_memory_working_set_bytes"] == ({**labels, "simulated": "true"}, 8 * MIB)
    assert found["container_spec_memory_limit_bytes"] == ({**labels, "simulated": "true"}, 64 * MIB)
    assert found["container_memory_rss"][0] == {**labels, "simulated": "true"}
    assert found["lab_memory_simulated"][1] == 1.0
    cgroup = Worker(MemoryState(mode=CGROUP, limit_bytes=64 * MIB), worker.regulator)
    assert series(cgroup)["container_memory_working_set_bytes"][0] == labels
    assert series(cgroup)["lab_memory_simulated"][1] == 0.0


# --- growth bounds -------------------------------------------------------------------------


class FakeMeter:
    """Working set = what the process needs besides the ballast + the ballast."""

    def __init__(self, limit: int, overhead: int) -> None:
        self.limit = limit
        self.overhead = overhead
        self.regulator: Regulator | None = None

    def read(self) -> Reading:
        ballast = self.regulator.ballast.size if self.regulator else 0
        used = self.overhead + ballast
        return Reading(usage=used, working_set=used, rss=used, limit=self.limit)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def regulated(limit: int, overhead: int, **options: int) -> tuple[Regulator, FakeMeter, FakeClock]:
    meter, clock = FakeMeter(limit, overhead), FakeClock()
    regulator = Regulator(meter, clock=clock, **options)  # type: ignore[arg-type]
    meter.regulator = regulator
    return regulator, meter, clock


def test_growth_is_bounded_by_the_rate_and_stops_under_the_cap() -> None:
    limit = 64 * MIB
    regulator, meter, clock = regulated(
        limit, 4 * MIB, baseline_bytes=0, rate_bytes_per_s=16 * MIB, chunk_bytes=MIB
    )
    assert regulator.set_percent(100) == int(limit * 0.97)  # held at 97 %
    worst = 0
    for _ in range(200):
        clock.now += 0.05
        regulator.step()
        working_set = meter.read().working_set
        worst = max(worst, working_set)
        # never faster than 16 MiB/s (plus at most one chunk of burst)
        assert regulator.ballast.size <= 16 * MIB * clock.now + MIB
    assert worst <= int(limit * 0.97)
    assert regulator.settled
    assert meter.read().working_set >= int(limit * 0.97) - 2 * MIB


def test_the_cap_sheds_ballast_when_the_rest_of_the_process_grows() -> None:
    limit = 64 * MIB
    regulator, meter, clock = regulated(
        limit, 4 * MIB, baseline_bytes=0, rate_bytes_per_s=64 * MIB, chunk_bytes=2 * MIB
    )
    regulator.set_percent(97)
    for _ in range(100):
        clock.now += 0.05
        regulator.step()
    meter.overhead += 5 * MIB  # something else in the process took memory
    clock.now += 0.05
    regulator.step()
    assert meter.read().working_set <= int(limit * 0.97)
    assert not regulator.settled


def test_reset_shrinks_to_the_baseline_at_once() -> None:
    regulator, meter, clock = regulated(
        128 * MIB, 2 * MIB, baseline_bytes=16 * MIB, rate_bytes_per_s=512 * MIB, chunk_bytes=4 * MIB
    )
    regulator.set_target(100 * MIB)
    for _ in range(100):
        clock.now += 0.05
        regulator.step()
    assert meter.read().working_set >= 99 * MIB
    regulator.reset()
    clock.now += 0.05
    regulator.step()
    assert meter.read().working_set <= 16 * MIB + 2 * MIB
    assert regulator.target == 16 * MIB


def test_control_requests_are_checked() -> None:
    regulator, _, _ = regulated(64 * MIB, MIB)
    apply_request(regulator, {"working_set_mib": 10})
    assert regulator.target == 10 * MIB
    apply_request(regulator, {"percent_of_limit": 50})
    assert regulator.target == 32 * MIB
    apply_request(regulator, {"working_set_mib": 1000})
    assert regulator.target == int(64 * MIB * 0.97)
    for bad in (
        {"percent_of_limit": 101},
        {"percent_of_limit": -1},
        {"working_set_mib": -5},
        {"working_set_mib": "lots"},
        {"percent_of_limit": True},
        {"size": 3},
        {"working_set_mib": 1, "percent_of_limit": 2},
        [],
    ):
        with pytest.raises(BadRequest):
            apply_request(regulator, bad)


@contextlib.contextmanager
def control_server(worker: Worker) -> Iterator[str]:
    registry = CollectorRegistry()
    registry.register(WorkerCollector(worker))
    server = ThreadingHTTPServer((HOST, 0), handler_for(worker, registry))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_control_endpoint_sets_reads_and_resets_the_target() -> None:
    regulator, _, _ = regulated(64 * MIB, MIB, baseline_bytes=4 * MIB)
    worker = Worker(MemoryState(mode=SIMULATED, limit_bytes=64 * MIB, reason="test"), regulator)
    with control_server(worker) as url:
        put = requests.put(url + "/working-set", json={"percent_of_limit": 50}, timeout=5)
        assert put.status_code == 200 and put.json()["target_bytes"] == 32 * MIB
        post = requests.post(url + "/working-set", json={"working_set_mib": 20}, timeout=5)
        assert post.json()["target_bytes"] == 20 * MIB
        bad = requests.put(url + "/working-set", json={"percent_of_limit": 150}, timeout=5)
        assert bad.status_code == 400 and "between 0 and 100" in bad.json()["error"]
        junk = requests.put(url + "/working-set", data=b"{", timeout=5)
        assert junk.status_code == 400 and "not JSON" in junk.json()["error"]
        state = requests.get(url + "/working-set", timeout=5).json()
        assert state["simulated"] is True and state["reason"] == "test"
        assert state["cap_bytes"] == int(64 * MIB * 0.97)
        assert requests.delete(url + "/working-set", timeout=5).json()["target_bytes"] == 4 * MIB
        metrics = requests.get(url + "/metrics", timeout=5).text
        assert 'container_memory_working_set_bytes{container="worker"' in metrics
        assert requests.get(url + "/other", timeout=5).status_code == 404


# --- the part and the faults, with a real worker -------------------------------------------


def test_the_part_is_registered_with_its_worker_on_its_port(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    extra = EXTRAS["memory"]
    [part] = extra.parts(config)
    assert part.name == "memory-worker"
    [program] = part.programs
    assert program.name == "memory-worker-0"
    assert program.command[-3:] == [
        "gameday.lab.memory_worker",
        "--lab-config",
        str(config.config_file),
    ]
    [job] = extra.scrape_jobs(config)
    assert [t.port for t in job.targets] == [WORKER_PORT]
    assert job.settings == {"honor_labels": True}


@contextlib.contextmanager
def running_worker(config: LabConfig) -> Iterator[subprocess.Popen[bytes]]:
    config.logs.mkdir(parents=True, exist_ok=True)
    log = config.logs / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gameday.lab.memory_worker",
                "--lab-config",
                str(config.config_file),
                "--baseline-mib",
                "8",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                requests.get(f"http://{HOST}:{WORKER_PORT}/working-set", timeout=1)
                break
            except requests.RequestException:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def cgroup_writable() -> bool:
    try:
        cgroup = memory_cgroup.create(f"gameday-probe-{os.getpid()}", 64 * MIB)
    except CgroupUnavailable:
        return False
    memory_cgroup.remove(cgroup.path, 1)
    return True


def test_grow_records_its_revert_and_release_clears_it_simulated(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    write_state(config, MemoryState(mode=SIMULATED, limit_bytes=96 * MIB, reason="test"))
    configuration = {"gameday_lab_dir": str(tmp_path)}
    with running_worker(config):
        grown = actions.grow_working_set(percent=97, configuration=configuration)
        assert grown["simulated"] is True
        assert 0.95 <= grown["ratio"] <= 0.97
        [entry] = fault_ledger(config).entries()
        assert entry["revert"]["func"] == "release_memory"
        released = actions.release_memory(configuration=configuration)
        assert released["ratio"] is not None and released["ratio"] < 0.8
        assert fault_ledger(config).entries() == []
        assert actions.release_memory(configuration=configuration)["ratio"] < 0.8


@pytest.mark.skipif(not cgroup_writable(), reason="no writable memory cgroup on this machine")
def test_a_real_cgroup_holds_the_worker_and_is_removed_at_release(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    memory.prepare(config)
    state = read_state(config)
    assert state is not None and state.mode == CGROUP, state
    configuration = {"gameday_lab_dir": str(tmp_path)}
    try:
        with running_worker(config) as process:
            cgroup = memory_cgroup.MemoryCgroup(Path(state.cgroup), state.version)
            assert cgroup.pids() == [process.pid]
            grown = actions.grow_working_set(percent=97, configuration=configuration)
            reading = cgroup.read()
            assert grown["simulated"] is False
            assert 0.95 * reading.limit <= reading.working_set <= 0.97 * reading.limit
            metrics = requests.get(f"http://{HOST}:{WORKER_PORT}/metrics", timeout=5).text
            assert "simulated" not in metrics.split("lab_memory_simulated")[0]
            actions.release_memory(configuration=configuration)
            assert cgroup.read().working_set < 0.8 * reading.limit
    finally:
        memory.release(config)
    assert not Path(state.cgroup).parent.exists()
    assert read_state(config) is None


def test_grow_refuses_an_unsafe_percent_before_touching_anything(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    for percent in (0, 98, 150):
        with pytest.raises(ActivityFailed, match="97"):
            actions.grow_working_set(
                percent=percent, configuration={"gameday_lab_dir": str(tmp_path)}
            )
    assert fault_ledger(config).entries() == []


def test_grow_says_how_to_start_the_part_and_release_has_nothing_to_do(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    configuration = {"gameday_lab_dir": str(tmp_path)}
    with pytest.raises(ActivityFailed, match="gameday lab start memory"):
        actions.grow_working_set(configuration=configuration)
    assert fault_ledger(config).entries() == []
    released = actions.release_memory(configuration=configuration)
    assert "not running" in released["detail"]
    assert json.loads(json.dumps(released))["ratio"] is None
