"""Commands in code: shell and SQL blocks, and the inline `code` of a step.

PromQL/LogQL blocks are queries to look at, not actions, and are left out.
An inline code span is a command when it starts with a known command-line
tool (or a path, or a `…ctl`) and is not a bare identifier or a query.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from gameday.runbook.document import Fence, Text
from gameday.runbook.model import Command

__all__ = [
    "COMMAND_LANGUAGES",
    "Labelled",
    "commands_in",
    "inline_commands",
    "labelled_commands",
    "looks_like_command_line",
    "plain_commands",
]

SHELL_LANGUAGES = frozenset(
    {"bash", "sh", "shell", "console", "zsh", "shell-session", "shellsession", "powershell", "ps1"}
)
QUERY_LANGUAGES = frozenset({"sql", "psql", "mysql"})
COMMAND_LANGUAGES = SHELL_LANGUAGES | QUERY_LANGUAGES

_STEP_COMMENT = re.compile(r"^#+\s*(step\s*\d+\s*[:.)-]\s*.+)$", re.IGNORECASE)
_HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")
_TOOL_NAMES = """
    kubectl helm systemctl service docker docker-compose podman crictl ctr curl wget redis-cli
    psql mysql mongo mongosh etcdctl journalctl aws gcloud az terraform ssh scp rsync git cat
    tail head less grep egrep ls df du top htop ps kill pkill nodetool vault consul nomad
    promtool amtool gameday make python python3 pip npm node go java jq yq ping dig nslookup
    traceroute mtr netstat ss iptables ip openssl nvidia-smi rabbitmqctl rabbitmq-diagnostics
    kafka-topics kafka-consumer-groups sudo sh bash tar cp mv rm mkdir chmod chown find xargs
    echo export oc istioctl linkerd argocd flux stern patronictl pg_dump pg_restore pg_ctl
    pg_basebackup pg_isready mc s3cmd ceph rbd ansible ansible-playbook supervisorctl nginx
    haproxy apachectl varnishadm free vmstat iostat uptime dmesg lsof strace tcpdump nc telnet
    openstack virsh zfs zpool mount umount lsblk fdisk xfs_repair fsck logrotate crontab
    timedatectl chronyc ntpq hostnamectl sysctl ulimit watch kill -9 kubectx kubens k9s
    gh glab curlie http httpie grpcurl cqlsh clickhouse-client sqlite3 redis-server minio
"""
_TOOLS = frozenset(_TOOL_NAMES.split())
_FIRST = re.compile(r"^(?:\$\s*)?(?:sudo\s+(?:-\S+\s+)*)?([\w./-]+)")


def is_command(code: str) -> bool:
    """An inline code span that is a command to run ("kubectl rollout restart deploy/api")."""
    text = code.strip()
    match = _FIRST.match(text)
    if not match or "\n" in text:
        return False
    tool = match.group(1)
    if tool in _TOOLS:
        return True
    if " " not in text:
        return False
    return tool.startswith(("./", "/", "~/")) or tool.endswith("ctl")


_PROGRAM = re.compile(r"^(?:\$\s*)?[a-z][\w.-]*(?:\s+\S+)+$")


def looks_like_command_line(code: str) -> bool:
    """Inline code an instruction gives to run: a known command, or a lower-case program
    name followed by arguments ("payoutctl pause --all", "svc-restart worker-3")."""
    text = code.strip()
    if is_command(text):
        return True
    return bool(_PROGRAM.match(text)) and not re.search(r"[(){}\[\]]|\b(?:by|and|or)\b", text)


def inline_commands(text: Text, line: int, *, instruction: bool = False) -> list[Command]:
    """The commands among a text's inline code spans; in an instruction ("Stop payouts:
    `payoutctl pause --all`") any program with arguments counts."""
    check = looks_like_command_line if instruction else is_command
    return [
        Command(code.strip().removeprefix("$ "), "shell", line)
        for code in text.codes()
        if check(code)
    ]


_AFTER_COLON = re.compile(r":\s+(?:\$\s+)?(\S.*?)\s*\.?$")


def plain_commands(text: Text, line: int) -> list[Command]:
    """A command written without code marks after a step's colon ("Restart them: kubectl
    -n dns rollout restart deploy/coredns"); [] when the text has code spans."""
    if text.codes():
        return []
    match = _AFTER_COLON.search(text.plain)
    if match and is_command(match.group(1)) and " " in match.group(1):
        return [Command(match.group(1), "shell", line)]
    return []


@dataclass(frozen=True)
class Labelled:
    """A command and the "# Step N: …" comment above it, if any."""

    label: str | None
    command: Command


def _shell_commands(fence: Fence) -> list[Labelled]:
    lines = textwrap.dedent(fence.content).splitlines()
    out: list[Labelled] = []
    label: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        line_no = fence.line + 1 + index
        index += 1
        if not stripped:
            continue
        if stripped.startswith("#"):
            match = _STEP_COMMENT.match(stripped)
            if match:
                label = match.group(1).strip()
            continue
        parts = [line.rstrip()]
        while parts[-1].endswith("\\") and index < len(lines):
            parts.append(lines[index].rstrip())
            index += 1
        heredoc = _HEREDOC.search(" ".join(parts))
        if heredoc:
            delimiter = heredoc.group(1)
            while index < len(lines):
                parts.append(lines[index].rstrip())
                index += 1
                if parts[-1].strip() == delimiter:
                    break
        text = "\n".join(parts).strip()
        if stripped.startswith("$ "):
            text = text[2:]
        out.append(Labelled(label, Command(text, fence.language, line_no)))
    return out


def _query_commands(fence: Fence) -> list[Labelled]:
    comment = "--"
    out: list[Labelled] = []
    current: list[str] = []
    start = 0

    def flush() -> None:
        text = "\n".join(current).strip()
        if text:
            out.append(Labelled(None, Command(text, fence.language, start)))
        current.clear()

    for offset, line in enumerate(fence.content.splitlines()):
        stripped = line.strip()
        if not stripped or stripped.startswith(comment):
            flush()
            continue
        if not current:
            start = fence.line + 1 + offset
        current.append(line.rstrip())
        if stripped.endswith(";"):
            flush()
    flush()
    return out


def _looks_like_shell(fence: Fence) -> bool:
    """An unlabelled block whose lines start with known tools is shell."""
    lines = [
        line.strip()
        for line in fence.content.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    return bool(lines) and all(is_command(line) or line.endswith("\\") for line in lines[:3])


def labelled_commands(fence: Fence) -> list[Labelled]:
    if fence.language in SHELL_LANGUAGES or (not fence.language and _looks_like_shell(fence)):
        return _shell_commands(fence)
    if fence.language in QUERY_LANGUAGES:
        return _query_commands(fence)
    return []


def commands_in(fence: Fence) -> list[Command]:
    """The commands of a code block in a command language (shell, SQL); [] otherwise."""
    return [item.command for item in labelled_commands(fence)]
