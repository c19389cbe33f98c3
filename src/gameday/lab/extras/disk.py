"""The disk part: a small filesystem the lab owns, watched by Prometheus' node exporter.

As root, where mounting works, `prepare` mounts a 64 MiB tmpfs at `LAB_DIR/disk` (not
under `data/`, which `lab up` wipes) and Debian's `prometheus-node-exporter` exports its
filesystem figures (`node_filesystem_avail_bytes{mountpoint=…}` …). Elsewhere the part
is **simulated**: a plain directory with a fixed 64 MiB quota, its usage the size of the
files in it, exported under node exporter's names by `gameday.lab.disk_exporter` with
`simulated="true"` on every series and `lab_disk_simulated 1`.

`prepare` records which it chose in `run/disk.json`; the exporter and the faults
(`gameday.chaos.disk`) read it there. `release` unmounts (lazily when busy) and removes
the directory, at `lab down` and after a crash; a mount left by a crashed lab is
replaced at the next `prepare`.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from gameday.errors import LabError
from gameday.lab.config import HOST, LabConfig
from gameday.lab.extras.base import Extra, ScrapeJob, ScrapeTarget
from gameday.lab.supervisor import Part, Program

NAME = "disk"
PROGRAM = "node-exporter"
JOB = "disk"
NODE_EXPORTER = "prometheus-node-exporter"
APT = "apt-get install -y --no-install-recommends"
SIZE_BYTES = 64 * 1024 * 1024
DEVICE = "lab-disk"  # the tmpfs' source: node exporter's `device` label
VOLUME = "lab-data"  # a target label: which part of the lab the series are about
FILL_FILE = "fill.bin"
CHUNK_BYTES = 1024 * 1024
MIN_PERCENT = 1.0
MAX_PERCENT = 99.0
MOUNT_TIMEOUT_S = 10
UNMOUNT_TRIES = 5

TMPFS = "tmpfs"
SIMULATED = "simulated"


@dataclass(frozen=True)
class DiskState:
    """What `prepare` set up: a real tmpfs or the simulation, where, and how big.

    :param reason: why the part is simulated (empty for a real mount)
    """

    mode: str
    path: str
    size_bytes: int
    reason: str = ""

    @property
    def simulated(self) -> bool:
        return self.mode == SIMULATED

    @property
    def fill_path(self) -> Path:
        return Path(self.path) / FILL_FILE


@dataclass(frozen=True)
class Usage:
    """A filesystem's figures as node exporter reports them (bytes)."""

    size: int
    free: int
    avail: int

    @property
    def used(self) -> int:
        return self.size - self.free

    @property
    def used_fraction(self) -> float:
        return self.used / self.size if self.size else 0.0


def disk_dir(config: LabConfig) -> Path:
    # The lab directory's real path (node exporter reports the mount point as the kernel
    # lists it); `disk` itself is never followed: a link there is removed, not its target.
    return Path(os.path.realpath(config.directory)) / "disk"


def state_file(config: LabConfig) -> Path:
    return config.run / "disk.json"


