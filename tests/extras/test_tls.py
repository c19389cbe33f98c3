"""The TLS part without a lab: certificates issued with the openssl CLI (its output
parsed: expiry, SAN), the endpoint's certificate reload without a restart, the
blackbox exporter's configuration and scrape jobs, and the certificate faults with
their ledger entry (bad kinds refused)."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from chaoslib.exceptions import ActivityFailed

from gameday.chaos.tls import actions
from gameday.errors import LabError
from gameday.lab.config import HOST, LabConfig, LabPorts
from gameday.lab.extras import runtime, tls
from gameday.lab.extras.registry import EXTRAS
from gameday.lab.tls_certificates import (
    KINDS,
    TlsFiles,
    certificate_block,
    certificate_info,
    fault_certificate,
    issue,
    parse_x509_text,
    prepare_certificates,
    restore_original,
    signed_by,
    tls_files,
    write_private,
)
from gameday.lab.tls_endpoint import CertificateStore, TLSServer
from gameday.targets import fault_ledger

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

OPENSSL_OUTPUT = """\
subject=CN=127.0.0.1
issuer=CN=gameday lab CA
notBefore=2026-12-02 07:19:11Z
notAfter=2027-03-02 07:19:11Z
X509v3 Subject Alternative Name: \n    IP Address:127.0.0.1, DNS:localhost
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def lab_at(directory: Path, endpoint_port: int | None = None) -> LabConfig:
    overrides = {"tls_endpoint": endpoint_port} if endpoint_port else None
    config = LabConfig(directory=directory, ports=LabPorts.from_base(36000, overrides))
    config.save()
    config.run.mkdir(parents=True, exist_ok=True)
    return config


def served(port: int, ca: Path | None) -> bytes:
    """The certificate the server at `port` shows (DER), verifying against `ca` if given."""
    if ca is None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection((HOST, port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=HOST) as wrapped,
    ):
        certificate = wrapped.getpeercert(binary_form=True)
        assert certificate is not None
        return certificate


def der(pem: bytes) -> bytes:
    return ssl.PEM_cert_to_DER_cert(certificate_block(pem).decode())


@pytest.fixture
def files(tmp_path: Path) -> TlsFiles:
    found = TlsFiles(tmp_path / "tls")
    prepare_certificates(found)
    return found


@pytest.fixture
def endpoint(files: TlsFiles) -> Iterator[int]:
    """The endpoint's server on a free port, serving `files.live`."""
    store = CertificateStore(files.live)
    store.context()  # as the endpoint does before it listens
    server = TLSServer((HOST, 0), store)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


# --- openssl's output -------------------------------------------------------------------


def test_openssl_output_is_parsed_into_expiry_and_names() -> None:
    info = parse_x509_text(OPENSSL_OUTPUT)
    assert info.subject == "CN=127.0.0.1"
    assert info.issuer == "CN=gameday lab CA"
    assert info.not_after == datetime(2027, 3, 2, 7, 19, 11, tzinfo=UTC)
    assert info.not_before == datetime(2026, 12, 2, 7, 19, 11, tzinfo=UTC)
    assert info.ip_addresses == ("127.0.0.1",)
    assert info.dns_names == ("localhost",)
    assert info.days_left(datetime(2027, 3, 1, 7, 19, 11, tzinfo=UTC)) == pytest.approx(1.0)


def test_a_certificate_without_san_has_no_names() -> None:
    text = "\n".join(OPENSSL_OUTPUT.splitlines()[:4]) + "\n"
    info = parse_x509_text(text)
    assert info.ip_addresses == () and info.dns_names == ()


def test_openssl_output_without_an_expiry_is_refused() -> None:
    with pytest.raises(LabError, match="notAfter"):
        parse_x509_text("subject=CN=x\nissuer=CN=x\nnotBefore=2026-12-02 07:19:11Z\n")


# --- issuing -----------------------------------------------------------------------------


def test_prepare_issues_a_lab_ca_and_a_90_day_server_certificate(files: TlsFiles) -> None:
    ca = certificate_info(files.ca_cert)
    assert ca.subject == ca.issuer == "CN=gameday lab CA"
    server = certificate_info(files.original)
    assert server.subject == "CN=127.0.0.1"
    assert server.issuer == "CN=gameday lab CA"
    assert server.ip_addresses == ("127.0.0.1",) and server.dns_names == ("localhost",)
    assert 89.9 < server.days_left() <= 90.0
    assert signed_by(files.ca_cert, files.original)
    assert files.live.read_bytes() == files.original.read_bytes()
    for key in (files.ca_key, files.original, files.live):
        assert key.stat().st_mode & 0o077 == 0, f"{key} is readable by others"


def test_prepare_keeps_good_certificates_and_serves_the_good_one(files: TlsFiles) -> None:
    ca, original = files.ca_cert.read_bytes(), files.original.read_bytes()
    write_private(files.live, fault_certificate(files, "untrusted"))
    prepare_certificates(files)
    assert files.ca_cert.read_bytes() == ca
    assert files.original.read_bytes() == original
    assert files.live.read_bytes() == original


