"""Target files (gameday.targets.file): every key read, every mistake refused with the file,
the key and the fix (exit 2), credentials from the environment or the experiment's Chaos
Toolkit secrets and never from the file, and never shown (repr, redaction). The last tests
go through the real CLI (`gameday validate --target`) without any network."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gameday.errors import EnvironmentProblem, GamedayError, InvalidInputError
from gameday.observe.http import HttpSettings
from gameday.record.redaction import MASK, Redactor
from gameday.runbook.rules import load_rule_file
from gameday.targets.file import read_target_file, target_from_mapping, target_spec

TOKEN_VAR = "GAMEDAY_TEST_PROM_TOKEN"
PASSWORD_VAR = "GAMEDAY_TEST_AM_PASSWORD"
UNSET_VAR = "GAMEDAY_TEST_NEVER_SET"
TOKEN = "tok-3f9a1c7e-prometheus"
PASSWORD = "pw-b41d0e22-alertmanager"

RULES = """\
groups:
  - name: cache
    rules:
      - alert: CacheDown
        expr: redis_up == 0
        for: 30s
        labels: {severity: page, team: cache}
        annotations: {summary: the cache is down}
"""

ALERTMANAGER_CONFIG = """\
route:
  receiver: default
  routes:
    - matchers: ['team="cache"']
      receiver: cache-pager
receivers:
  - name: default
  - name: cache-pager
