"""The opt-in `postgres` part: PostgreSQL behind the gateway's orders, its exporter, and a
connection holder, for the Postgres-down and connection-exhaustion failure modes.

Processes (supervisor groups, started in this order):

- ``postgres``: Debian's PostgreSQL server (found through ``pg_config --bindir``), on
  127.0.0.1 only with trust authentication, ``max_connections`` 20 (3 of them reserved
  for superusers, so exhaustion is reachable and an operator can still get in), the
  database ``orders`` owned by the role ``gateway``. PostgreSQL refuses to run as root:
  when gameday runs as root it runs as the ``postgres`` system user. A small shell
  wrapper turns the supervisor's SIGTERM into PostgreSQL's fast shutdown (SIGINT): a
  SIGTERM alone is a "smart" shutdown that waits for every client to leave;
- ``postgres-exporter``: Debian's prometheus-postgres-exporter, connected as the
  superuser (a reserved slot: it keeps reporting while the clients' slots are full),
  scraped as job ``postgres`` (``pg_up``, ``pg_stat_activity_count``,
  ``pg_settings_max_connections`` …);
- ``postgres-holder``: `gameday.lab.postgres_holder`, idle at rest; while the
  connection-exhaustion fault is on it holds idle sessions as the role ``batch_job``.

The data directory is ``data/postgres/`` (fresh at each `lab up`, which wipes ``data/``),
or, when the ``postgres`` user cannot reach the lab directory (a 0700 directory above
it, e.g. pytest's temporary directories), ``/tmp/gameday-postgres-<hash>/``, removed at
`lab down`. ``data/postgres.json`` records where; its absence means a fresh database.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from gameday.errors import LabError
from gameday.lab.config import HOST, LabConfig
from gameday.lab.extras.base import Extra, ScrapeJob, ScrapeTarget
from gameday.lab.parts import APT
from gameday.lab.supervisor import Part, Program

NAME = "postgres"
SERVER_GROUP = "postgres"
EXPORTER_GROUP = "postgres-exporter"
HOLDER_GROUP = "postgres-holder"
JOB = "postgres"
EXPORTER = "prometheus-postgres-exporter"
SERVICE_USER = "postgres"  # the system user PostgreSQL runs as when gameday is root
SUPERUSER = "postgres"  # the database superuser initdb creates
DATABASE = "orders"
GATEWAY_ROLE = "gateway"
BATCH_ROLE = "batch_job"  # the runaway client the holder plays
MAX_CONNECTIONS = 20
RESERVED_CONNECTIONS = 3  # PostgreSQL's default superuser_reserved_connections
ADMIN_TIMEOUT_S = 3.0
SETUP_TIMEOUT_S = 60
SCRAPE_INTERVAL_S = 2
SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; ".s.PGSQL.NNNNN" goes after the directory
STATE_FILE = "postgres.json"
ORDER_FILE = "postgres-exhaust.json"  # the exhaustion fault's order to the holder
STATUS_FILE = "postgres-holder.json"  # what the holder holds
SCHEMA = (
    "CREATE TABLE orders ("
    " id bigserial PRIMARY KEY,"
    " item text NOT NULL,"
    " quantity integer NOT NULL CHECK (quantity > 0),"
    " created_at timestamptz NOT NULL DEFAULT now())"
)
# Fast shutdown on the supervisor's SIGTERM (see the module docstring). Double quotes
# only: supervisord splits the command line itself.
STOP_WRAPPER = (
    '"$@" & child=$!; trap "kill -INT $child 2>/dev/null" TERM INT; '
    "wait $child; code=$?; "
    "while kill -0 $child 2>/dev/null; do wait $child; code=$?; done; exit $code"
)


@dataclass(frozen=True)
class Layout:
    """Where the part keeps its database and its Unix socket.

    :param outside_lab: the lab directory is out of the service user's reach, so the
        database lives in the temporary directory instead (removed at `lab down`)
    """

    base: Path
    outside_lab: bool

    @property
    def pgdata(self) -> Path:
        return self.base / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.base / "socket"

    @property
    def socket_setting(self) -> str:
        """unix_socket_directories: none when the path would be too long for a socket."""
        too_long = len(str(self.socket_dir)) + len("/.s.PGSQL.65535") > SOCKET_PATH_MAX
        return "" if too_long else str(self.socket_dir)


def bindir() -> Path | None:
    """PostgreSQL's server binaries: pg_config's, else the newest under /usr/lib/postgresql."""
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        try:
            found = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found and (Path(found) / "postgres").is_file():
            return Path(found)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def _binary(name: str) -> str:
    found = bindir()
    return str(found / name) if found is not None else name


def service_user() -> str | None:
    """The user PostgreSQL runs as: `postgres` when gameday is root, else gameday's own."""
    return SERVICE_USER if os.geteuid() == 0 else None


