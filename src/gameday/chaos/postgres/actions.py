"""Connection exhaustion on the lab's PostgreSQL: a runaway client holds every slot.

`exhaust_connections` has the part's connection holder (a supervised lab process,
`gameday.lab.postgres_holder`) open idle sessions as the role ``batch_job`` until
PostgreSQL refuses more ("sorry, too many clients already"): every slot but the three
reserved for superusers is taken, so operators and the exporter still get in. The
gateway's own sessions are ended first, as a pool recycle or a restart would end them,
so it has to connect into the full server; while the holder fills the slots, the
``gateway`` role is refused new sessions (CONNECTION LIMIT 0) so the holder gets every
slot, and the limit is lifted as soon as it holds them.

`release_connections` (the revert, recorded in the fault ledger before the fault acts,
and the runbook's remediation) withdraws the holder's order, terminates the
``batch_job`` sessions and lifts the gateway role's limit; it is idempotent. The
holder's order is a file the holder reads, so the fault outlives the run that applied
it only until the next run reverts it from the ledger (also after a SIGKILL).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.revert import lab_and_ledger, revert_for
from gameday.context import run_context
from gameday.lab.config import LabConfig
from gameday.lab.extras.postgres import (
    BATCH_ROLE,
    GATEWAY_ROLE,
    HOLDER_GROUP,
    MAX_CONNECTIONS,
    SERVER_GROUP,
    admin_sql,
    clear_order,
    read_status,
    write_order,
)
from gameday.lab.supervisor import SupervisorClient

__all__ = ["exhaust_connections", "release_connections"]
logger = logging.getLogger("gameday.chaos.postgres.actions")
MODULE = __name__
HOLD_TIMEOUT_S = 15.0
POLL_S = 0.1
# Connection failures of the admin session: the server is not there.
UNREACHABLE = (OSError, TimeoutError)

IN_USE = (
    "SELECT count(*) AS in_use, current_setting('max_connections')::int AS max"
    " FROM pg_stat_activity WHERE backend_type = 'client backend'"
)
TERMINATE = (
    "SELECT count(pg_terminate_backend(pid)) AS ended FROM pg_stat_activity"
    " WHERE usename = '{role}' AND pid <> pg_backend_pid()"
)


def _running(supervisor: SupervisorClient) -> set[str]:
    return {info["group"] for info in supervisor.processes() if info["statename"] == "RUNNING"}


def _postgres_runs(lab: LabConfig) -> bool | None:
    """Whether the part's server runs (None: the lab's supervisor does not answer)."""
    supervisor = SupervisorClient(lab.supervisor_url, timeout=3)
    if not supervisor.reachable():
        return None
    return SERVER_GROUP in _running(supervisor)


def _wait_for_holder(lab: LabConfig, order_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + HOLD_TIMEOUT_S
    while time.monotonic() < deadline:
        status = read_status(lab)
        if status is not None and status.get("order") == order_id:
            if status.get("state") == "failed":
                raise ActivityFailed(f"the connection holder failed: {status.get('error')}")
            return status
        time.sleep(POLL_S)
    raise ActivityFailed(
        f"the connection holder did not take the connections within {HOLD_TIMEOUT_S:.0f}s: "
        f"see {lab.logs / 'postgres-holder.log'}"
    )


def exhaust_connections(
    connections: int | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Exhaust PostgreSQL's connections: a runaway client (role `batch_job`) holds idle
    sessions in every slot a client may use, and the gateway's sessions are ended, so
    its new ones are refused ("sorry, too many clients already") until
    `release_connections`.

    `connections` caps how many sessions the holder opens (default: every free slot;
    fewer leaves room, a partial exhaustion). Needs the `postgres` part started (the
    experiment's `lab-parts` control). Returns how many sessions are held and how many
    of `max_connections` are in use.
    """
    if connections is not None and not 1 <= connections <= MAX_CONNECTIONS:
        raise ActivityFailed(
            f"connections is {connections}: choose 1 to {MAX_CONNECTIONS}, or leave it out "
            "to take every free slot"
        )
    lab, ledger = lab_and_ledger(configuration)
    running = _running(SupervisorClient(lab.supervisor_url))
    missing = [group for group in (SERVER_GROUP, HOLDER_GROUP) if group not in running]
    if missing:
        raise ActivityFailed(
            f"the postgres part is not running ({', '.join(missing)} stopped): start it "
            "first, with the experiment's lab-parts control (parts: [postgres]) or "
            "`gameday lab start postgres`"
        )
    order_id = uuid.uuid4().hex[:12]
    revert = revert_for(MODULE, "release_connections", configuration)
    with ledger.applying(f"postgres connections held by {BATCH_ROLE}", revert):
        try:
            ended = admin_sql(
                lab,
                f"ALTER ROLE {GATEWAY_ROLE} CONNECTION LIMIT 0",
                TERMINATE.format(role=GATEWAY_ROLE),
            )[1][0]["ended"]
        except Exception as exc:
            raise ActivityFailed(f"cannot reach PostgreSQL as its superuser: {exc}") from exc
        write_order(lab, order_id, connections)
        status = _wait_for_holder(lab, order_id)
        usage = admin_sql(lab, f"ALTER ROLE {GATEWAY_ROLE} CONNECTION LIMIT -1", IN_USE)[1][0]
    held = int(status.get("held", 0))
    detail = (
        f"{BATCH_ROLE} holds {held} idle sessions: {usage['in_use']} of "
        f"{usage['max']} connections in use; ended {ended} gateway sessions"
    )
    run_context(configuration).record(
        "fault_applied",
        detail,
        fault="exhaust_connections",
        held=held,
        in_use=usage["in_use"],
        max_connections=usage["max"],
    )
    logger.info(detail)
    return {"held": held, "in_use": usage["in_use"], "max_connections": usage["max"]}


def release_connections(
    configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Release the connections `exhaust_connections` took (idempotent): withdraw the
    holder's order, terminate the `batch_job` sessions (the runbook's "kill the idle
    sessions") and lift the gateway role's connection limit.

    With the server stopped there is nothing to release: its sessions went with it.
    Returns how many sessions were terminated.
    """
    lab, ledger = lab_and_ledger(configuration)
    clear_order(lab)
    ended = 0
    try:
        rows = admin_sql(
            lab, TERMINATE.format(role=BATCH_ROLE), f"ALTER ROLE {GATEWAY_ROLE} CONNECTION LIMIT -1"
        )
        ended = int(rows[0][0]["ended"])
    except UNREACHABLE as exc:
        if _postgres_runs(lab):
            raise ActivityFailed(
                f"PostgreSQL runs but does not answer its superuser: {exc}; the "
                f"{BATCH_ROLE} sessions may still hold the connections"
            ) from exc
        logger.info("postgres is not running: no session to release")
    except Exception as exc:
        raise ActivityFailed(f"could not release the connections: {exc}") from exc
    ledger.clear_matching(revert_for(MODULE, "release_connections", configuration))
    detail = f"released the connections: terminated {ended} {BATCH_ROLE} sessions"
    run_context(configuration).record("fault_reverted", detail)
    logger.info(detail)
    return {"terminated": ended}
