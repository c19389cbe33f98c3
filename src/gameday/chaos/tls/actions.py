"""Certificate faults on the lab's TLS endpoint (the opt-in part `tls`), each paired with
its revert in the fault ledger.

`swap_certificate` makes the endpoint serve a bad certificate from its next handshake
on (the endpoint reloads a changed certificate file without a restart):

- ``short-lived``: from the lab CA, expiring in 2 days: handshakes still succeed,
  CertificateExpiring fires;
- ``untrusted``: self-signed: a client that trusts the lab CA fails the handshake,
  TLSHandshakeFailures fires;
- ``wrong-name``: from the lab CA but for another host name: hostname verification
  fails, TLSHandshakeFailures fires.

The good certificate is kept aside (`LAB_DIR/tls/server-original.pem`) and never
touched by a swap: `restore_certificate` (the revert, also run by the next run after
a crash) serves it again. `renew_certificate` is the runbook's "Renew Certificate":
a fresh 90-day certificate from the lab CA becomes the good one and is served.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.revert import lab_and_ledger, revert_for
from gameday.context import run_context
from gameday.errors import LabError
from gameday.lab.config import HOST, LabConfig
from gameday.lab.extras.runtime import started_extras
from gameday.lab.tls_certificates import (
    KINDS,
    TlsFiles,
    certificate_block,
    certificate_info,
    fault_certificate,
    renew,
    restore_original,
    tls_files,
    write_private,
)
from gameday.observe.polling import poll_until
from gameday.record.ledger import Revert

__all__ = ["ARGUMENT_CHECKS", "renew_certificate", "restore_certificate", "swap_certificate"]
logger = logging.getLogger("gameday.chaos.tls.actions")
MODULE = __name__
PART = "tls"
SERVED_TIMEOUT_S = 10.0


def check_kind(kind: str) -> str:
    """The certificate kind, or ActivityFailed naming the kinds there are."""
    if kind not in KINDS:
        choices = "; ".join(f"{name} ({what})" for name, what in KINDS.items())
        raise ActivityFailed(f"no certificate kind {kind!r}: choose one of {choices}")
    return kind


def _check_swap(arguments: dict[str, Any]) -> None:
    try:
        check_kind(arguments.get("kind", "short-lived"))
    except ActivityFailed as exc:
        raise ValueError(str(exc)) from None


ARGUMENT_CHECKS = {"swap_certificate": _check_swap}


def _revert(configuration: Configuration | None) -> Revert:
    return revert_for(MODULE, "restore_certificate", configuration)


def served_certificate(lab: LabConfig, timeout_s: float = 2.0) -> bytes | None:
    """The certificate the endpoint shows a client now (DER), None when it does not
    answer. Not verified: a bad certificate is what a fault wants to see served."""
    try:
        pem = ssl.get_server_certificate((HOST, lab.ports.tls_endpoint), timeout=timeout_s)
    except (OSError, ssl.SSLError):
        return None
    return ssl.PEM_cert_to_DER_cert(pem)


def _await_served(lab: LabConfig, pem: bytes, *, what: str) -> float:
    """Wait until the endpoint's handshakes show this certificate; seconds waited."""
    wanted = ssl.PEM_cert_to_DER_cert(certificate_block(pem).decode())
    polled = poll_until(
        lambda: True if served_certificate(lab) == wanted else None,
        timeout_s=SERVED_TIMEOUT_S,
        interval_s=0.1,
    )
    if not polled.met:
        log = lab.logs / "tls-endpoint.log"
        raise ActivityFailed(
            f"the TLS endpoint does not serve the {what} certificate "
            f"{SERVED_TIMEOUT_S:.0f}s after it was written: see {log}"
        )
    return polled.elapsed_s


def _tls_files_of_running_part(lab: LabConfig) -> TlsFiles:
    files = tls_files(lab)
    if PART not in started_extras(lab) or not files.original.is_file():
        raise ActivityFailed(
            "the lab's TLS part is not running: declare the lab-parts control with "
            "`parts: [tls]` first in the experiment's controls (or run `gameday lab start tls`)"
        )
    return files


def swap_certificate(
    kind: str = "short-lived", configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Make the lab's TLS endpoint serve a bad certificate until `restore_certificate`.

    `kind`: `short-lived` (from the lab CA, expires in 2 days: CertificateExpiring),
    `untrusted` (self-signed: handshakes of clients trusting the lab CA fail) or
    `wrong-name` (from the lab CA for another host: hostname verification fails).
    The fault is applied once the endpoint's handshakes show the new certificate.

    Returns the kind and the swapped-in certificate's subject, issuer and expiry.
    """
    check_kind(kind)
    lab, ledger = lab_and_ledger(configuration)
    files = _tls_files_of_running_part(lab)
    try:
        pem = fault_certificate(files, kind)
    except LabError as exc:
        raise ActivityFailed(f"could not issue the {kind} certificate: {exc}") from exc
    with ledger.applying(f"{kind} certificate served by the TLS endpoint", _revert(configuration)):
        write_private(files.live, pem)
        took = _await_served(lab, pem, what=kind)
    info = certificate_info(files.live)
    detail = f"the TLS endpoint serves a {kind} certificate: {info.describe()}"
    run_context(configuration).record(
        "fault_applied",
        detail,
        fault="swap_certificate",
        kind=kind,
        not_after=info.not_after.isoformat(),
    )
    logger.info("%s (served after %.2fs)", detail, took)
    return {
        "kind": kind,
        "subject": info.subject,
        "issuer": info.issuer,
        "not_after": info.not_after.isoformat(),
        "days_left": round(info.days_left(), 2),
    }


def restore_certificate(
    configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Serve the lab CA's good certificate again (the revert of `swap_certificate`).
    Idempotent; works whether or not the endpoint runs (it loads the file when it starts)."""
    lab, ledger = lab_and_ledger(configuration)
    files = tls_files(lab)
    changed = restore_original(files)
    if changed and served_certificate(lab) is not None:
        _await_served(lab, files.original.read_bytes(), what="restored")
    ledger.clear_matching(_revert(configuration))
    detail = (
        "the TLS endpoint serves the lab CA's certificate again"
        if changed
        else "the TLS endpoint already served the lab CA's certificate"
    )
    run_context(configuration).record("fault_reverted", detail, fault="swap_certificate")
    logger.info(detail)
    return {"restored": changed}


def renew_certificate(
    configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """Renew the TLS endpoint's certificate (the runbook's "Renew Certificate"): a fresh
    90-day certificate from the lab CA becomes the good one and is served at once,
    whatever was served before (a swapped-in certificate is gone with it).

    Returns the new certificate's subject, issuer and expiry.
    """
    lab, ledger = lab_and_ledger(configuration)
    files = _tls_files_of_running_part(lab)
    try:
        info = renew(files)
    except LabError as exc:
        raise ActivityFailed(f"could not renew the certificate: {exc}") from exc
    _await_served(lab, files.live.read_bytes(), what="renewed")
    ledger.clear_matching(_revert(configuration))
    detail = f"renewed the TLS endpoint's certificate: {info.describe()}"
    run_context(configuration).record("fault_reverted", detail, fault="swap_certificate")
    logger.info(detail)
    return {
        "subject": info.subject,
        "issuer": info.issuer,
        "not_after": info.not_after.isoformat(),
        "days_left": round(info.days_left(), 2),
    }
