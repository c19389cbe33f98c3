"""The lab's own certificates, issued with the openssl CLI: a lab CA, the server
certificate the TLS endpoint serves (127.0.0.1 and localhost, 90 days), and the bad
certificates a fault swaps in.

Everything lives under ``LAB_DIR/tls``:

- ``ca.key``, ``ca.crt``: the lab CA, which the blackbox exporter trusts;
- ``server-original.pem``: the good certificate with its key, kept aside; no fault
  touches it, so a run killed during a swap is restored from it by the next run;
- ``server.pem``: what the endpoint serves (key and certificate in one file, replaced
  atomically, so the endpoint never reads one without the other).

Keys are EC P-256: issuing one takes milliseconds, so a fault swaps at once.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gameday.errors import LabError
from gameday.lab.config import HOST, LabConfig

CA_DAYS = 3650
SERVER_DAYS = 90
SHORT_LIVED_DAYS = 2
# A kept certificate with fewer days left is issued anew at the part's start: the lab
# must start without CertificateExpiring (30 days) firing.
REISSUE_BELOW_DAYS = 45.0
CA_NAME = "gameday lab CA"
SERVER_NAME = HOST
SERVER_SAN = f"IP:{HOST},DNS:localhost"
WRONG_NAME = "wrong-name.invalid"
WRONG_SAN = f"DNS:{WRONG_NAME},IP:192.0.2.1"
OPENSSL_TIMEOUT_S = 30
# The certificates a fault can swap in, and what each does to a client that trusts the CA.
KINDS: dict[str, str] = {
    "short-lived": f"issued by the lab CA, expires in {SHORT_LIVED_DAYS} days",
    "untrusted": "self-signed: a client trusting the lab CA fails the handshake",
    "wrong-name": f"issued by the lab CA for {WRONG_NAME}: hostname verification fails",
}

_OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = {san}
subjectKeyIdentifier = hash
"""


@dataclass(frozen=True)
class TlsFiles:
    """Where the lab's certificates are (see the module's docstring)."""

    directory: Path

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca.key"

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def original(self) -> Path:
        return self.directory / "server-original.pem"

    @property
    def live(self) -> Path:
        return self.directory / "server.pem"


def tls_files(config: LabConfig) -> TlsFiles:
    return TlsFiles(config.directory / "tls")


@dataclass(frozen=True)
class CertificateInfo:
    """What openssl says of a certificate."""

    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]

    def days_left(self, now: datetime | None = None) -> float:
        moment = now or datetime.now(UTC)
        return (self.not_after - moment).total_seconds() / 86400

    def describe(self) -> str:
        names = ", ".join([*self.ip_addresses, *self.dns_names]) or "no SAN"
        return (
            f"{self.subject} ({names}), issued by {self.issuer}, "
            f"valid until {self.not_after:%Y-%m-%d %H:%M} UTC"
        )


def _openssl(*args: str, what: str) -> str:
    try:
        done = subprocess.run(
            ["openssl", *args],
            capture_output=True,
            text=True,
            timeout=OPENSSL_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise LabError("openssl not found", part="tls", hint="apt-get install -y openssl") from None
    if done.returncode != 0:
        raise LabError(
            f"openssl could not {what}: {done.stderr.strip()[-400:]}",
            part="tls",
        )
    return done.stdout


def _date(text: str) -> datetime:
    # `-dateopt iso_8601` prints 2026-12-04 07:19:11Z
    return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=UTC)


def parse_x509_text(text: str) -> CertificateInfo:
    """Parse `openssl x509 -noout -subject -issuer -startdate -enddate -ext
    subjectAltName -nameopt RFC2253 -dateopt iso_8601`."""
    fields: dict[str, str] = {}
    san = ""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        key, sep, value = line.partition("=")
        if sep and key in {"subject", "issuer", "notBefore", "notAfter"}:
            fields[key] = value.strip()
        elif line.strip().startswith("X509v3 Subject Alternative Name"):
            san = lines[index + 1].strip() if index + 1 < len(lines) else ""
    missing = {"subject", "issuer", "notBefore", "notAfter"} - set(fields)
    if missing:
        raise LabError(f"openssl printed no {', '.join(sorted(missing))}: {text!r}", part="tls")
    entries = [entry.strip() for entry in san.split(",") if entry.strip()]
    return CertificateInfo(
        subject=fields["subject"],
        issuer=fields["issuer"],
        not_before=_date(fields["notBefore"]),
        not_after=_date(fields["notAfter"]),
        dns_names=tuple(e.removeprefix("DNS:") for e in entries if e.startswith("DNS:")),
        ip_addresses=tuple(
            e.removeprefix("IP Address:") for e in entries if e.startswith("IP Address:")
        ),
    )


def certificate_info(path: Path) -> CertificateInfo:
    """The certificate in `path` (a PEM file; a key in it is skipped)."""
    text = _openssl(
        "x509",
        "-in",
        str(path),
        "-noout",
        "-subject",
        "-issuer",
        "-startdate",
        "-enddate",
        "-ext",
        "subjectAltName",
        "-nameopt",
        "RFC2253",
        "-dateopt",
        "iso_8601",
        what=f"read the certificate {path}",
    )
    return parse_x509_text(text)


def signed_by(ca_cert: Path, path: Path) -> bool:
    """Whether the certificate in `path` chains to `ca_cert` for a TLS server."""
    try:
        _openssl(
            "verify", "-CAfile", str(ca_cert), "-purpose", "sslserver", str(path), what="verify"
        )
    except LabError:
        return False
    return True