def read_state(config: LabConfig) -> DiskState | None:
    """What the last `prepare` set up; None when the part is not prepared."""
    try:
        document = json.loads(state_file(config).read_text())
        return DiskState(
            mode=str(document["mode"]),
            path=str(document["path"]),
            size_bytes=int(document["size_bytes"]),
            reason=str(document.get("reason", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_state(config: LabConfig, state: DiskState) -> None:
    path = state_file(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(asdict(state)) + "\n")
    temporary.replace(path)


def directory_bytes(path: Path) -> int:
    """The size of every regular file under `path` (the simulation's usage)."""
    total = 0
    try:
        entries = list(os.scandir(path))
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                total += directory_bytes(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue  # removed while we looked
    return total


def usage(state: DiskState) -> Usage:
    """The lab disk's size, free and available bytes: statvfs on the tmpfs, or the
    quota less the files' sizes when simulated."""
    if state.simulated:
        free = max(0, state.size_bytes - directory_bytes(Path(state.path)))
        return Usage(size=state.size_bytes, free=free, avail=free)
    stat = os.statvfs(state.path)
    return Usage(
        size=stat.f_blocks * stat.f_frsize,
        free=stat.f_bfree * stat.f_frsize,
        avail=stat.f_bavail * stat.f_frsize,
    )


def check_percent(percent: object) -> float:
    """The usage to fill to, as a number between MIN_PERCENT and MAX_PERCENT; ValueError
    naming the range otherwise (100 % cannot be reached: the filesystem refuses first)."""
    if isinstance(percent, bool) or not isinstance(percent, int | float):
        raise ValueError(f"percent is {percent!r}: give a number between 1 and 99")
    if not MIN_PERCENT <= percent <= MAX_PERCENT:  # NaN fails this too
        raise ValueError(
            f"percent is {percent:g}: choose a usage between {MIN_PERCENT:g} and "
            f"{MAX_PERCENT:g} (per cent of the lab disk's size)"
        )
    return float(percent)


def bytes_to_fill(current: Usage, percent: float) -> int:
    """How many bytes to write so that usage reaches `percent` of the size: none when it
    is there already, never more than is available."""
    target = math.ceil(current.size * percent / 100)
    return max(0, min(target - current.used, current.avail))


@dataclass(frozen=True)
class FillResult:
    written: int
    before: Usage
    after: Usage
    full: bool  # the filesystem refused a write (ENOSPC)


def fill(state: DiskState, percent: float, *, chunk: int = CHUNK_BYTES) -> FillResult:
    """Append zeros to the fill file, a chunk at a time, until usage reaches `percent`.

    Bounded: at most size/chunk + 2 writes (each re-reads the usage, so page rounding
    on tmpfs and other writers are allowed for), and it stops when the disk is full."""
    before = usage(state)
    written = 0
    full = False
    zeros = bytes(chunk)
    with state.fill_path.open("ab") as handle:
        for _ in range(before.size // chunk + 2):
            need = bytes_to_fill(usage(state), percent)
            if need <= 0:
                break
            block = min(need, chunk)
            try:
                handle.write(zeros[:block])
                handle.flush()
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                full = True
                break
            written += block
    return FillResult(written=written, before=before, after=usage(state), full=full)


def free(state: DiskState) -> int:
    """Remove the fill file; the bytes it held (0 when there was none)."""
    try:
        size = state.fill_path.stat().st_size
    except OSError:
        return 0
    state.fill_path.unlink(missing_ok=True)
    return size


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, timeout=MOUNT_TIMEOUT_S, check=False
    )


def _unmount(path: Path) -> None:
    """Unmount every mount stacked at `path` (lazily when busy); LabError if one stays."""
    for _ in range(UNMOUNT_TRIES):
        if not os.path.ismount(path):
            return
        if _run(["umount", str(path)]).returncode != 0:
            _run(["umount", "-l", str(path)])
    if os.path.ismount(path):
        raise LabError(
            f"{path} is still mounted after {UNMOUNT_TRIES} tries",
            part=NAME,
            hint=f"unmount it by hand: umount -l {path}",
        )


def _mount(path: Path, size_bytes: int) -> str:
    """Mount the tmpfs; the reason it could not be mounted ('' when it was)."""
    if os.geteuid() != 0:
        return "not running as root: the lab cannot mount a filesystem"
    if shutil.which("mount") is None:
        return "no mount command on PATH"
    options = f"size={size_bytes},mode=0755,nosuid,nodev,noexec"
    try:
        done = _run(["mount", "-t", "tmpfs", "-o", options, DEVICE, str(path)])
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"mount failed: {exc}"
    if done.returncode != 0 or not os.path.ismount(path):
        return f"mount failed: {(done.stderr or done.stdout).strip() or done.returncode}"
    return ""


def _reset_directory(path: Path) -> None:
    """An empty plain directory at `path` (nothing mounted there any more)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def prepare(config: LabConfig) -> None:
    """Set up the lab disk afresh (idempotent): unmount what a crashed lab left, then
    mount the tmpfs, or fall back to the simulated quota when mounting is not possible."""
    path = disk_dir(config)
    _unmount(path)
    _reset_directory(path)
    if os.geteuid() == 0 and shutil.which(NODE_EXPORTER) is None:
        raise LabError(
            f"{NODE_EXPORTER} not found on PATH",
            part=NAME,
            hint=f"install it: {APT} {NODE_EXPORTER}",
        )
    reason = _mount(path, SIZE_BYTES)
    mode = SIMULATED if reason else TMPFS
    write_state(config, DiskState(mode=mode, path=str(path), size_bytes=SIZE_BYTES, reason=reason))


def release(config: LabConfig) -> None:
    """Unmount the lab disk (lazily if busy) and remove it; idempotent."""
    path = disk_dir(config)
    _unmount(path)
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)
    state_file(config).unlink(missing_ok=True)


def node_exporter_command(config: LabConfig) -> list[str]:
    """Node exporter 1.5.0 with the filesystem collector only, on 127.0.0.1."""
    return [
        NODE_EXPORTER,
        f"--web.listen-address={HOST}:{config.ports.node_exporter}",
        "--collector.disable-defaults",
        "--collector.filesystem",
        "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys)($|/)",
        "--web.disable-exporter-metrics",
        "--log.level=warn",
    ]


def parts(config: LabConfig) -> list[Part]:
    return [
        Part(
            name=NAME,
            binary=sys.executable,
            install_hint=f"reinstall gameday; the real disk needs {APT} {NODE_EXPORTER}",
            programs=(
                Program(
                    # Becomes node exporter (exec) on a real mount; else the simulation.
                    name=PROGRAM,
                    command=[
                        sys.executable,
                        "-m",
                        "gameday.lab.disk_exporter",
                        "--lab-config",
                        str(config.config_file),
                    ],
                    address=f"{HOST}:{config.ports.node_exporter}",
                    priority=300,
                ),
            ),
        )
    ]


def mountpoint_filter(config: LabConfig) -> dict[str, object]:
    """Keep the lab mount's series (and those without a mount point), drop the host's."""
    return {
        "source_labels": ["mountpoint"],
        "regex": "|" + re.escape(str(disk_dir(config))),
        "action": "keep",
    }


def scrape_jobs(config: LabConfig) -> list[ScrapeJob]:
    return [
        ScrapeJob(
            name=JOB,
            targets=(ScrapeTarget(config.ports.node_exporter, labels={"volume": VOLUME}),),
            settings={"metric_relabel_configs": [mountpoint_filter(config)]},
        )
    ]


EXTRA = Extra(
    name=NAME,
    summary="a 64 MiB tmpfs at LAB_DIR/disk watched by node exporter (simulated when the "
    "lab cannot mount)",
    parts=parts,
    scrape_jobs=scrape_jobs,
    prepare=prepare,
    release=release,
    binaries={NODE_EXPORTER: NODE_EXPORTER},
)