def test_prepare_reissues_a_kept_certificate_that_expires_soon(files: TlsFiles) -> None:
    write_private(files.original, issue(files, days=10))
    prepare_certificates(files)
    assert certificate_info(files.original).days_left() > 89


def test_prepare_reissues_a_kept_certificate_of_another_ca(files: TlsFiles) -> None:
    write_private(files.original, fault_certificate(files, "untrusted"))
    prepare_certificates(files)
    assert signed_by(files.ca_cert, files.original)


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_fault_certificate_is_bad_in_its_own_way(files: TlsFiles, kind: str) -> None:
    path = files.directory / f"{kind}.pem"
    path.write_bytes(fault_certificate(files, kind))
    info = certificate_info(path)
    if kind == "short-lived":
        assert signed_by(files.ca_cert, path)
        assert 1.9 < info.days_left() <= 2.0
        assert "127.0.0.1" in info.ip_addresses
    elif kind == "untrusted":
        assert not signed_by(files.ca_cert, path)
        assert info.issuer == info.subject
        assert info.days_left() > 89
    else:
        assert signed_by(files.ca_cert, path)
        assert "127.0.0.1" not in info.ip_addresses and "localhost" not in info.dns_names


def test_an_unknown_kind_is_refused_by_the_issuer(files: TlsFiles) -> None:
    with pytest.raises(LabError, match="no certificate kind 'expired'") as caught:
        fault_certificate(files, "expired")
    assert caught.value.hint == "use one of: short-lived, untrusted, wrong-name"


def test_restore_original_is_idempotent(files: TlsFiles) -> None:
    assert restore_original(files) is False
    write_private(files.live, fault_certificate(files, "short-lived"))
    assert restore_original(files) is True
    assert restore_original(files) is False
    assert files.live.read_bytes() == files.original.read_bytes()


# --- the endpoint ------------------------------------------------------------------------


def test_the_endpoint_answers_healthz_over_verified_tls(files: TlsFiles, endpoint: int) -> None:
    context = ssl.create_default_context(cafile=str(files.ca_cert))
    connection = http.client.HTTPSConnection(HOST, endpoint, context=context, timeout=5)
    connection.request("GET", "/healthz")
    reply = connection.getresponse()
    assert (reply.status, reply.read()) == (200, b"ok\n")
    connection.close()


def test_the_endpoint_serves_a_swapped_certificate_without_a_restart(
    files: TlsFiles, endpoint: int
) -> None:
    assert served(endpoint, files.ca_cert) == der(files.original.read_bytes())
    bad = fault_certificate(files, "untrusted")
    write_private(files.live, bad)
    with pytest.raises(ssl.SSLCertVerificationError):
        served(endpoint, files.ca_cert)
    assert served(endpoint, None) == der(bad)
    restore_original(files)
    assert served(endpoint, files.ca_cert) == der(files.original.read_bytes())


def test_the_endpoint_keeps_its_certificate_when_the_file_does_not_load(
    files: TlsFiles, endpoint: int
) -> None:
    write_private(files.live, b"-----BEGIN CERTIFICATE-----\nhalf written")
    assert served(endpoint, files.ca_cert) == der(files.original.read_bytes())


def test_the_store_reloads_only_when_the_file_changes(files: TlsFiles) -> None:
    store = CertificateStore(files.live)
    first = store.context()
    assert store.context() is first and store.reloads == 1
    write_private(files.live, fault_certificate(files, "short-lived"))
    assert store.context() is not first and store.reloads == 2