def write_private(path: Path, content: bytes) -> None:
    """Write a file readable by its owner only, atomically (a reader sees the old file or
    the new one, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _new_key(path: Path) -> None:
    _openssl(
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        str(path),
        what="generate a key",
    )
    path.chmod(0o600)


def ensure_ca(files: TlsFiles) -> bool:
    """Create the lab CA unless a usable one is there; True when created now."""
    if files.ca_key.is_file() and files.ca_cert.is_file():
        try:
            if certificate_info(files.ca_cert).days_left() > REISSUE_BELOW_DAYS:
                return False
        except LabError:
            pass  # unreadable: issue a new one
    files.directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=files.directory) as work:
        key, cert, conf = (Path(work) / name for name in ("ca.key", "ca.crt", "openssl.cnf"))
        conf.write_text(_OPENSSL_CONFIG.format(san=SERVER_SAN))
        _new_key(key)
        _openssl(
            "req",
            "-x509",
            "-new",
            "-key",
            str(key),
            "-days",
            str(CA_DAYS),
            "-subj",
            f"/CN={CA_NAME}",
            "-config",
            str(conf),
            "-extensions",
            "ca",
            "-out",
            str(cert),
            what="issue the lab CA",
        )
        write_private(files.ca_key, key.read_bytes())
        files.ca_cert.write_bytes(cert.read_bytes())
        files.ca_cert.chmod(0o644)
    return True


def issue(
    files: TlsFiles,
    *,
    days: int = SERVER_DAYS,
    name: str = SERVER_NAME,
    san: str = SERVER_SAN,
    self_signed: bool = False,
) -> bytes:
    """A new server certificate with its key, as one PEM (key first): from the lab CA,
    or self-signed (trusted by nobody)."""
    if days < 1:
        raise LabError(f"a certificate must be valid for at least 1 day, not {days}", part="tls")
    with tempfile.TemporaryDirectory(dir=files.directory) as work:
        key, csr, cert, conf = (
            Path(work) / n for n in ("server.key", "server.csr", "server.crt", "openssl.cnf")
        )
        conf.write_text(_OPENSSL_CONFIG.format(san=san))
        _new_key(key)
        subject = f"/CN={name}"
        if self_signed:
            _openssl(
                "req",
                "-x509",
                "-new",
                "-key",
                str(key),
                "-days",
                str(days),
                "-subj",
                subject,
                "-config",
                str(conf),
                "-extensions",
                "server",
                "-out",
                str(cert),
                what="issue a self-signed certificate",
            )
        else:
            _openssl(
                "req",
                "-new",
                "-key",
                str(key),
                "-subj",
                subject,
                "-config",
                str(conf),
                "-out",
                str(csr),
                what="write a certificate request",
            )
            _openssl(
                "x509",
                "-req",
                "-in",
                str(csr),
                "-CA",
                str(files.ca_cert),
                "-CAkey",
                str(files.ca_key),
                "-set_serial",
                f"0x{secrets.randbits(63) + 1:x}",
                "-days",
                str(days),
                "-extfile",
                str(conf),
                "-extensions",
                "server",
                "-out",
                str(cert),
                what="sign a server certificate with the lab CA",
            )
        return key.read_bytes() + cert.read_bytes()


def fault_certificate(files: TlsFiles, kind: str) -> bytes:
    """The bad certificate of a fault `kind` (one of KINDS), with its key."""
    if kind == "short-lived":
        return issue(files, days=SHORT_LIVED_DAYS)
    if kind == "untrusted":
        return issue(files, self_signed=True)
    if kind == "wrong-name":
        return issue(files, name=WRONG_NAME, san=WRONG_SAN)
    raise LabError(
        f"no certificate kind {kind!r}", part="tls", hint=f"use one of: {', '.join(KINDS)}"
    )


def _good(files: TlsFiles, path: Path) -> bool:
    """A certificate the lab can start with: from its CA, for its names, not expiring."""
    if not path.is_file() or not signed_by(files.ca_cert, path):
        return False
    try:
        info = certificate_info(path)
    except LabError:
        return False
    return (
        info.days_left() > REISSUE_BELOW_DAYS
        and HOST in info.ip_addresses
        and "localhost" in info.dns_names
    )


def prepare_certificates(files: TlsFiles) -> CertificateInfo:
    """The lab CA and a good server certificate (kept ones reused while good), served:
    the endpoint starts with the good certificate whatever a past fault left."""
    created = ensure_ca(files)
    if created or not _good(files, files.original):
        write_private(files.original, issue(files))
    restore_original(files)
    return certificate_info(files.original)


def restore_original(files: TlsFiles) -> bool:
    """Serve the kept good certificate again; False when it already was (or none is kept)."""
    if not files.original.is_file():
        return False
    wanted = files.original.read_bytes()
    if files.live.is_file() and files.live.read_bytes() == wanted:
        return False
    write_private(files.live, wanted)
    return True


def renew(files: TlsFiles) -> CertificateInfo:
    """A fresh 90-day certificate from the lab CA, kept as the good one and served."""
    pem = issue(files)
    write_private(files.original, pem)
    write_private(files.live, pem)
    return certificate_info(files.original)


PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def certificate_block(pem: bytes) -> bytes:
    """The certificate of a key-and-certificate PEM (what a client is shown)."""
    found = PEM_CERTIFICATE.search(pem)
    if found is None:
        raise LabError("no certificate in the PEM data", part="tls")
    return found.group(0)
