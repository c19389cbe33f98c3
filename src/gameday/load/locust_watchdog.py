"""A locustfile that makes Locust stop when the gameday process that started it dies.

gameday passes it to every Locust it starts (`locust -f theirs.py,locust_watchdog.py`).
Locust runs in its own session (so a terminal's Ctrl-C reaches gameday first): if
gameday is killed (SIGKILL, OOM), nothing would stop the load until its --run-time.
This watches the parent PID in $GAMEDAY_PARENT_PID and sends Locust SIGTERM (a clean
stop, final figures written) within a second of it going away. It runs inside the
Locust process only; the orchestrator never imports it.
"""

from __future__ import annotations

import os
import signal
from typing import Any

import gevent
from locust import events

PARENT_ENV = "GAMEDAY_PARENT_PID"
INTERVAL_S = 1.0


def _parent_alive(pid: int) -> bool:
    if os.getppid() != pid:
        return False  # re-parented: the parent is gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(pid: int) -> None:
    while _parent_alive(pid):
        gevent.sleep(INTERVAL_S)
    os.kill(os.getpid(), signal.SIGTERM)


@events.init.add_listener  # type: ignore[untyped-decorator]
def _start_watching(environment: Any, **_: Any) -> None:
    parent = os.environ.get(PARENT_ENV, "")
    if parent.isdigit():
        gevent.spawn(_watch, int(parent))
