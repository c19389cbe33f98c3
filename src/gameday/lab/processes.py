"""Finding and stopping the lab's processes by PID, even after the supervisor crashed.

Every process the lab starts inherits ``GAMEDAY_LAB_ID=<lab directory>`` in its
environment, so the lab can find exactly its own processes in /proc and stop
them by PID, never by name.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import time
from pathlib import Path

LAB_ID_ENV = "GAMEDAY_LAB_ID"


def lab_pids(lab_id: str) -> list[int]:
    """PIDs of live processes whose environment carries this lab's marker."""
    marker = f"{LAB_ID_ENV}={lab_id}".encode()
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0") and not _is_zombie(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # The state follows the parenthesised command name, which may contain spaces.
    return stat.rsplit(")", 1)[1].split()[0] in {"Z", "X"}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return not _is_zombie(pid)


def terminate(pids: list[int], *, grace_s: float = 5.0) -> list[int]:
    """Continue (paused processes ignore SIGTERM), terminate, then kill what is left.

    Returns the PIDs that had to be killed with SIGKILL.
    """
    for sig in (signal.SIGCONT, signal.SIGTERM):
        for pid in pids:
            _signal(pid, sig)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.1)
    killed = [pid for pid in pids if alive(pid)]
    for pid in killed:
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and any(alive(pid) for pid in killed):
        time.sleep(0.05)
    return killed


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something listens on host:port (binding fails)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def start_ticks(pid: int) -> int | None:
    """The process' start time in clock ticks since boot: with the PID, a unique identity."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def record_pids(path: Path, pids: dict[str, int]) -> None:
    """Remember the lab's PIDs with their start times.

    Some programs (redis-server) overwrite their environment with their process
    title, which hides the lab marker; the record still finds them.
    """
    known = _read_record(path)
    for name, pid in pids.items():
        ticks = start_ticks(pid) if pid else None
        if ticks is not None:
            known[f"{name}:{pid}"] = [pid, ticks]
    live = {key: value for key, value in known.items() if start_ticks(value[0]) == value[1]}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(live))
    temporary.replace(path)


def recorded_pids(path: Path) -> list[int]:
    """Recorded PIDs that still belong to the process that was recorded."""
    return sorted(pid for pid, ticks in _read_record(path).values() if start_ticks(pid) == ticks)


def _read_record(path: Path) -> dict[str, list[int]]:
    try:
        record: dict[str, list[int]] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return record
