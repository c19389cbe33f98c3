"""The TLS part: an HTTPS endpoint with the lab's own certificates, probed over TLS by
the blackbox exporter, for certificate expiry and handshake failures.

`prepare` issues a lab CA and a 90-day server certificate for 127.0.0.1/localhost
with the openssl CLI (`lab.tls_certificates`), kept in `LAB_DIR/tls` across starts
while good, and writes the blackbox exporter's configuration: one module that GETs
the endpoint's `/healthz` over HTTPS, trusting only the lab CA. Prometheus scrapes
`/probe?module=lab_tls&target=https://127.0.0.1:PORT/healthz` each second, which
gives `probe_success`, `probe_http_ssl` and `probe_ssl_earliest_cert_expiry`; a
second job probes a plain TCP connect to the same port (`job="tls-connect"`), so a
failed handshake is told from an endpoint that is down (blackbox 0.23 reports both
the same way).
"""

from __future__ import annotations

import shutil
import sys

import yaml

from gameday.errors import LabError
from gameday.lab.config import HOST, LabConfig
from gameday.lab.extras.base import Extra, ScrapeJob, ScrapeTarget
from gameday.lab.supervisor import Part, Program
from gameday.lab.tls_certificates import (
    prepare_certificates,
    restore_original,
    tls_files,
)

APT = "apt-get install -y --no-install-recommends"
BLACKBOX = "prometheus-blackbox-exporter"
PROBE_MODULE = "lab_tls"
PROBE_JOB = "tls-probe"
# A plain TCP connect to the same port: tells a failed handshake from an endpoint down.
CONNECT_MODULE = "lab_tcp"
CONNECT_JOB = "tls-connect"
ENDPOINT = "tls-endpoint"
# The probe's deadline is the scrape timeout (1 s) less this offset: a handshake on
# 127.0.0.1 takes milliseconds, the rest is room for a busy machine.
TIMEOUT_OFFSET_S = 0.2
BINARIES = {"openssl": "openssl", BLACKBOX: BLACKBOX}


def endpoint_url(config: LabConfig) -> str:
    return f"https://{HOST}:{config.ports.tls_endpoint}/healthz"


def blackbox_config_file(config: LabConfig) -> str:
    return str(config.directory / "config" / "blackbox.yml")


def endpoint_address(config: LabConfig) -> str:
    return f"{HOST}:{config.ports.tls_endpoint}"


def blackbox_config(config: LabConfig) -> dict[str, object]:
    """The exporter's modules: the lab endpoint over verified TLS, and a plain TCP
    connect to it."""
    return {
        "modules": {
            CONNECT_MODULE: {
                "prober": "tcp",
                "timeout": "5s",
                "tcp": {"preferred_ip_protocol": "ip4", "ip_protocol_fallback": False},
            },
            PROBE_MODULE: {
                "prober": "http",
                "timeout": "5s",
                "http": {
                    "method": "GET",
                    "valid_status_codes": [200],
                    "fail_if_not_ssl": True,
                    "preferred_ip_protocol": "ip4",
                    "ip_protocol_fallback": False,
                    "tls_config": {
                        "ca_file": str(tls_files(config).ca_cert),
                        "insecure_skip_verify": False,
                    },
                },
            },
        }
    }


def _parts(config: LabConfig) -> list[Part]:
    return [
        Part(
            name=ENDPOINT,
            binary=sys.executable,
            install_hint="reinstall gameday",
            programs=(
                Program(
                    name=ENDPOINT,
                    command=[
                        sys.executable,
                        "-m",
                        "gameday.lab.tls_endpoint",
                        "--lab-config",
                        str(config.config_file),
                    ],
                    address=f"{HOST}:{config.ports.tls_endpoint} (HTTPS)",
                    priority=500,
                    stop_wait_s=5,
                ),
            ),
        ),
        Part(
            name="tls-blackbox",
            binary=BLACKBOX,
            install_hint=f"{APT} {BLACKBOX}",
            programs=(
                Program(
                    name="tls-blackbox",
                    command=[
                        BLACKBOX,
                        f"--config.file={blackbox_config_file(config)}",
                        f"--web.listen-address={HOST}:{config.ports.blackbox}",
                        f"--timeout-offset={TIMEOUT_OFFSET_S}",
                    ],
                    address=f"{HOST}:{config.ports.blackbox}",
                    priority=510,
                    stop_wait_s=5,
                ),
            ),
        ),
    ]


def _probe_job(config: LabConfig, job: str, module: str, target: str) -> ScrapeJob:
    # The exporter is the scrape target; what it probes, and how, are parameters of the
    # scrape (`/probe?module=…&target=…`).
    return ScrapeJob(
        name=job,
        targets=(
            ScrapeTarget(
                port=config.ports.blackbox,
                labels={"endpoint": ENDPOINT, "probed": target},
                path="/probe",
            ),
        ),
        settings={"params": {"module": [module], "target": [target]}},
    )


def _scrape_jobs(config: LabConfig) -> list[ScrapeJob]:
    return [
        _probe_job(config, PROBE_JOB, PROBE_MODULE, endpoint_url(config)),
        _probe_job(config, CONNECT_JOB, CONNECT_MODULE, endpoint_address(config)),
    ]


def _prepare(config: LabConfig) -> None:
    for binary, package in BINARIES.items():
        if shutil.which(binary) is None:
            raise LabError(f"{binary} not found on PATH", part="tls", hint=f"{APT} {package}")
    prepare_certificates(tls_files(config))
    path = config.directory / "config" / "blackbox.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(blackbox_config(config), sort_keys=False))


def _release(config: LabConfig) -> None:
    # A run killed during a swap leaves the bad certificate in place: serve the good
    # one again (its fault ledger entry, if any, is cleared by the next run's revert).
    restore_original(tls_files(config))


EXTRA = Extra(
    name="tls",
    summary="HTTPS endpoint with lab-CA certificates, probed over TLS by the blackbox exporter",
    parts=_parts,
    scrape_jobs=_scrape_jobs,
    prepare=_prepare,
    release=_release,
    binaries=BINARIES,
)