def _service_ids(user: str) -> tuple[int, int, list[int]]:
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid, os.getgrouplist(user, entry.pw_gid)


def _searchable(path: Path, uid: int, gids: Sequence[int]) -> bool:
    info = path.stat()
    if info.st_uid == uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid in gids:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def _reachable(directory: Path, user: str) -> bool:
    """Whether `user` can traverse every existing directory down to `directory` (those
    not made yet are made by the lab with the usual 0755)."""
    try:
        uid, _, gids = _service_ids(user)
    except KeyError:
        return True  # no such user: prepare says so
    for ancestor in [directory, *directory.parents]:
        try:
            if not _searchable(ancestor, uid, gids):
                return False
        except FileNotFoundError:
            continue
    return True


def layout(config: LabConfig) -> Layout:
    """Under the lab's data directory, unless the service user cannot reach it."""
    user = service_user()
    directory = config.directory.resolve()
    if user is None or _reachable(directory, user):
        return Layout(base=config.data / "postgres", outside_lab=False)
    digest = hashlib.sha256(str(directory).encode()).hexdigest()[:12]
    return Layout(base=Path(tempfile.gettempdir()) / f"gameday-postgres-{digest}", outside_lab=True)


def state_file(config: LabConfig) -> Path:
    return config.data / STATE_FILE


def read_state(config: LabConfig) -> dict[str, Any] | None:
    """What the last `prepare` set up since `lab up`; None before the part's first start."""
    return _read_json(state_file(config))


def order_file(config: LabConfig) -> Path:
    return config.run / ORDER_FILE


