"""The TLS experiments on the real lab: a certificate about to expire warns team chat and
renewing it clears the warning; a self-signed certificate fails verified handshakes,
pages on-call, and restoring the lab CA's certificate heals them. With the alert's rule
broken each run fails and names the alert that did not fire; Ctrl-C mid-fault puts the
good certificate back."""

from __future__ import annotations

import signal
import ssl
from pathlib import Path

import pytest
from tests.lab_runs import (
    assert_experiment_passes,
    assert_fails_naming_the_alert,
    assert_lab_healthy,
    interrupt_during_fault,
)

from gameday.chaos.tls.actions import served_certificate
from gameday.lab.config import LabConfig
from gameday.lab.tls_certificates import certificate_block, certificate_info, signed_by, tls_files
from gameday.observe.polling import poll_until
from gameday.observe.prometheus import Prometheus

pytestmark = pytest.mark.seed_failures

EXPERIMENTS = {
    "certificate-expiring": {"CertificateExpiring": "team-chat"},
    "tls-handshake-failure": {"TLSHandshakeFailures": "oncall-pager"},
}
# Each alert's rule made unable to fire: a 2-day certificate is not under 1 day; a
# failed probe is never 2.
BROKEN = {
    "certificate-expiring": ("CertificateExpiring", "/ 86400 < 30", "/ 86400 < 1"),
    "tls-handshake-failure": (
        "TLSHandshakeFailures",
        'job="tls-probe"} == 0',
        'job="tls-probe"} == 2',
    ),
}


def experiment(name: str) -> str:
    return f"experiments/seed-failures/{name}.yaml"


def assert_good_certificate_served(lab: LabConfig) -> None:
    """The endpoint serves the kept lab-CA certificate (90 days), and the probe says so."""
    files = tls_files(lab)
    assert files.live.read_bytes() == files.original.read_bytes()
    assert signed_by(files.ca_cert, files.original)
    assert certificate_info(files.original).days_left() > 89
    wanted = ssl.PEM_cert_to_DER_cert(certificate_block(files.original.read_bytes()).decode())
    assert served_certificate(lab) == wanted
    prometheus = Prometheus(lab.prometheus_url)
    healthy = poll_until(
        lambda: (
            prometheus.query_value('min(probe_success{namespace="lab",job="tls-probe"})') == 1
            or None
        ),
        timeout_s=20,
        interval_s=0.5,
    )
    assert healthy.met, "the TLS probe does not succeed again"


def assert_bad_certificate_served(lab: LabConfig) -> None:
    files = tls_files(lab)
    wanted = ssl.PEM_cert_to_DER_cert(certificate_block(files.original.read_bytes()).decode())
    assert served_certificate(lab) not in {None, wanted}


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_tls_experiment_passes_on_the_lab(lab: LabConfig, tmp_path: Path, name: str) -> None:
    result = assert_experiment_passes(lab, experiment(name), tmp_path, EXPERIMENTS[name])
    assert result["measurements"]["mttr_s"] <= 60
    assert_good_certificate_served(lab)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_a_tls_rule_that_cannot_fire_fails_the_run_and_says_so(
    lab: LabConfig, tmp_path: Path, name: str
) -> None:
    result = assert_fails_naming_the_alert(lab, experiment(name), tmp_path, BROKEN[name])
    failed = [e for e in result["expectations"] if not e["passed"]]
    assert failed[0]["alert"] == BROKEN[name][0], failed  # the first thing that failed
    assert_good_certificate_served(lab)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_ctrl_c_during_a_certificate_swap_restores_the_certificate(
    lab: LabConfig, tmp_path: Path, name: str
) -> None:
    result = interrupt_during_fault(
        lab,
        f"seed-failures/{name}",
        tmp_path,
        signal.SIGINT,
        lambda: assert_bad_certificate_served(lab),
    )
    assert result["status"] == "interrupted"
    assert_lab_healthy(lab)
    assert_good_certificate_served(lab)
