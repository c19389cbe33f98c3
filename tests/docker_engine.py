"""A real Docker engine for the ``containers`` tests, on a machine that cannot reach a registry.

:func:`engine` gives a :class:`DockerEngine`:

- the engine ``DOCKER_HOST`` points to when it answers ``docker version`` (without
  ``DOCKER_HOST``: ``/var/run/docker.sock`` when it answers), used as it is and never stopped;
- else a ``dockerd`` started here, after installing Debian's ``docker.io`` and ``debootstrap``
  when they are missing and we are root with apt-get. Its data-root, exec-root, socket, pidfile
  and log are in ``$XDG_CACHE_HOME/gameday/docker-<version>/`` (``~/.cache`` by default), so
  images outlive the session. On exit it is stopped by PID (SIGTERM, then SIGKILL), then the
  containerd and shims it started, the mounts it can leave in that directory (nsfs under the
  exec-root, the data-root's bind mount) and the ``docker0`` link it created are removed. One
  session at a time uses that directory: a second one waits on ``engine.lock`` there.

No image can be pulled, so :func:`base_image` makes ``gameday-test/debian:bookworm`` with
``debootstrap --variant=minbase`` from the mirror apt uses plus ``docker import``, and the
service images (:func:`redis_image`, :func:`monitoring_image`, :func:`app_image`) are built
``FROM`` it with ``docker build --network host`` and apt-get, from the files in
``tests/containers_app/``. :meth:`DockerEngine.build_image` labels each image with a hash of
its Dockerfile, its context files and the IDs of its ``FROM`` images, and builds only when the
image with that label is missing.

Everything a test creates carries the label ``gameday.test=1`` (:data:`TEST_LABEL`,
:data:`TEST_LABELS`); :meth:`DockerEngine.cleanup` removes every container and network with it
and leaves images alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import IO
from urllib.parse import urlparse

LOG = logging.getLogger(__name__)

TEST_LABEL = "gameday.test"
TEST_LABELS: Mapping[str, str] = MappingProxyType({TEST_LABEL: "1"})
TEST_LABEL_FILTER = f"label={TEST_LABEL}=1"
HASH_LABEL = "gameday.content-hash"

BASE_IMAGE = "gameday-test/debian:bookworm"
REDIS_IMAGE = "gameday-test/redis"
MONITORING_IMAGE = "gameday-test/monitoring"
APP_IMAGE = "gameday-test/app"
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
APP_DIR = Path(__file__).resolve().parent / "containers_app"

# command → the Debian package that installs it
DEBIAN_PACKAGES: Mapping[str, str] = MappingProxyType(
    {"dockerd": "docker.io", "debootstrap": "debootstrap"}
)
SYSTEM_HOST = "unix:///var/run/docker.sock"
# --storage-driver of the daemon started here; GAMEDAY_DOCKER_STORAGE_DRIVER overrides it.
STORAGE_DRIVER = "overlay2"

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
LOCK_TIMEOUT_S = 900.0
COMMAND_TIMEOUT_S = 120.0
BUILD_TIMEOUT_S = 900.0
INSTALL_TIMEOUT_S = 600.0
DEBOOTSTRAP_TIMEOUT_S = 900.0
SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; containerd adds ".ttrpc" to its socket's name


class DockerEngineError(RuntimeError):
    """The engine could not be found, installed, started or driven."""


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _which(command: str) -> str | None:
    """``command`` on PATH, or in the sbin directories a non-login root PATH can lack."""
    found = shutil.which(command)
    if found is not None:
        return found
    for directory in ("/usr/local/sbin", "/usr/sbin", "/sbin"):
        candidate = Path(directory) / command
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _run(
    command: list[str], *, timeout: float, what: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``command``; a DockerEngineError with the output's end when it fails or times out."""
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise DockerEngineError(f"{what} took more than {timeout:.0f} s: {command}") from error
    if result.returncode != 0:
        raise DockerEngineError(
            f"{what} failed (exit {result.returncode}): {command}\n"
            f"{_tail(result.stdout + result.stderr)}"
        )
    return result


