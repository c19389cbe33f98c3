"""A memory cgroup for the lab's memory worker: finding, creating, reading and removing it.

Under a memory cgroup the worker's usage and limit are the kernel's own, read as
cAdvisor reads them for a container:

- cgroup v1: usage `memory.usage_in_bytes`, limit `memory.limit_in_bytes`,
  working set = usage - `total_inactive_file` (memory.stat), RSS `total_rss`;
- cgroup v2: usage `memory.current`, limit `memory.max`, working set = usage -
  `inactive_file`, RSS `anon`.

The working set is never below 0 (cAdvisor clamps it). The lab's cgroup is a child of
the cgroup gameday runs in (``/proc/self/cgroup``), so it needs no other privilege
than writing there: as root on a cgroup v1 machine that is the case; under cgroup v2
the parent must be able to hand the memory controller down (it cannot while it holds
processes itself), otherwise the worker runs simulated.
"""

from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass
from pathlib import Path

V1 = 1
V2 = 2
PROC_MOUNTINFO = Path("/proc/self/mountinfo")
PROC_CGROUP = Path("/proc/self/cgroup")
REMOVE_WAIT_S = 5.0


class CgroupUnavailable(Exception):
    """No writable memory cgroup here; the message says why (for the runbook and logs)."""


@dataclass(frozen=True)
class Mount:
    """Where a memory cgroup hierarchy is mounted.

    :param root: the cgroup path the mount shows at its mount point (`/` unless the
        mount is of a sub-tree, as inside some containers)
    """

    version: int
    mountpoint: Path
    root: str = "/"


def memory_mount(mountinfo: str) -> Mount | None:
    """The memory hierarchy among mounts (``/proc/self/mountinfo``'s text): cgroup v1's
    memory controller first, else the cgroup v2 mount (whether it has the memory
    controller is checked by the caller, in its `cgroup.controllers`)."""
    unified: Mount | None = None
    for line in mountinfo.splitlines():
        head, sep, tail = line.partition(" - ")
        fields, rest = head.split(), tail.split()
        if not sep or len(fields) < 5 or len(rest) < 3:
            continue
        fstype, options = rest[0], rest[2].split(",")
        mount = Mount(V1, Path(_unescape(fields[4])), _unescape(fields[3]))
        if fstype == "cgroup" and "memory" in options:
            return mount
        if fstype == "cgroup2" and unified is None:
            unified = Mount(V2, mount.mountpoint, mount.root)
    return unified


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal.
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def own_cgroup(proc_cgroup: str, version: int) -> str:
    """This process's cgroup path in the hierarchy of `version` (``/proc/self/cgroup``)."""
    for line in proc_cgroup.splitlines():
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if version == V2 and number == "0" and controllers == "":
            return path or "/"
        if version == V1 and "memory" in controllers.split(","):
            return path or "/"
    raise CgroupUnavailable(f"/proc/self/cgroup names no cgroup v{version} memory hierarchy")


def cgroup_dir(mount: Mount, path: str) -> Path:
    """The directory of cgroup `path` under its mount (a sub-tree mount shows its root)."""
    root = mount.root.rstrip("/")
    relative = path
    if root and (path == root or path.startswith(root + "/")):
        relative = path[len(root) :]
    return mount.mountpoint / relative.lstrip("/")


def _read_int(path: Path) -> int:
    text = path.read_text().strip()
    if text == "max":
        return 0  # unlimited (v2): no limit to report, as cAdvisor reports it
    return int(text)


