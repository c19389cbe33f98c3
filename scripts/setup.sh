# Shared set-up for scripts/demo and scripts/test; source it, don't run it.
# Installs what gameday needs on a fresh Debian machine: the Debian packages the
# lab runs (when missing) and the Python package in ./.venv. Idempotent and
# quiet when everything is already there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
# binary:package pairs the lab needs; a "binary" with a "/" is a file (glob) the
# package installs, for packages without a command.
DEBIAN_NEEDS=(
  "prometheus:prometheus"
  "promtool:prometheus"
  "prometheus-alertmanager:prometheus-alertmanager"
  "redis-server:redis-server"
  "redis-cli:redis-tools"
  "amtool:prometheus-alertmanager"
  "openssl:openssl"
  "prometheus-redis-exporter:prometheus-redis-exporter"
  "etcd:etcd-server"
  "etcdctl:etcd-client"
  "ffmpeg:ffmpeg"
  "gst-launch-1.0:gstreamer1.0-tools"
  "/usr/lib/*/girepository-1.0/GstRtspServer-1.0.typelib:gir1.2-gst-rtsp-server-1.0"
  "/usr/lib/python3/dist-packages/gi/overrides/Gst.py:python3-gst-1.0"
  "/usr/lib/*/gstreamer-1.0/libgstvideotestsrc.so:gstreamer1.0-plugins-base"
  "/usr/lib/*/gstreamer-1.0/libgstrtp.so:gstreamer1.0-plugins-good"
  "/usr/lib/*/gstreamer-1.0/libgstx264.so:gstreamer1.0-plugins-ugly"
  "/usr/lib/*/gstreamer-1.0/libgstrtspclientsink.so:gstreamer1.0-rtsp"
  "chromium:chromium"
  # The opt-in parts (gameday lab start / an experiment's lab-parts control).
  "/usr/lib/postgresql/*/bin/initdb:postgresql"
  "prometheus-postgres-exporter:prometheus-postgres-exporter"
  "nats-server:nats-server"
  "prometheus-node-exporter:prometheus-node-exporter"
  "prometheus-blackbox-exporter:prometheus-blackbox-exporter"
)

log() { printf '[setup] %s\n' "$*" >&2; }

install_debian_packages() {
  local extra=("$@") missing=() pair bin pkg
  for pair in "${DEBIAN_NEEDS[@]}" "${extra[@]}"; do
    bin="${pair%%:*}"; pkg="${pair#*:}"
    if [[ "$bin" == */* ]]; then
      compgen -G "$bin" >/dev/null || missing+=("$pkg")
    else
      command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  local cmd="apt-get install -y --no-install-recommends ${missing[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    log "this machine has no apt-get; install these (Debian names) and run again: ${missing[*]}"
    exit 3
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      log "missing Debian packages; as root run: apt-get update && $cmd"
      exit 3
    fi
  fi
  log "installing Debian packages: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive $cmd >/dev/null
}

install_python_package() {
  local extras="$1" python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    log "gameday needs Python >= 3.11 ($python is $("$python" --version 2>&1)); set PYTHON=/path/to/python3.11"
    exit 3
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtualenv $VENV"
    "$python" -m venv "$VENV" || { log "python3 -m venv failed: apt-get install python3-venv"; exit 3; }
  fi
  local stamp="$VENV/.gameday-installed-$extras"
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    log "installing gameday[$extras] into $VENV (first time: about a minute)"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q -e "$ROOT[$extras]"
    touch "$stamp"
  fi
}