"""


def write_yaml(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory holding everything a target file names (rules, TLS files, the
    Alertmanager configuration); the working directory is elsewhere, so relative paths
    resolve only against the target file."""
    directory = tmp_path / "conf"
    (directory / "rules").mkdir(parents=True)
    (directory / "rules" / "cache.yml").write_text(RULES, encoding="utf-8")
    (directory / "alertmanager.yml").write_text(ALERTMANAGER_CONFIG, encoding="utf-8")
    (directory / "tls").mkdir()
    for name in ("ca.pem", "client.pem", "client-key.pem"):
        (directory / "tls" / name).write_text("not read by the reader\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    monkeypatch.setenv(PASSWORD_VAR, PASSWORD)
    monkeypatch.delenv(UNSET_VAR, raising=False)
    return directory


def complete_document() -> dict[str, Any]:
    return {
        "kind": "external",
        "name": "staging",
        "prometheus": {
            "url": "https://prom.staging.example:9090/",
            "auth": {"bearer_token": {"env": TOKEN_VAR}},
            "tls": {
                "ca_file": "tls/ca.pem",
                "cert_file": "tls/client.pem",
                "key_file": "tls/client-key.pem",
            },
        },
        "alertmanager": {
            "url": "https://am.staging.example:9093",
            "auth": {"basic": {"username": "gameday", "password": {"env": PASSWORD_VAR}}},
            "config_file": "alertmanager.yml",
        },
        "sink": {"url": "http://127.0.0.1:9099"},
        "load": {"host": "https://api.staging.example"},
        "slo": {
            "error_ratio": 'sum(rate(http_requests_total{code=~"5.."}[1m]))'
            " / sum(rate(http_requests_total[1m]))",
            "latency_p99_s": "histogram_quantile(0.99, sum by (le) "
            "(rate(http_request_duration_seconds_bucket[1m])))",
            "requests_per_s": "sum(rate(http_requests_total[1m]))",
        },
        "rules": ["rules/cache.yml"],
        "allow": ["process:/usr/bin/redis-cli -p 6390 *", "http:POST https://api.staging.*"],
    }


def test_complete_external_target_resolves_every_key(conf: Path) -> None:
    path = write_yaml(conf / "staging.yaml", complete_document())

    target = read_target_file(path)

    assert target.kind == "external"
    assert not target.is_lab
    assert target.lab is None
    assert target.name == "staging"
    assert target.source == str(path)
    assert target.prometheus_url == "https://prom.staging.example:9090"
    assert target.prometheus_http == HttpSettings(
        bearer_token=TOKEN,
        ca_file=str(conf / "tls" / "ca.pem"),
        cert_file=str(conf / "tls" / "client.pem"),
        key_file=str(conf / "tls" / "client-key.pem"),
    )
    assert target.prometheus_http.cert == (
        str(conf / "tls" / "client.pem"),
        str(conf / "tls" / "client-key.pem"),
    )
    assert target.prometheus_http.verify == str(conf / "tls" / "ca.pem")
    assert target.prometheus_http.headers == {"Authorization": f"Bearer {TOKEN}"}
    assert target.alertmanager_url == "https://am.staging.example:9093"
    assert target.alertmanager_http == HttpSettings(basic_auth=("gameday", PASSWORD))
    assert target.alertmanager_config == conf / "alertmanager.yml"
    assert target.sink_url == "http://127.0.0.1:9099"
    assert target.load_host == "https://api.staging.example"
    assert dict(target.slo_queries) == complete_document()["slo"]
    assert target.rule_files == (conf / "rules" / "cache.yml",)
    assert [rule.name for rule in load_rule_file(target.rule_files[0])] == ["CacheDown"]
    assert target.allow == (
        "process:/usr/bin/redis-cli -p 6390 *",
        "http:POST https://api.staging.*",
    )
    alertmanager = target.alertmanager()
    assert alertmanager is not None
    assert alertmanager.url == "https://am.staging.example:9093"
    assert target.prometheus().url == "https://prom.staging.example:9090"


def test_name_defaults_to_the_file_name(conf: Path) -> None:
    document = complete_document()
    del document["name"], document["alertmanager"]
    target = read_target_file(write_yaml(conf / "prod-eu.yaml", document))
    assert target.name == "prod-eu"
    assert target.alertmanager_url is None
    assert target.alertmanager() is None
    assert target.alertmanager_http == HttpSettings()


def test_secret_credentials_come_from_the_experiments_secrets(conf: Path) -> None:
    document = complete_document()
    document["prometheus"]["auth"] = {"bearer_token": {"secret": "team.token"}}
    document["alertmanager"]["auth"] = {
        "basic": {"username": {"secret": "team.user"}, "password": {"secret": "team.password"}}
    }
    spec = target_spec(write_yaml(conf / "staging.yaml", document))
    assert spec.kind == "external"

    target = spec.resolve({"team": {"token": "from-secrets-token", "user": "u1", "password": "p1"}})

    assert target.prometheus_http.bearer_token == "from-secrets-token"
    assert target.alertmanager_http.basic_auth == ("u1", "p1")


@pytest.mark.parametrize(
    "secrets",
    [None, {}, {"team": {}}, {"team": {"token": ""}}, {"other": {"token": "x-y-z-w"}}],
    ids=["no-secrets", "empty", "no-key", "empty-value", "other-scope"],
)
def test_missing_secret_is_refused_with_where_and_hint(
    conf: Path, secrets: dict[str, Any] | None
) -> None:
    document = complete_document()
    document["prometheus"]["auth"] = {"bearer_token": {"secret": "team.token"}}
    spec = target_spec(write_yaml(conf / "staging.yaml", document))

    with pytest.raises(InvalidInputError) as caught:
        spec.resolve(secrets)

    assert caught.value.where == "prometheus.auth.bearer_token.secret"
    assert caught.value.source == spec.source
    assert caught.value.exit_code == 2
    assert "team.token" in caught.value.message
    assert caught.value.hint and "secrets:" in caught.value.hint


def test_lab_target_without_a_running_lab_is_an_environment_problem(conf: Path) -> None:
    path = write_yaml(conf / "lab.yaml", {"kind": "lab", "lab_dir": "nolab"})
    assert target_spec(path).kind == "lab"

    with pytest.raises(GamedayError) as caught:
        read_target_file(path)

    assert isinstance(caught.value, EnvironmentProblem)
    assert not isinstance(caught.value, InvalidInputError)
    assert caught.value.exit_code == 3
    # lab_dir is relative to the target file, not to the working directory
    assert str((conf / "nolab").resolve()) in caught.value.message
    assert caught.value.hint and "gameday lab up" in caught.value.hint


@pytest.mark.parametrize("key", ["prometheus", "alertmanager", "slo", "rules", "load", "sink"])
def test_lab_target_refuses_external_keys(conf: Path, key: str) -> None:
    document: dict[str, Any] = {"kind": "lab", key: complete_document()[key]}

    with pytest.raises(InvalidInputError) as caught:
        read_target_file(write_yaml(conf / "lab.yaml", document))

    assert caught.value.where == key
    assert caught.value.exit_code == 2
    assert caught.value.hint


Change = Callable[[dict[str, Any]], Any]


def setting(dotted: str, value: Any) -> Change:
    """The document with the key at `dotted` (a.b.c) set to `value`."""

    def change(document: dict[str, Any]) -> Any:
        *parents, last = dotted.split(".")
        node = document
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
        return document

    return change


def dropping(dotted: str) -> Change:
    def change(document: dict[str, Any]) -> Any:
        *parents, last = dotted.split(".")
        node = document
        for key in parents:
            node = node[key]
        del node[last]
        return document

    return change


def minimal_document() -> dict[str, Any]:
    return {
        "kind": "external",
        "prometheus": {
            "url": "https://prom.example:9090",
            "auth": {"bearer_token": {"env": TOKEN_VAR}},
        },
        "allow": ["process:/bin/true"],
    }


BAD_DOCUMENTS: list[tuple[str, Change, str]] = [
    ("not-a-mapping", lambda _: ["kind", "external"], ""),
    ("unknown-top-key", setting("bogus", 1), "bogus"),
    ("bad-kind", setting("kind", "swarm"), "kind"),
    ("no-kind", dropping("kind"), "kind"),
    ("missing-prometheus", dropping("prometheus"), "prometheus"),
    ("prometheus-not-a-mapping", setting("prometheus", "https://prom.example:9090"), "prometheus"),
    ("url-no-scheme", setting("prometheus.url", "prom.example:9090"), "prometheus.url"),
    ("url-not-http", setting("prometheus.url", "ftp://prom.example"), "prometheus.url"),
    ("url-missing", dropping("prometheus.url"), "prometheus.url"),
    ("unknown-endpoint-key", setting("prometheus.timeout", 5), "prometheus.timeout"),
    (
        "literal-bearer-token",
        setting("prometheus.auth.bearer_token", "s3cr3t-written-in-the-file"),
        "prometheus.auth.bearer_token",
    ),
    (
        "unknown-credential-source",
        setting("prometheus.auth.bearer_token", {"file": "/etc/token"}),
        "prometheus.auth.bearer_token",
    ),
    (
        "env-unset",
        setting("prometheus.auth.bearer_token", {"env": UNSET_VAR}),
        "prometheus.auth.bearer_token.env",
    ),
    (
        "bearer-and-basic",
        setting(
            "prometheus.auth.basic", {"username": "gameday", "password": {"env": PASSWORD_VAR}}
        ),
        "prometheus.auth",
    ),
    (
        "basic-without-password",
        setting("prometheus.auth", {"basic": {"username": "gameday"}}),
        "prometheus.auth.basic",
    ),
    (
        "literal-basic-password",
        setting("prometheus.auth", {"basic": {"username": "gameday", "password": "hunter22"}}),
        "prometheus.auth.basic.password",
    ),
    ("unknown-auth-key", setting("prometheus.auth.oauth2", {}), "prometheus.auth.oauth2"),
    (
        "tls-file-missing",
        setting("prometheus.tls", {"ca_file": "nope.pem"}),
        "prometheus.tls.ca_file",
    ),
    (
        "key-without-cert",
        setting("prometheus.tls", {"key_file": "tls/client-key.pem"}),
        "prometheus.tls.key_file",
    ),
    (
        "alertmanager-unknown-key",
        setting("alertmanager", {"url": "https://am.example:9093", "config": "am.yml"}),
        "alertmanager.config",
    ),
    (
        "alertmanager-config-missing",
        setting("alertmanager", {"url": "https://am.example", "config_file": "am.yml"}),
        "alertmanager.config_file",
    ),
    ("sink-url-bad", setting("sink", {"url": "127.0.0.1:9099"}), "sink.url"),
    ("load-unknown-key", setting("load", {"url": "https://api.example"}), "load.url"),
    ("unknown-slo-key", setting("slo", {"latency_avg_s": "avg(x)"}), "slo.latency_avg_s"),
    ("slo-value-empty", setting("slo", {"error_ratio": "  "}), "slo.error_ratio"),
    ("slo-not-a-mapping", setting("slo", [{"error_ratio": "x"}]), "slo"),
    ("allow-missing", dropping("allow"), "allow"),
    ("allow-not-a-list", setting("allow", "process:*"), "allow"),
    ("rules-file-missing", setting("rules", ["rules/missing.yml"]), "rules[0]"),
    ("lab-dir-on-external", setting("lab_dir", ".lab"), "lab_dir"),
]


@pytest.mark.parametrize(
    ("change", "where"),
    [pytest.param(change, where, id=name) for name, change, where in BAD_DOCUMENTS],
)
def test_bad_document_is_refused_with_where_and_hint(
    conf: Path, change: Change, where: str
) -> None:
    # The unchanged document is valid: each case fails for its one change only.
    read_target_file(write_yaml(conf / "good.yaml", minimal_document()))
    path = write_yaml(conf / "bad.yaml", change(minimal_document()))

    with pytest.raises(InvalidInputError) as caught:
        read_target_file(path)

    error = caught.value
    assert error.where == where
    assert error.source == str(path)
    assert error.exit_code == 2
    assert error.hint and error.hint.strip()
    assert error.message.startswith(f"{path}:")
    shown = error.format()
    for credential in (TOKEN, PASSWORD, "s3cr3t-written-in-the-file", "hunter22"):
        assert credential not in shown


def test_inline_target_names_its_place_in_the_plan(conf: Path) -> None:
    document = setting("prometheus.url", "prom.example")(minimal_document())
    with pytest.raises(InvalidInputError) as caught:
        target_from_mapping(document, source="plan.yaml", base=conf, where="target")
    assert caught.value.where == "target.prometheus.url"
    assert caught.value.source == "plan.yaml"


def test_secret_values_are_the_credentials_and_repr_hides_them(conf: Path) -> None:
    target = read_target_file(write_yaml(conf / "staging.yaml", complete_document()))

    assert sorted(target.secret_values()) == sorted([TOKEN, PASSWORD])
    for shown in (repr(target.prometheus_http), repr(target.alertmanager_http), repr(target)):
        assert TOKEN not in shown
        assert PASSWORD not in shown
    settings = HttpSettings(
        bearer_token="tok-visible?", basic_auth=("user", "pw-visible?"), ca_file="/ca.pem"
    )
    assert "tok-visible?" not in repr(settings)
    assert "pw-visible?" not in repr(settings)
    assert "/ca.pem" in repr(settings)


def test_redactor_scrubs_the_targets_credentials(conf: Path) -> None:
    target = read_target_file(write_yaml(conf / "staging.yaml", complete_document()))
    document = {
        "error": f"prometheus said 401 to 'Authorization: Bearer {TOKEN}'",
        "runs": [
            {"alertmanager": f"https://gameday:{PASSWORD}@am.staging.example", "ok": False},
            (f"{TOKEN}{PASSWORD}", 3),
        ],
        f"key-{TOKEN}": None,
    }

    scrubbed = Redactor(target.secret_values()).scrub_document(document)

    text = yaml.safe_dump(scrubbed)
    assert TOKEN not in text
    assert PASSWORD not in text
    assert scrubbed["error"] == f"prometheus said 401 to 'Authorization: Bearer {MASK}'"
    assert scrubbed["runs"][0] == {
        "alertmanager": f"https://gameday:{MASK}@am.staging.example",
        "ok": False,
    }
    assert scrubbed["runs"][1] == [MASK + MASK, 3]
    assert scrubbed[f"key-{MASK}"] is None


# -- through the CLI ---------------------------------------------------------------------------

EXPERIMENT = {
    "title": "a process action only",
    "description": "needs no lab and no network",
    "secrets": {"team": {"token": "tok-from-the-experiment"}},
    "method": [
        {"type": "action", "name": "run-true", "provider": {"type": "process", "path": "true"}}
    ],
}


@pytest.fixture
def silent_port() -> Iterator[socket.socket]:
    """A listening socket nothing should connect to: the Prometheus of the target."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    try:
        yield listener
    finally:
        listener.close()


def assert_nothing_connected(listener: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        connection, _ = listener.accept()
        connection.close()


def validate(experiment: Path, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameday.cli", "validate", str(experiment), "--target", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cli_target(listener: socket.socket, **extra: Any) -> dict[str, Any]:
    port = listener.getsockname()[1]
    return {
        "kind": "external",
        "prometheus": {
            "url": f"http://127.0.0.1:{port}",
            "auth": {"bearer_token": {"secret": "team.token"}},
        },
        "allow": ["process:*true*"],
        **extra,
    }


def test_cli_validate_accepts_a_valid_target_without_touching_the_network(
    tmp_path: Path, silent_port: socket.socket
) -> None:
    experiment = write_yaml(tmp_path / "experiment.yaml", EXPERIMENT)
    target = write_yaml(tmp_path / "target.yaml", cli_target(silent_port))

    result = validate(experiment, target)

    assert result.returncode == 0, result.stderr
    assert "valid experiment 'a process action only'" in result.stdout
    assert "tok-from-the-experiment" not in result.stdout + result.stderr
    assert_nothing_connected(silent_port)


@pytest.mark.parametrize(
    ("extra", "where", "named"),
    [
        ({"bogus": 1}, "bogus", "'bogus'"),
        ({"allow": ["process:/usr/bin/redis-cli *"]}, "method", "outside the blast radius"),
    ],
    ids=["unknown-key", "outside-allow"],
)
def test_cli_validate_refuses_a_bad_target_with_exit_2(
    tmp_path: Path, silent_port: socket.socket, extra: dict[str, Any], where: str, named: str
) -> None:
    experiment = write_yaml(tmp_path / "experiment.yaml", EXPERIMENT)
    target = write_yaml(tmp_path / "target.yaml", cli_target(silent_port, **extra))

    result = validate(experiment, target)

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ")
    assert named in result.stderr
    assert f":{where}:" in result.stderr
    assert "hint: " in result.stderr
    if where == "bogus":
        assert f"{target}:bogus: unknown key 'bogus'" in result.stderr
    assert_nothing_connected(silent_port)


def test_cli_validate_refuses_a_secret_the_experiment_does_not_declare(
    tmp_path: Path, silent_port: socket.socket
) -> None:
    experiment = write_yaml(tmp_path / "experiment.yaml", {**EXPERIMENT, "secrets": {}})
    target = write_yaml(tmp_path / "target.yaml", cli_target(silent_port))

    result = validate(experiment, target)

    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{target}:prometheus.auth.bearer_token.secret:" in result.stderr
    assert_nothing_connected(silent_port)