# -- Debian packages ---------------------------------------------------------------------------


def ensure_packages(*commands: str) -> None:
    """Install the Debian packages of the ``commands`` (keys of DEBIAN_PACKAGES) that are missing.

    Only as root with apt-get; otherwise a DockerEngineError naming the packages.
    """
    missing = sorted({DEBIAN_PACKAGES[command] for command in commands if not _which(command)})
    if not missing:
        return
    apt_get = shutil.which("apt-get")
    install = ["install", "-y", "--no-install-recommends", *missing]
    if apt_get is None or os.geteuid() != 0:
        raise DockerEngineError(
            "the containers tests need a Docker engine: point DOCKER_HOST at a working one, or "
            f"install the Debian packages {' '.join(missing)} (as root: apt-get update && "
            f"apt-get {' '.join(install)})"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Wait for another apt/dpkg instead of failing at once on its lock.
    apt = [apt_get, "-q", "-o", "DPkg::Lock::Timeout=300"]
    LOG.warning("installing Debian packages: %s", " ".join(missing))
    try:
        _run([*apt, *install], timeout=INSTALL_TIMEOUT_S, what="apt-get install", env=env)
    except DockerEngineError:
        # Package lists missing or stale (a fresh machine): update them and try again.
        _run([*apt, "update"], timeout=INSTALL_TIMEOUT_S, what="apt-get update", env=env)
        _run([*apt, *install], timeout=INSTALL_TIMEOUT_S, what="apt-get install", env=env)
    still = [DEBIAN_PACKAGES[command] for command in commands if not _which(command)]
    if still:
        raise DockerEngineError(f"apt-get installed {missing} but {still} still lack a command")


# -- the engine --------------------------------------------------------------------------------


def _host_address(host: str) -> str:
    """The address published ports are reached on: the tcp host's name, else 127.0.0.1."""
    parsed = urlparse(host)
    if parsed.scheme in ("tcp", "http", "https") and parsed.hostname:
        return parsed.hostname
    return "127.0.0.1"


@dataclass(frozen=True)
class DockerEngine:
    """A Docker engine that answers. ``daemon_pid`` is set when this process started it."""

    host: str  # the DOCKER_HOST URL, e.g. unix:///root/.cache/gameday/docker-20.10.24/docker.sock
    cli: str  # the docker CLI used by docker()
    daemon_pid: int | None = None
    directory: Path | None = None  # the cache directory of the daemon started here

    def env(self) -> dict[str, str]:
        """Variables for the docker CLI, the Docker SDK and testcontainers (no Ryuk: its image
        cannot be pulled, cleanup() removes what tests leave)."""
        return {
            "DOCKER_HOST": self.host,
            "TESTCONTAINERS_RYUK_DISABLED": "true",
            # This machine has a /.dockerenv: without these, testcontainers thinks it runs in
            # a container and connects to the containers' gateway instead of the mapped ports.
            "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
            "TESTCONTAINERS_HOST_OVERRIDE": _host_address(self.host),
        }

    def _cli_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "DOCKER_CONTEXT"}
        return {**env, **self.env(), **(extra or {})}

    def docker(
        self,
        *args: str,
        timeout: float = COMMAND_TIMEOUT_S,
        check: bool = True,
        stdin: str | IO[bytes] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``docker ARGS`` against this engine (text output). With ``check``, a failure or
        a timeout raises DockerEngineError with the output's end."""
        command = [self.cli, *args]
        try:
            result = subprocess.run(
                command,
                input=stdin if isinstance(stdin, str) else None,
                stdin=None if isinstance(stdin, str) else (stdin or subprocess.DEVNULL),
                capture_output=True,
                text=True,
                timeout=timeout,
                env=self._cli_env(env),
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise DockerEngineError(
                f"docker {' '.join(args)}: no answer in {timeout:.0f} s"
            ) from error
        if check and result.returncode != 0:
            raise DockerEngineError(
                f"docker {' '.join(args)} failed (exit {result.returncode}):\n"
                f"{_tail(result.stdout + result.stderr)}"
            )
        return result

    def image_exists(self, reference: str) -> bool:
        return self.docker("image", "inspect", reference, check=False).returncode == 0

    def image_labels(self, reference: str) -> dict[str, str] | None:
        """The image's labels, or None when there is no such image."""
        result = self.docker(
            "image", "inspect", "--format", "{{json .Config.Labels}}", reference, check=False
        )
        if result.returncode != 0:
            return None
        labels = json.loads(result.stdout.strip() or "null")
        return dict(labels) if isinstance(labels, dict) else {}

    def content_hash(self, dockerfile_text: str, context_files: Mapping[str, str | bytes]) -> str:
        """sha256 of the Dockerfile, the context files and the IDs of the FROM images here."""
        digest = hashlib.sha256()
        digest.update(b"Dockerfile\0" + dockerfile_text.encode() + b"\0")
        for name in sorted(context_files):
            content = context_files[name]
            data = content.encode() if isinstance(content, str) else content
            digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        for reference in re.findall(
            r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", dockerfile_text, re.MULTILINE | re.IGNORECASE
        ):
            found = self.docker("image", "inspect", "--format", "{{.Id}}", reference, check=False)
            digest.update(f"FROM {reference} {found.stdout.strip()}\0".encode())
        return digest.hexdigest()

    def build_image(
        self,
        tag: str,
        dockerfile_text: str,
        context_files: Mapping[str, str | bytes] | None = None,
        *,
        timeout: float = BUILD_TIMEOUT_S,
    ) -> str:
        """Build ``tag`` unless an image with this content's hash label is there; returns ``tag``.

        ``context_files`` maps a relative path in the build context to its content; a file that
        starts with ``#!`` is made executable. The build uses the host's network (apt-get)."""
        files = dict(context_files or {})
        digest = self.content_hash(dockerfile_text, files)
        labels = self.image_labels(tag)
        if labels is not None and labels.get(HASH_LABEL) == digest:
            return tag
        LOG.warning("building image %s", tag)
        with tempfile.TemporaryDirectory(prefix="gameday-build-") as directory:
            context = Path(directory)
            (context / "Dockerfile").write_text(dockerfile_text, encoding="utf-8")
            for name, content in files.items():
                path = (context / name).resolve()
                if name == "Dockerfile" or context.resolve() not in path.parents:
                    raise DockerEngineError(f"context file {name!r} is not a plain relative path")
                path.parent.mkdir(parents=True, exist_ok=True)
                data = content.encode() if isinstance(content, str) else content
                path.write_bytes(data)
                path.chmod(0o755 if data.startswith(b"#!") else 0o644)
            self.docker(
                "build",
                "--network",
                "host",
                "--label",
                f"{HASH_LABEL}={digest}",
                "--tag",
                tag,
                str(context),
                timeout=timeout,
                env={"DOCKER_BUILDKIT": "0"},  # the classic builder: no BuildKit image to pull
            )
        # The image this one replaced, now untagged.
        self.docker("image", "prune", "--force", "--filter", f"label={HASH_LABEL}", check=False)
        return tag

    def labelled(self) -> tuple[list[str], list[str]]:
        """IDs of the containers (running or not) and networks labelled gameday.test=1."""
        containers = self.docker("ps", "--all", "--quiet", "--filter", TEST_LABEL_FILTER)
        networks = self.docker("network", "ls", "--quiet", "--filter", TEST_LABEL_FILTER)
        return containers.stdout.split(), networks.stdout.split()

    def cleanup(self) -> None:
        """Remove every container and network labelled gameday.test=1; images stay."""
        containers, _ = self.labelled()
        if containers:
            self.docker("rm", "--force", "--volumes", *containers)
        _, networks = self.labelled()
        if networks:
            self.docker("network", "rm", *networks)


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/gameday`` (``~/.cache/gameday`` without it)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gameday"


def dockerd_version(dockerd: str) -> str:
    """``20.10.24+dfsg1`` from ``Docker version 20.10.24+dfsg1, build 5d6db84``."""
    output = _run([dockerd, "--version"], timeout=30, what="dockerd --version").stdout
    match = re.search(r"version\s+([^\s,]+)", output)
    if match is None:
        raise DockerEngineError(f"cannot read the version in {output!r}")
    return re.sub(r"[^A-Za-z0-9.+_-]", "_", match.group(1))


@dataclass(frozen=True)
class EngineDirectory:
    """Where the daemon started here keeps its state: ``cache_root()/docker-<version>``."""

    root: Path

    @property
    def data_root(self) -> Path:
        return self.root / "data"

    @property
    def exec_root(self) -> Path:
        return self.root / "exec"

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def pidfile(self) -> Path:
        return self.root / "docker.pid"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    @property
    def config_file(self) -> Path:
        return self.root / "daemon.json"

    @property
    def lock(self) -> Path:
        return self.root / "engine.lock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"


def _answers(cli: str | None, host: str, timeout: float = 10.0) -> bool:
    """Whether ``docker version`` reaches a server at ``host``."""
    if cli is None:
        return False
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_CONTEXT"}
    try:
        result = subprocess.run(
            [cli, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**env, "DOCKER_HOST": host},
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def _working_engine(cli: str | None) -> str | None:
    """DOCKER_HOST when it answers; without DOCKER_HOST, the system socket when it answers."""
    host = os.environ.get("DOCKER_HOST")
    if host:
        if _answers(cli, host):
            return host
        LOG.warning("DOCKER_HOST=%s does not answer: starting an engine of our own", host)
        return None
    if Path(urlparse(SYSTEM_HOST).path).exists() and _answers(cli, SYSTEM_HOST):
        return SYSTEM_HOST
    return None


@contextlib.contextmanager
def _locked(path: Path, timeout: float) -> Iterator[None]:
    """An exclusive flock on ``path``, waited for up to ``timeout`` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        deadline = time.monotonic() + timeout
        warned = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "?"
                if time.monotonic() > deadline:
                    raise DockerEngineError(
                        f"{path} is still held by process {holder} after {timeout:.0f} s"
                    ) from None
                if not warned:
                    LOG.warning("waiting for %s, held by process %s", path, holder)
                    warned = True
                time.sleep(0.5)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _daemon_of(directory: EngineDirectory) -> int | None:
    """The PID of a live dockerd that uses ``directory`` (from its pidfile), if any."""
    try:
        pid = int(directory.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    command = _cmdline(pid)
    if command and Path(command[0]).name == "dockerd" and str(directory.data_root) in command:
        return pid
    return None


def _mounts_under(root: Path) -> list[str]:
    """Mount points at or below ``root``, deepest first."""
    prefix = str(root)
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
        if point == prefix or point.startswith(prefix + "/"):
            found.append(point)
    return sorted(set(found), key=len, reverse=True)


def _unmount_under(root: Path) -> list[str]:
    """Unmount what is mounted below ``root`` (lazily when busy); returns what stays mounted."""
    for point in _mounts_under(root):
        if subprocess.run(["umount", point], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)
        LOG.info("unmounted %s", point)
    return _mounts_under(root)


def _signal_and_wait(pids: list[int], timeout: float) -> None:
    """SIGTERM ``pids``, then SIGKILL the ones still there after ``timeout`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while pids and time.monotonic() < deadline:
            pids = [pid for pid in pids if Path(f"/proc/{pid}").exists() and not _zombie(pid)]
            time.sleep(0.1)
        if not pids:
            return


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _started_by(directory: EngineDirectory) -> list[int]:
    """Processes whose command line names the exec-root: the containerd and the shims that the
    daemon of ``directory`` started."""
    marker = str(directory.exec_root)
    mine = os.getpid()
    return [
        pid
        for pid in _pids()
        if pid != mine
        and any(arg == marker or arg.startswith(marker + "/") for arg in _cmdline(pid))
    ]


def _other_dockerd_running() -> bool:
    return any(Path(command[0]).name == "dockerd" for command in map(_cmdline, _pids()) if command)


def _start_daemon(
    dockerd: str, version: str, directory: EngineDirectory
) -> subprocess.Popen[bytes]:
    for path in (directory.data_root, directory.exec_root):
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    containerd_socket = directory.exec_root / "containerd" / "containerd.sock"
    if len(str(containerd_socket)) > SOCKET_PATH_MAX:
        raise DockerEngineError(
            f"{containerd_socket} is too long for a unix socket: set XDG_CACHE_HOME shorter"
        )
    directory.socket.unlink(missing_ok=True)  # no daemon of this directory runs: the caller checked
    # Its own configuration file, so no /etc/docker/daemon.json applies to it; before 23.0 it
    # also keeps the key.json it writes here instead of in /etc/docker.
    config: dict[str, str] = {}
    major = re.match(r"\d+", version)
    if major is not None and int(major.group()) < 23:
        config["deprecated-key-path"] = str(directory.root / "key.json")
    directory.config_file.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    command = [
        dockerd,
        "--config-file",
        str(directory.config_file),
        "--host",
        directory.host,
        "--data-root",
        str(directory.data_root),
        "--exec-root",
        str(directory.exec_root),
        "--pidfile",
        str(directory.pidfile),
        "--storage-driver",
        os.environ.get("GAMEDAY_DOCKER_STORAGE_DRIVER", STORAGE_DRIVER),
        "--iptables=false",
        "--ip-masq=false",
        "--ip-forward=false",
        "--ip",
        "127.0.0.1",  # published ports bind 127.0.0.1 unless a test says otherwise
    ]
    LOG.info("starting %s", " ".join(command))
    with directory.log.open("wb") as log:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a ^C to the tests must not reach it before cleanup does
        )


def _log_tail(directory: EngineDirectory) -> str:
    try:
        return _tail(directory.log.read_text(errors="replace"))
    except OSError:
        return "(no log)"


def _wait_ready(
    cli: str, process: subprocess.Popen[bytes], directory: EngineDirectory, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not _answers(cli, directory.host, timeout=5.0):
        code = process.poll()
        if code is not None:
            raise DockerEngineError(
                f"dockerd exited with {code} at start; end of {directory.log}:\n"
                f"{_log_tail(directory)}"
            )
        if time.monotonic() > deadline:
            raise DockerEngineError(
                f"dockerd (pid {process.pid}) did not answer on {directory.host} within "
                f"{timeout:.0f} s; end of {directory.log}:\n{_log_tail(directory)}"
            )
        time.sleep(0.2)


def _stop_daemon(
    process: subprocess.Popen[bytes], directory: EngineDirectory, had_docker0: bool
) -> None:
    """Stop the dockerd this process started, then what it leaves behind."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            LOG.warning(
                "dockerd %d ignored SIGTERM for %.0f s: SIGKILL", process.pid, STOP_TIMEOUT_S
            )
            process.kill()
            process.wait(10)
    leftovers = _started_by(directory)
    if leftovers:
        LOG.warning("stopping what dockerd %d left running: %s", process.pid, leftovers)
        _signal_and_wait(leftovers, 10.0)
    # The nsfs mount under the exec-root, and the bind mount of the data-root that a daemon
    # which failed at start leaves (the next ones then leave it too).
    stuck = _unmount_under(directory.root)
    if stuck:
        LOG.warning("still mounted under %s: %s", directory.root, stuck)
    if not had_docker0 and Path("/sys/class/net/docker0").exists() and not _other_dockerd_running():
        ip = _which("ip")
        if ip is None:
            LOG.warning("dockerd left the docker0 link and there is no `ip` to delete it")
        else:
            subprocess.run([ip, "link", "delete", "docker0"], capture_output=True, check=False)


@contextlib.contextmanager
def engine(
    *, start_timeout: float = START_TIMEOUT_S, lock_timeout: float = LOCK_TIMEOUT_S
) -> Iterator[DockerEngine]:
    """A working Docker engine for the block: one that is there already, else one started here
    (and stopped at the end). See the module's documentation."""
    if _which("docker") is None:  # the CLI drives any engine, and comes with docker.io
        ensure_packages("dockerd", "debootstrap")
    cli = _which("docker")
    found = _working_engine(cli)
    if found is not None and cli is not None:
        LOG.info("using the Docker engine at %s", found)
        yield DockerEngine(host=found, cli=cli)
        return
    ensure_packages("dockerd", "debootstrap")
    cli, dockerd = _which("docker"), _which("dockerd")
    if cli is None or dockerd is None:
        raise DockerEngineError("docker.io is installed but `docker` or `dockerd` is not on PATH")
    # A package that starts its service (systemd machines) gives us an engine to use as it is.
    if not os.environ.get("DOCKER_HOST") and _answers(cli, SYSTEM_HOST):
        yield DockerEngine(host=SYSTEM_HOST, cli=cli)
        return
    version = dockerd_version(dockerd)
    directory = EngineDirectory(cache_root() / f"docker-{version}")
    with _locked(directory.lock, lock_timeout):
        running = _daemon_of(directory)
        if running is not None:
            # Holding the lock, this is no other session's daemon: one left by a session that
            # died. It was not started by this process, so it is used but not stopped.
            if not _answers(cli, directory.host):
                raise DockerEngineError(
                    f"dockerd {running} runs on {directory.root} but does not answer on "
                    f"{directory.host}: stop it (kill {running}) and run again"
                )
            LOG.warning(
                "using dockerd %d, left running in %s; stop it by hand", running, directory.root
            )
            yield DockerEngine(host=directory.host, cli=cli, directory=directory.root)
            return
        had_docker0 = Path("/sys/class/net/docker0").exists()
        process = _start_daemon(dockerd, version, directory)
        try:
            _wait_ready(cli, process, directory, start_timeout)
            yield DockerEngine(
                host=directory.host, cli=cli, daemon_pid=process.pid, directory=directory.root
            )
        finally:
            _stop_daemon(process, directory, had_docker0)


# -- images ------------------------------------------------------------------------------------


def _one_line_entries(text: str) -> Iterator[tuple[str, list[str]]]:
    for line in text.splitlines():
        words = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
        if len(words) >= 3 and words[0] == "deb":
            yield words[1], [words[2]]


def _deb822_entries(text: str) -> Iterator[tuple[str, list[str]]]:
    for paragraph in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in paragraph.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled") == "no":
            continue
        for uri in fields.get("uris", "").split():
            yield uri, fields.get("suites", "").split()


def apt_mirror(suite: str = SUITE, apt_dir: Path = Path("/etc/apt")) -> str:
    """The first http(s) or file URI that apt uses for ``suite``, else DEFAULT_MIRROR."""
    sources: list[tuple[Path, bool]] = [(apt_dir / "sources.list", False)]
    sources += [(path, False) for path in sorted(apt_dir.glob("sources.list.d/*.list"))]
    sources += [(path, True) for path in sorted(apt_dir.glob("sources.list.d/*.sources"))]
    for path, deb822 in sources:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        entries = _deb822_entries(text) if deb822 else _one_line_entries(text)
        for uri, suites in entries:
            if suite in suites and urlparse(uri).scheme in ("http", "https", "file"):
                return uri
    return DEFAULT_MIRROR


def _prepare_rootfs(rootfs: Path) -> None:
    """What Debian's own images do: no service starts during apt-get, no package cache."""
    policy = rootfs / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\n# no service starts in an image build\nexit 101\n")
    policy.chmod(0o755)
    for pattern in ("var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/lib/apt/lists/*_*"):
        for path in rootfs.glob(pattern):
            path.unlink()


def base_image(engine: DockerEngine, *, mirror: str | None = None) -> str:
    """``gameday-test/debian:bookworm``, made once per engine with debootstrap (minbase, from the
    mirror apt uses) and ``docker import``; returns its name."""
    if engine.image_exists(BASE_IMAGE):
        return BASE_IMAGE
    with _locked(cache_root() / "base-image.lock", LOCK_TIMEOUT_S):
        if engine.image_exists(BASE_IMAGE):
            return BASE_IMAGE
        ensure_packages("debootstrap")
        debootstrap = _which("debootstrap")
        if debootstrap is None:
            raise DockerEngineError("debootstrap is installed but not on PATH")
        source = mirror or apt_mirror()
        work = Path(tempfile.mkdtemp(prefix="debootstrap-", dir=cache_root()))
        rootfs = work / "rootfs"
        try:
            LOG.warning("debootstrap %s from %s (about 40 s)", SUITE, source)
            _run(
                [debootstrap, "--variant=minbase", SUITE, str(rootfs), source],
                timeout=DEBOOTSTRAP_TIMEOUT_S,
                what="debootstrap",
            )
            _prepare_rootfs(rootfs)
            _import_rootfs(engine, rootfs, BASE_IMAGE)
        finally:
            stuck = _unmount_under(work)
            if stuck:  # never delete through a mount (proc, sys, dev of the host)
                LOG.warning("left %s: still mounted there: %s", work, stuck)
            else:
                shutil.rmtree(work, ignore_errors=True)
    return BASE_IMAGE


def _import_rootfs(engine: DockerEngine, rootfs: Path, tag: str) -> None:
    tar = subprocess.Popen(
        ["tar", "--numeric-owner", "--xattrs", "-C", str(rootfs), "-c", "."],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert tar.stdout is not None and tar.stderr is not None
    try:
        engine.docker(
            "import",
            "--change",
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--change",
            'CMD ["/bin/bash"]',
            "--message",
            f"debootstrap --variant=minbase {SUITE}",
            "-",
            tag,
            stdin=tar.stdout,
            timeout=COMMAND_TIMEOUT_S,
        )
    finally:
        tar.stdout.close()
        errors = tar.stderr.read().decode(errors="replace")
        tar.stderr.close()
        code = tar.wait()
    if code != 0:
        engine.docker("image", "rm", "--force", tag, check=False)
        raise DockerEngineError(f"tar of {rootfs} failed (exit {code}): {_tail(errors)}")


def _app_file(name: str) -> str:
    return (APP_DIR / name).read_text(encoding="utf-8")


def redis_image(engine: DockerEngine) -> str:
    """``gameday-test/redis``: redis-server on 6379, prometheus-redis-exporter on 9121."""
    base_image(engine)
    return engine.build_image(
        REDIS_IMAGE,
        _app_file("Dockerfile.redis"),
        {"entrypoint.sh": _app_file("redis-entrypoint.sh")},
    )


def monitoring_image(engine: DockerEngine) -> str:
    """``gameday-test/monitoring``: prometheus and prometheus-alertmanager, command and
    configuration given at run time."""
    base_image(engine)
    return engine.build_image(MONITORING_IMAGE, _app_file("Dockerfile.monitoring"))


def app_image(engine: DockerEngine) -> str:
    """``gameday-test/app``: tests/containers_app/app.py on port 8080, Redis at $REDIS_HOST."""
    base_image(engine)
    return engine.build_image(
        APP_IMAGE, _app_file("Dockerfile.app"), {"app.py": _app_file("app.py")}
    )


def service_images(engine: DockerEngine) -> dict[str, str]:
    """The base and the three service images, built when missing; name → image."""
    return {
        "base": base_image(engine),
        "redis": redis_image(engine),
        "monitoring": monitoring_image(engine),
        "app": app_image(engine),
    }