def parse_stat(text: str) -> dict[str, int]:
    """memory.stat as numbers by name (lines `name value`)."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        try:
            values[name] = int(value)
        except ValueError:
            continue
    return values


@dataclass(frozen=True)
class Reading:
    """One reading of a container's memory, in bytes, with cAdvisor's meanings."""

    usage: int
    working_set: int
    rss: int
    limit: int


@dataclass(frozen=True)
class MemoryCgroup:
    """One memory cgroup's directory (v1 or v2)."""

    path: Path
    version: int

    @property
    def _usage_file(self) -> Path:
        return self.path / ("memory.usage_in_bytes" if self.version == V1 else "memory.current")

    @property
    def _limit_file(self) -> Path:
        return self.path / ("memory.limit_in_bytes" if self.version == V1 else "memory.max")

    def read(self) -> Reading:
        """Usage, working set (usage - inactive file pages, at least 0), RSS and limit."""
        usage = _read_int(self._usage_file)
        stat = parse_stat((self.path / "memory.stat").read_text())
        inactive = stat.get("total_inactive_file" if self.version == V1 else "inactive_file", 0)
        rss = stat.get("total_rss" if self.version == V1 else "anon", 0)
        return Reading(
            usage=usage,
            working_set=max(0, usage - inactive),
            rss=rss,
            limit=self.limit(),
        )

    def limit(self) -> int:
        """The memory limit in bytes (0: none)."""
        return _read_int(self._limit_file)

    def set_limit(self, limit_bytes: int) -> int:
        """Set the memory limit; returns it as the kernel keeps it (rounded to pages)."""
        self._limit_file.write_text(str(limit_bytes))
        return self.limit()

    def add(self, pid: int) -> None:
        """Move process `pid` (all its threads) into this cgroup."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def pids(self) -> list[int]:
        try:
            text = (self.path / "cgroup.procs").read_text()
        except FileNotFoundError:
            return []
        return [int(line) for line in text.split()]


def _enable_memory(directory: Path) -> None:
    """cgroup v2: let `directory`'s children use the memory controller."""
    control = directory / "cgroup.subtree_control"
    if "memory" in control.read_text().split():
        return
    try:
        control.write_text("+memory")
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            raise CgroupUnavailable(
                f"cgroup v2: {directory} holds processes, so it cannot hand the memory "
                "controller to a child cgroup"
            ) from exc
        raise


def create(
    leaf: str,
    limit_bytes: int,
    *,
    mountinfo: str | None = None,
    proc_cgroup: str | None = None,
) -> MemoryCgroup:
    """Create (or reuse) `<own cgroup>/<leaf>` (`leaf` may have several parts) with a memory
    limit. Raises CgroupUnavailable saying why when there is no writable memory cgroup."""
    try:
        mounts = PROC_MOUNTINFO.read_text() if mountinfo is None else mountinfo
        membership = PROC_CGROUP.read_text() if proc_cgroup is None else proc_cgroup
    except OSError as exc:
        raise CgroupUnavailable(f"cannot read /proc: {exc}") from exc
    mount = memory_mount(mounts)
    if mount is None:
        raise CgroupUnavailable("no cgroup hierarchy is mounted")
    if mount.version == V2:
        controllers = mount.mountpoint / "cgroup.controllers"
        try:
            available = controllers.read_text().split()
        except OSError as exc:
            raise CgroupUnavailable(f"cgroup v2: cannot read {controllers}: {exc}") from exc
        if "memory" not in available:
            raise CgroupUnavailable(
                f"cgroup v2 at {mount.mountpoint} has no memory controller (no cgroup v1 "
                "memory hierarchy either)"
            )
    own = cgroup_dir(mount, own_cgroup(membership, mount.version))
    if not own.is_dir():
        raise CgroupUnavailable(f"this process's memory cgroup {own} is not visible")
    try:
        directory = own
        for part in Path(leaf).parts:
            if mount.version == V2:
                _enable_memory(directory)
            directory = directory / part
            directory.mkdir(exist_ok=True)
        cgroup = MemoryCgroup(directory, mount.version)
        kept = cgroup.set_limit(limit_bytes)
    except OSError as exc:
        raise CgroupUnavailable(f"cannot create a memory cgroup under {own}: {exc}") from exc
    if not kept:
        raise CgroupUnavailable(f"{directory} did not keep the memory limit {limit_bytes}")
    return cgroup


def remove(directory: Path, levels: int, *, wait_s: float = REMOVE_WAIT_S) -> list[str]:
    """Remove the cgroup `directory` and its `levels - 1` parents once empty (idempotent);
    the cgroups that still hold processes after `wait_s`, with their PIDs."""
    left: list[str] = []
    current = directory
    for _ in range(levels):
        deadline = time.monotonic() + wait_s
        while True:
            try:
                os.rmdir(current)
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                    pids = MemoryCgroup(current, V1).pids()
                    left.append(f"{current} ({exc.strerror}; pids {pids or 'none'})")
                    return left
                time.sleep(0.1)
        current = current.parent
    return left
