"""supervisord as the lab's process supervisor: its configuration and its XML-RPC API.

Each lab part is a supervisord group of programs (one per replica), with
``autorestart=true``: a killed replica is restarted, like a Deployment's pod,
and a replica stopped through the API stays stopped until started again.
"""

from __future__ import annotations

import http.client
import xmlrpc.client
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, cast

RPC_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Program:
    """One supervised process: a replica of a part."""

    name: str
    command: list[str]
    address: str = ""
    priority: int = 500
    stop_wait_s: int = 10
    directory: Path | None = None
    environment: dict[str, str] = field(default_factory=dict)
    # False for an opt-in part (`lab.extras`): configured, started on demand.
    autostart: bool = True
    # Run as this user (supervisord runs as root): PostgreSQL refuses to run as root.
    user: str | None = None


@dataclass(frozen=True)
class Part:
    """A lab part: a named group of replicas plus what it needs to start."""

    name: str
    programs: tuple[Program, ...]
    binary: str
    install_hint: str


class ProcessInfo(TypedDict):
    """The fields of supervisord's getProcessInfo that the lab uses."""

    name: str
    group: str
    statename: str
    pid: int
    start: int
    now: int
    exitstatus: int
    stdout_logfile: str
    spawnerr: str


def _quote(argument: str) -> str:
    # supervisord splits the command with shlex; '%' must be doubled for its expansion.
    escaped = argument.replace("%", "%%")
    if any(c in escaped for c in " '\"\\") or escaped == "":
        return "'" + escaped.replace("'", "'\"'\"'") + "'"
    return escaped


def render_config(
    parts: list[Part], *, port: int, directory: Path, logs: Path, environment: dict[str, str]
) -> str:
    """supervisord.conf for these parts, its XML-RPC server on 127.0.0.1:port."""
    env_line = ",".join(f'{key}="{value}"' for key, value in environment.items())
    lines = [
        "[supervisord]",
        "nodaemon=true",
        f"logfile={logs / 'supervisord.log'}",
        f"pidfile={directory / 'supervisord.pid'}",
        f"childlogdir={logs}",
        "loglevel=info",
        f"environment={env_line}",
        "",
        "[inet_http_server]",
        f"port=127.0.0.1:{port}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
    ]
    for part in parts:
        for program in part.programs:
            lines += [
                f"[program:{program.name}]",
                "command=" + " ".join(_quote(arg) for arg in program.command),
                f"priority={program.priority}",
                f"autostart={'true' if program.autostart else 'false'}",
                "autorestart=true",
                "startsecs=1",
                "startretries=3",
                f"stopwaitsecs={program.stop_wait_s}",
                "stopasgroup=true",
                "killasgroup=true",
                "redirect_stderr=true",
                f"stdout_logfile={logs / (program.name + '.log')}",
                "stdout_logfile_maxbytes=5MB",
                "stdout_logfile_backups=1",
            ]
            if program.directory is not None:
                lines.append(f"directory={program.directory}")
            if program.user is not None:
                lines.append(f"user={program.user}")
            if program.environment:
                env = ",".join(f'{k}="{v}"' for k, v in program.environment.items())
                lines.append(f"environment={env}")
            lines.append("")
        lines += [
            f"[group:{part.name}]",
            "programs=" + ",".join(program.name for program in part.programs),
            "",
        ]
    return "\n".join(lines)


class _TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        connection = super().make_connection(host)
        connection.timeout = self._timeout
        return connection


class SupervisorClient:
    """supervisord's XML-RPC API, every call bounded by a timeout."""

    def __init__(self, url: str, *, timeout: float = RPC_TIMEOUT_S) -> None:
        self.url = url
        self._proxy = xmlrpc.client.ServerProxy(url, transport=_TimeoutTransport(timeout))

    @property
    def _api(self) -> Any:
        return self._proxy.supervisor

    def reachable(self) -> bool:
        try:
            return bool(self._api.getState()["statename"] == "RUNNING")
        except (TimeoutError, OSError, xmlrpc.client.Error, http.client.HTTPException):
            return False

    def pid(self) -> int:
        return int(self._api.getPID())

    def processes(self) -> list[ProcessInfo]:
        return cast(list[ProcessInfo], self._api.getAllProcessInfo())

    def process(self, name: str) -> ProcessInfo:
        return cast(ProcessInfo, self._api.getProcessInfo(name))

    def start(self, name: str, *, wait: bool = True) -> None:
        self._api.startProcess(name, wait)

    def start_group(self, group: str, *, wait: bool = True) -> None:
        self._api.startProcessGroup(group, wait)

    def stop(self, name: str, *, wait: bool = True) -> None:
        self._api.stopProcess(name, wait)

    def signal(self, name: str, signal_name: str) -> None:
        self._api.signalProcess(name, signal_name)

    def signal_all(self, signal_name: str) -> None:
        self._api.signalAllProcesses(signal_name)

    def stop_all(self) -> None:
        self._api.stopAllProcesses(False)

    def shutdown(self) -> None:
        self._api.shutdown()

    def tail(self, name: str, length: int = 2000) -> str:
        text, _, _ = self._api.tailProcessStdoutLog(name, 0, length)
        return str(text)


def full_name(info: ProcessInfo) -> str:
    """The 'group:name' spec supervisord's API takes."""
    return f"{info['group']}:{info['name']}"
