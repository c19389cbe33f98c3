"""The memory part: a worker under a memory limit whose working set a fault can grow.

`prepare` creates a memory cgroup for the worker where the machine allows it (root on
cgroup v1, or a cgroup v2 parent that can hand the memory controller down): a child of
the cgroup gameday runs in, ``<own>/gameday-lab-<port>/memory-worker``, limited to
256 MiB. The worker (`gameday.lab.memory_worker`) moves itself into it and exports the
kernel's figures under cAdvisor's names. Elsewhere the worker is **simulated** (a
configured 256 MiB limit, its RSS as usage, `simulated="true"` on every series).

`prepare` records which it chose, and why, in `run/memory.json`; `release` (at
`lab down`, also after a crash) removes the cgroup once no process is left in it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gameday.errors import LabError
from gameday.lab import memory_cgroup
from gameday.lab.config import HOST, LabConfig
from gameday.lab.extras.base import Extra, ScrapeJob, ScrapeTarget
from gameday.lab.memory_worker import (
    CGROUP,
    LIMIT_BYTES,
    MIB,
    POD,
    SIMULATED,
    MemoryState,
    read_state,
    state_file,
    write_state,
)
from gameday.lab.supervisor import Part, Program

NAME = "memory"
GROUP = "memory-worker"
JOB = "memory-worker"
LEAF = "memory-worker"


def cgroup_name(config: LabConfig) -> str:
    """The lab's cgroup under gameday's own: one per lab (its port), the worker's inside."""
    return f"gameday-lab-{config.ports.memory_hog}/{LEAF}"


def prepare(config: LabConfig) -> None:
    """Create (or reuse) the worker's memory cgroup; record simulation when there is none."""
    try:
        cgroup = memory_cgroup.create(cgroup_name(config), LIMIT_BYTES)
        limit = cgroup.limit()
        state = MemoryState(
            mode=CGROUP,
            limit_bytes=limit,
            cgroup=str(cgroup.path),
            version=cgroup.version,
            levels=len(Path(cgroup_name(config)).parts),
        )
    except (memory_cgroup.CgroupUnavailable, OSError, ValueError) as exc:
        state = MemoryState(mode=SIMULATED, limit_bytes=LIMIT_BYTES, reason=str(exc))
    write_state(config, state)


def release(config: LabConfig) -> None:
    """Remove the lab's memory cgroup once empty (idempotent)."""
    state = read_state(config)
    if state is not None and not state.simulated and state.levels:
        left = memory_cgroup.remove(Path(state.cgroup), state.levels)
        if left:
            raise LabError(
                "the memory worker's cgroup still holds processes: " + "; ".join(left),
                part=NAME,
                hint="stop those processes, then run `gameday lab down` again",
            )
    state_file(config).unlink(missing_ok=True)


def parts(config: LabConfig) -> list[Part]:
    port = config.ports.memory_hog
    return [
        Part(
            name=GROUP,
            binary=sys.executable,
            install_hint="reinstall gameday",
            programs=(
                Program(
                    name=POD,
                    command=[
                        sys.executable,
                        "-m",
                        "gameday.lab.memory_worker",
                        "--lab-config",
                        str(config.config_file),
                    ],
                    address=f"{HOST}:{port}",
                    priority=450,
                    stop_wait_s=5,
                ),
            ),
        )
    ]


def scrape_jobs(config: LabConfig) -> list[ScrapeJob]:
    # honor_labels: the worker's namespace/pod/container labels are cAdvisor's and win.
    return [
        ScrapeJob(
            name=JOB,
            targets=(ScrapeTarget(config.ports.memory_hog),),
            settings={"honor_labels": True},
        )
    ]


EXTRA = Extra(
    name=NAME,
    summary=(
        f"a worker under a {LIMIT_BYTES // MIB} MiB memory limit (a cgroup where possible, "
        "else simulated) whose working set a fault grows; cAdvisor's container_memory_* series"
    ),
    parts=parts,
    scrape_jobs=scrape_jobs,
    prepare=prepare,
    release=release,
)