def test_the_endpoint_refuses_to_start_without_a_certificate(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        CertificateStore(tmp_path / "none.pem").context()


# --- the part: its processes, its probe, its scrape jobs ---------------------------------


def test_the_part_is_registered_with_its_endpoint_and_exporter(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    assert EXTRAS["tls"] is tls.EXTRA
    parts = tls.EXTRA.parts(config)
    assert [part.name for part in parts] == ["tls-endpoint", "tls-blackbox"]
    blackbox = parts[1].programs[0].command
    assert f"--web.listen-address={HOST}:{config.ports.blackbox}" in blackbox
    assert set(tls.EXTRA.binaries) == {"openssl", "prometheus-blackbox-exporter"}


def test_prometheus_scrapes_the_exporter_with_the_probe_as_parameters(tmp_path: Path) -> None:
    config = lab_at(tmp_path)
    jobs = {job["job_name"]: job for job in runtime.prometheus_jobs(config)}
    probe, connect = jobs["tls-probe"], jobs["tls-connect"]
    url = f"https://{HOST}:{config.ports.tls_endpoint}/healthz"
    assert probe["metrics_path"] == connect["metrics_path"] == "/probe"
    assert probe["params"] == {"module": ["lab_tls"], "target": [url]}
    assert connect["params"] == {
        "module": ["lab_tcp"],
        "target": [f"{HOST}:{config.ports.tls_endpoint}"],
    }
    # Once started, the file-discovery target is the exporter, labelled with what it probes.
    [job] = [j for j in tls.EXTRA.scrape_jobs(config) if j.name == "tls-probe"]
    runtime._write_targets(config, job, started=True)
    [group] = json.loads(runtime.targets_file(config, "tls-probe").read_text())
    assert group["targets"] == [f"{HOST}:{config.ports.blackbox}"]
    assert group["labels"] == {"namespace": "lab", "endpoint": "tls-endpoint", "probed": url}


def test_prepare_writes_a_blackbox_config_trusting_only_the_lab_ca(tmp_path: Path) -> None:
    if shutil.which("prometheus-blackbox-exporter") is None:
        pytest.skip("needs prometheus-blackbox-exporter")
    config = lab_at(tmp_path)
    tls.EXTRA.prepare(config)
    path = Path(tls.blackbox_config_file(config))
    module = yaml.safe_load(path.read_text())["modules"]["lab_tls"]
    assert module["http"]["fail_if_not_ssl"] is True
    assert module["http"]["tls_config"] == {
        "ca_file": str(tls_files(config).ca_cert),
        "insecure_skip_verify": False,
    }
    checked = subprocess.run(
        ["prometheus-blackbox-exporter", f"--config.file={path}", "--config.check"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_prepare_names_a_missing_binary_and_its_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tls.shutil, "which", lambda name: None)
    with pytest.raises(LabError, match="openssl not found on PATH") as caught:
        tls.EXTRA.prepare(lab_at(tmp_path))
    assert caught.value.hint == "apt-get install -y --no-install-recommends openssl"


# --- the faults --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["expired", "", "Short-Lived"])
def test_a_bad_kind_is_refused_before_anything_is_touched(tmp_path: Path, kind: str) -> None:
    with pytest.raises(ActivityFailed, match="choose one of short-lived") as caught:
        actions.swap_certificate(kind=kind, configuration={"gameday_lab_dir": str(tmp_path)})
    assert repr(kind) in str(caught.value)
    assert not (tmp_path / "tls").exists()


def test_a_swap_needs_the_tls_part_running(tmp_path: Path) -> None:
    lab_at(tmp_path)
    with pytest.raises(ActivityFailed, match=r"parts: \[tls\]"):
        actions.swap_certificate(configuration={"gameday_lab_dir": str(tmp_path)})


def test_swap_records_its_revert_and_restore_undoes_it(files: TlsFiles, endpoint: int) -> None:
    config = lab_at(files.directory.parent, endpoint_port=endpoint)
    (config.run / "extras.json").write_text('["tls"]\n')
    configuration = {"gameday_lab_dir": str(config.directory)}

    swapped = actions.swap_certificate(kind="short-lived", configuration=configuration)
    assert swapped["kind"] == "short-lived" and 1.9 < swapped["days_left"] <= 2.0
    assert served(endpoint, files.ca_cert) == der(files.live.read_bytes())
    [entry] = fault_ledger(config).entries()
    assert entry["revert"]["module"] == "gameday.chaos.tls.actions"
    assert entry["revert"]["func"] == "restore_certificate"

    assert actions.restore_certificate(configuration=configuration) == {"restored": True}
    assert served(endpoint, files.ca_cert) == der(files.original.read_bytes())
    assert fault_ledger(config).entries() == []
    assert actions.restore_certificate(configuration=configuration) == {"restored": False}


def test_a_swap_left_by_a_killed_run_is_undone_by_the_ledger(
    files: TlsFiles, endpoint: int
) -> None:
    config = lab_at(files.directory.parent, endpoint_port=endpoint)
    (config.run / "extras.json").write_text('["tls"]\n')
    configuration = {"gameday_lab_dir": str(config.directory)}
    actions.swap_certificate(kind="untrusted", configuration=configuration)
    # What the next run does first: every revert left in the ledger.
    outcomes = fault_ledger(config).revert_all()
    assert [error for _, error in outcomes] == [None]
    assert served(endpoint, files.ca_cert) == der(files.original.read_bytes())


def test_renew_serves_a_fresh_certificate_and_keeps_it_as_the_good_one(
    files: TlsFiles, endpoint: int
) -> None:
    config = lab_at(files.directory.parent, endpoint_port=endpoint)
    (config.run / "extras.json").write_text('["tls"]\n')
    configuration = {"gameday_lab_dir": str(config.directory)}
    old = files.original.read_bytes()
    actions.swap_certificate(kind="short-lived", configuration=configuration)
    renewed = actions.renew_certificate(configuration=configuration)
    assert renewed["days_left"] > 89
    assert files.original.read_bytes() != old
    assert files.live.read_bytes() == files.original.read_bytes()
    assert served(endpoint, files.ca_cert) == der(files.original.read_bytes())
    assert fault_ledger(config).entries() == []
    expiry = datetime.fromisoformat(renewed["not_after"])
    assert expiry > datetime.now(UTC) + timedelta(days=89)