def status_file(config: LabConfig) -> Path:
    return config.run / STATUS_FILE


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document) + "\n")
    temporary.replace(path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def write_order(config: LabConfig, order_id: str, connections: int | None) -> None:
    """Tell the holder to hold `connections` sessions (None: every slot it can get)."""
    _write_json(order_file(config), {"id": order_id, "connections": connections})


def read_order(config: LabConfig) -> dict[str, Any] | None:
    return _read_json(order_file(config))


def clear_order(config: LabConfig) -> None:
    order_file(config).unlink(missing_ok=True)


def write_status(config: LabConfig, status: dict[str, Any]) -> None:
    _write_json(status_file(config), status)


def read_status(config: LabConfig) -> dict[str, Any] | None:
    return _read_json(status_file(config))


def dsn(config: LabConfig, user: str = SUPERUSER, database: str = "postgres") -> str:
    return f"postgresql://{user}@{HOST}:{config.ports.postgres}/{database}?sslmode=disable"


def server_command(config: LabConfig) -> list[str]:
    where = layout(config)
    settings = {
        "listen_addresses": HOST,
        "port": str(config.ports.postgres),
        "unix_socket_directories": where.socket_setting,
        "max_connections": str(MAX_CONNECTIONS),
        "superuser_reserved_connections": str(RESERVED_CONNECTIONS),
        # Small and throwaway: the lab's data is recreated at each `lab up`.
        "shared_buffers": "16MB",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "log_checkpoints": "off",
        "log_min_messages": "warning",
    }
    command = ["sh", "-c", STOP_WRAPPER, "postgres", _binary("postgres"), "-D", str(where.pgdata)]
    for key, value in settings.items():
        command += ["-c", f"{key}={value}"]
    return command


def parts(config: LabConfig) -> list[Part]:
    ports = config.ports
    return [
        Part(
            name=SERVER_GROUP,
            binary=_binary("postgres"),
            install_hint=f"{APT} postgresql",
            programs=(
                Program(
                    name="postgres",
                    command=server_command(config),
                    address=f"{HOST}:{ports.postgres}",
                    priority=200,
                    stop_wait_s=15,
                    user=service_user(),
                ),
            ),
        ),
        Part(
            name=EXPORTER_GROUP,
            binary=EXPORTER,
            install_hint=f"{APT} {EXPORTER}",
            programs=(
                Program(
                    name="postgres-exporter",
                    command=[
                        EXPORTER,
                        f"--web.listen-address={HOST}:{ports.postgres_exporter}",
                        "--log.level=warn",
                    ],
                    address=f"{HOST}:{ports.postgres_exporter}",
                    priority=300,
                    environment={"DATA_SOURCE_NAME": dsn(config)},
                ),
            ),
        ),
        Part(
            name=HOLDER_GROUP,
            binary=sys.executable,
            install_hint="reinstall gameday (the holder needs asyncpg: pip install asyncpg)",
            programs=(
                Program(
                    name="postgres-holder",
                    command=[
                        sys.executable,
                        "-m",
                        "gameday.lab.postgres_holder",
                        "--lab-config",
                        str(config.config_file),
                    ],
                    address="no port (idle until the connection-exhaustion fault)",
                    priority=400,
                    stop_wait_s=5,
                ),
            ),
        ),
    ]


def scrape_jobs(config: LabConfig) -> list[ScrapeJob]:
    return [
        ScrapeJob(
            name=JOB,
            targets=(ScrapeTarget(config.ports.postgres_exporter, {"deployment": "postgres"}),),
            # With the server down the exporter takes about 1 s to answer (it waits 1 s
            # before giving up on connecting): over the lab's 1 s timeout, the scrape
            # would fail and pg_up == 0 would never be recorded.
            settings={
                "scrape_interval": f"{SCRAPE_INTERVAL_S}s",
                "scrape_timeout": f"{SCRAPE_INTERVAL_S}s",
            },
        )
    ]


def _as_service_user(
    command: list[str], user: str | None, cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    extra: dict[str, Any] = {}
    if user is not None:
        uid, gid, gids = _service_ids(user)
        extra = {"user": uid, "group": gid, "extra_groups": gids}
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
    try:
        return subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            cwd=cwd,
            env=environment,
            timeout=SETUP_TIMEOUT_S,
            check=False,
            **extra,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise LabError(f"{Path(command[0]).name} could not run: {exc}", part=NAME) from exc


def _checked(result: subprocess.CompletedProcess[str], what: str, log: Path) -> None:
    if result.returncode == 0:
        return
    log.write_text(result.stdout + result.stderr)
    lines = (result.stderr or result.stdout).strip().splitlines()
    raise LabError(
        f"{what} failed (exit {result.returncode}): {' | '.join(lines[-3:])}",
        part=NAME,
        hint=f"its output: {log}",
    )


def _owned_dir(path: Path, user: str | None) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    if user is not None:
        uid, gid, _ = _service_ids(user)
        os.chown(path, uid, gid)


def _initialise(config: LabConfig, where: Layout, user: str | None, binaries: Path) -> None:
    """A new database cluster: initdb, 127.0.0.1-only trust, the roles and the schema
    (created in single-user mode, before the server first starts)."""
    shutil.rmtree(where.base, ignore_errors=True)
    _owned_dir(where.base, user)
    _owned_dir(where.socket_dir, user)
    log = config.logs / "postgres-setup.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    initdb = [
        str(binaries / "initdb"),
        "-D",
        str(where.pgdata),
        f"--username={SUPERUSER}",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
        "--no-instructions",
    ]
    _checked(_as_service_user(initdb, user, where.base), "initdb", log)
    hba = where.pgdata / "pg_hba.conf"
    hba.write_text(
        "# Written by gameday: the lab's database trusts local TCP clients, nothing else.\n"
        "host  all  all  127.0.0.1/32  trust\n"
    )
    if user is not None:
        uid, gid, _ = _service_ids(user)
        os.chown(hba, uid, gid)
    single = [str(binaries / "postgres"), "--single", "-D", str(where.pgdata), "-F"]
    single += ["-c", "exit_on_error=true"]
    setup = (
        f"CREATE ROLE {GATEWAY_ROLE} LOGIN;\n"
        f"CREATE ROLE {BATCH_ROLE} LOGIN;\n"
        f"CREATE DATABASE {DATABASE} OWNER {GATEWAY_ROLE};\n"
    )
    _checked(_as_service_user([*single, "postgres"], user, where.base, setup), "roles", log)
    schema = f"{SCHEMA};\nALTER TABLE orders OWNER TO {GATEWAY_ROLE};\n"
    _checked(_as_service_user([*single, DATABASE], user, where.base, schema), "schema", log)


def prepare(config: LabConfig) -> None:
    """A database for this lab: made at the part's first start after `lab up`, kept
    across later starts (idempotent). Any exhaustion order left by a crash is dropped."""
    binaries = bindir()
    if binaries is None or not (binaries / "initdb").is_file():
        raise LabError(
            "PostgreSQL's server binaries (initdb, postgres) were not found",
            part=NAME,
            hint=f"install them: {APT} postgresql",
        )
    if shutil.which(EXPORTER) is None:
        raise LabError(
            f"binary {EXPORTER!r} not found on PATH",
            part=NAME,
            hint=f"install it: {APT} {EXPORTER}",
        )
    user = service_user()
    if user is not None:
        try:
            _service_ids(user)
        except KeyError:
            raise LabError(
                f"PostgreSQL refuses to run as root and there is no {user!r} system user",
                part=NAME,
                hint=f"install the server package, which creates it: {APT} postgresql",
            ) from None
    where = layout(config)
    if user is not None and not _reachable(where.base.parent, user):
        raise LabError(
            f"the {user!r} user cannot reach {where.base.parent}",
            part=NAME,
            hint="give the lab directory and its data/ directory search permission (chmod o+x)",
        )
    clear_order(config)
    status_file(config).unlink(missing_ok=True)
    state = read_state(config)
    fresh = state is None or state.get("base") != str(where.base)
    if fresh or not (where.pgdata / "PG_VERSION").is_file():
        _initialise(config, where, user, binaries)
        _write_json(
            state_file(config),
            {
                "base": str(where.base),
                "outside_lab": where.outside_lab,
                "user": user,
                "bindir": str(binaries),
            },
        )
    _owned_dir(where.socket_dir, user)


def release(config: LabConfig) -> None:
    """At `lab down`: remove a database kept outside the lab directory (idempotent)."""
    state = read_state(config)
    if state is None or not state.get("outside_lab"):
        return
    base = Path(str(state["base"]))
    if base.name.startswith("gameday-postgres-"):
        shutil.rmtree(base, ignore_errors=True)
    state_file(config).unlink(missing_ok=True)


async def _admin(config: LabConfig, statements: Sequence[str], timeout_s: float) -> list[Any]:
    connection = await asyncpg.connect(
        host=HOST,
        port=config.ports.postgres,
        user=SUPERUSER,
        database="postgres",
        timeout=timeout_s,
        command_timeout=timeout_s,
        server_settings={"application_name": "gameday"},
    )
    try:
        return [[dict(row) for row in await connection.fetch(sql)] for sql in statements]
    finally:
        await connection.close(timeout=timeout_s)


def admin_sql(
    config: LabConfig, *statements: str, timeout_s: float = ADMIN_TIMEOUT_S
) -> list[list[dict[str, Any]]]:
    """Run statements as the superuser (a reserved slot: it gets in when clients cannot);
    each statement's rows. Raises OSError, TimeoutError or an asyncpg error."""
    rows: list[list[dict[str, Any]]] = asyncio.run(_admin(config, statements, timeout_s))
    return rows


EXTRA = Extra(
    name=NAME,
    summary="PostgreSQL for the gateway's orders, its exporter, and a connection holder",
    parts=parts,
    scrape_jobs=scrape_jobs,
    prepare=prepare,
    release=release,
    binaries={"/usr/lib/postgresql/*/bin/postgres": "postgresql", EXPORTER: EXPORTER},
)
