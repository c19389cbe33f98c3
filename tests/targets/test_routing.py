"""Alertmanager routing evaluated offline (gameday.targets.routing), and checked against the
real `amtool config routes test` (Debian package prometheus-alertmanager, 0.25)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from textwrap import dedent

import pytest

from gameday.errors import InvalidInputError
from gameday.targets.routing import (
    AlertmanagerConfig,
    Matcher,
    load_config,
    parse_config,
    parse_matchers,
)

RECEIVERS = """
receivers:
  - name: default
  - name: a
  - name: b
  - name: c
  - name: d
"""


def config(route: str) -> AlertmanagerConfig:
    return parse_config(dedent(route) + RECEIVERS, source="test.yml")


def receivers(cfg: AlertmanagerConfig, **labels: str) -> list[str]:
    return [match.receiver for match in cfg.routes_for(labels)]


# --------------------------------------------------------------------------- matchers


def test_a_missing_label_reads_as_empty() -> None:
    assert Matcher("team", "=", "").matches({})
    assert not Matcher("team", "=", "").matches({"team": "ops"})
    assert not Matcher("team", "!=", "").matches({})
    assert Matcher("team", "!=", "").matches({"team": "ops"})
    assert Matcher("team", "!=", "ops").matches({})
    assert not Matcher("team", "=", "ops").matches({})


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("crit", "critical", False),
        ("crit", "crit", True),
        ("crit.*", "critical", True),
        (".*tic.*", "critical", True),
        ("tic", "critical", False),
        ("warning|critical", "critical", True),
        ("warning|critical", "critical2", False),
        ("warning|critical", "xwarning", False),
        ("", "", True),
        ("", "x", False),
        (".*", "", True),
    ],
)
def test_regexes_are_fully_anchored(pattern: str, value: str, expected: bool) -> None:
    assert Matcher("severity", "=~", pattern).matches({"severity": value}) is expected
    assert Matcher("severity", "!~", pattern).matches({"severity": value}) is not expected


def test_negative_regex_matches_a_missing_label() -> None:
    assert Matcher("env", "!~", "prod.*").matches({})
    assert not Matcher("env", "!~", "prod.*").matches({"env": "production"})
    assert not Matcher("env", "=~", ".+").matches({})
    assert Matcher("env", "=~", ".*").matches({})


def test_a_matcher_prints_in_alertmanagers_syntax() -> None:
    assert str(Matcher("severity", "=~", "critical|page")) == 'severity=~"critical|page"'
    assert str(Matcher("team", "!=", "ops")) == 'team!="ops"'
    assert str(Matcher("msg", "=", 'say "hi"\\\n')) == r'msg="say \"hi\"\\\n"'
    # What it prints parses back to the same matcher.
    odd = Matcher("msg", "=", 'a "b", c\\d\ne')
    assert parse_matchers(str(odd)) == (odd,)


def test_an_unknown_operator_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="operator '=='"):
        Matcher("a", "==", "b")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alertname = Watchdog", [("alertname", "=", "Watchdog")]),
        ('severity=~"warning|critical"', [("severity", "=~", "warning|critical")]),
        ('team!="ops"', [("team", "!=", "ops")]),
        ("foo!~bar.*", [("foo", "!~", "bar.*")]),
        ("  name  =  two words  ", [("name", "=", "two words")]),
        ('x=""', [("x", "=", "")]),
        ("x=", [("x", "=", "")]),
        ("x==y", [("x", "=", "=y")]),
        ("a:b=c", [("a:b", "=", "c")]),
        (r'msg="say \"hi\" \\ now\n"', [("msg", "=", 'say "hi" \\ now\n')]),
        (r"path=C:\temp\x", [("path", "=", r"C:\temp\x")]),
        (r'code=~"5\d\d"', [("code", "=~", r"5\d\d")]),
        ("trailing=x\\", [("trailing", "=", "x\\")]),
        ('{a="1", b=~"2|3",}', [("a", "=", "1"), ("b", "=~", "2|3")]),
        ('a="x,y",b=2', [("a", "=", "x,y"), ("b", "=", "2")]),
        (r'q="a \", b"', [("q", "=", 'a ", b')]),
        ("{}", []),
        ("", []),
    ],
)
def test_matcher_strings_parse_like_alertmanager(
    text: str, expected: list[tuple[str, str, str]]
) -> None:
    parsed = parse_matchers(text)
    assert [(m.name, m.op, m.value) for m in parsed] == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("severity", "bad matcher 'severity'"),
        ("=x", "bad matcher"),
        ("1a=x", "bad matcher"),
        ("a~=x", "bad matcher"),
        ("a=x,,b=y", "bad matcher ''"),
        ('a="x', "never closed"),
        ('a=x"y', "unescaped double quote"),
        ('a="x"y"', "unescaped double quote"),
        ('a=~"("', "bad regex '('"),
    ],
)
def test_bad_matcher_strings_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(fragment)) as caught:
        parse_matchers(text)
    assert caught.value.hint


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("(?i)crit(ical)?", "CRITICAL", True),
        ("(?i:crit)ical", "CRITical", True),
        ("(?i:crit)ical", "critICAL", False),
        (r"5\d\d", "503", True),
        (r"5\d\d", "5٠٣", False),  # Go's \d is ASCII-only
        (r"\w+", "é", False),
        ("[[:upper:]]{2}-[[:digit:]]+", "EU-12", True),
        ("[[:upper:]]{2}-[[:digit:]]+", "eu-12", False),
        ("[^[:space:]]+", "no-space", True),
        ("a$", "a", True),
        ("a$", "a\n", False),
        (r"a$\s*", "a\n", False),  # Go's $ is the end of the text, never before a final \n
        (r"a\z", "a", True),
        (r"\x41\101\x{42}", "AAB", True),
        ("x{,2}", "x{,2}", True),  # literal in Go
        ("x{,2}", "xx", False),
        (r"\Qa.b\E", "a.b", True),
        (r"\Qa.b\E", "axb", False),
        ("[]a]+", "]a", True),
        ("[a&&b]+", "a&b", True),
        ("(?P<n>x)y", "xy", True),
    ],
)
def test_regexes_follow_go_syntax(pattern: str, value: str, expected: bool) -> None:
    assert Matcher("l", "=~", pattern).matches({"l": value}) is expected


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("(?=a)a", "do not support"),
        ("(?<!a)b", "do not support"),
        (r"(a)\1", "backreference"),
        (r"\pL+", "Unicode class"),
        (r"\u00e9", r"\\u"),
        ("(?U)a+", "ungreedy"),
        ("a(?i)b", "mid-pattern"),
        ("a*+", "possessive"),
        ("[[:^alpha:]]", "class"),
        ("(", "bad regex"),
        ("a\\", "trailing backslash"),
    ],
)
def test_regexes_alertmanager_refuses_are_refused(pattern: str, fragment: str) -> None:
    with pytest.raises(InvalidInputError, match=fragment) as caught:
        Matcher("l", "=~", pattern)
    assert caught.value.hint


# --------------------------------------------------------------------------- the tree


TREE = """
route:
  receiver: default
  routes:
    - receiver: a
      match: {team: storage}
      routes:
        - receiver: b
          match_re: {severity: critical|page}
          continue: true
        - matchers: ['service=~"db-.*"']
          receiver: c
        - matchers: [env="staging"]
    - receiver: d
      matchers: [severity="critical"]
"""


def test_the_root_receiver_takes_what_nothing_else_matches() -> None:
    cfg = config(TREE)
    assert receivers(cfg) == ["default"]
    assert receivers(cfg, team="payments", severity="warning") == ["default"]
    assert cfg.routes_for({})[0].where == "route"


def test_the_first_matching_child_stops_its_siblings() -> None:
    # team=storage matches route a, so route d (severity=critical) is never tried.
    assert receivers(config(TREE), team="storage", severity="critical") == ["b"]


def test_continue_sends_to_later_siblings_too() -> None:
    cfg = config(TREE)
    assert receivers(cfg, team="storage", severity="page", service="db-1") == ["b", "c"]
    assert receivers(cfg, team="storage", severity="warning", service="db-1") == ["c"]


def test_a_node_whose_children_do_not_match_is_itself_the_match() -> None:
    matches = config(TREE).routes_for({"team": "storage", "severity": "warning"})
    assert [(m.receiver, m.where) for m in matches] == [("a", "route.routes[0]")]
    assert [str(m) for m in matches[0].matchers] == ['team="storage"']


def test_a_route_without_receiver_inherits_its_parents() -> None:
    cfg = config(TREE)
    matches = cfg.routes_for({"team": "storage", "env": "staging"})
    assert [(m.receiver, m.where) for m in matches] == [("a", "route.routes[0].routes[2]")]
    assert cfg.route.routes[0].routes[2].receiver == "a"


def test_continue_belongs_to_the_child_not_to_the_grandchild() -> None:
    cfg = config(
        """
        route:
          receiver: default
          routes:
            - receiver: a
              match: {team: x}
              routes:
                - {receiver: b, match: {sev: crit}, continue: true}
                - {receiver: c, match: {sev: crit}}
            - {receiver: d, match: {sev: crit}}
            - {receiver: default, match: {sev: crit}}
        """
    )
    # b continues to its sibling c; a (no continue) still stops d.
    assert receivers(cfg, team="x", sev="crit") == ["b", "c"]
    assert receivers(cfg, team="y", sev="crit") == ["d"]


def test_routes_match_depth_first_with_continue_at_every_level() -> None:
    cfg = config(
        """
        route:
          receiver: default
          routes:
            - receiver: a
              continue: true
              matchers: [team=x]
              routes:
                - {receiver: b, matchers: [sev=crit], continue: true}
                - {receiver: c, matchers: [sev=~".+"]}
            - {receiver: d, matchers: [sev=crit]}
        """
    )
    assert receivers(cfg, team="x", sev="crit") == ["b", "c", "d"]
    assert receivers(cfg, team="x", sev="warn") == ["c"]
    assert receivers(cfg, team="x") == ["a"]
    assert receivers(cfg, sev="crit") == ["d"]


def test_integrations_per_receiver() -> None:
    cfg = parse_config(
        dedent(
            """
            route: {receiver: quiet}
            receivers:
              - name: quiet
              - name: empty
                webhook_configs: []
              - name: pager
                pagerduty_configs: [{routing_key: k}]
                webhook_configs: [{url: 'http://h:1/a'}, {url: 'http://h:1/b'}]
                email_configs: [{to: a@example.org}]
              - name: chat
                slack_configs: [{api_url: 'http://h:1/s', channel: '#x'}]
                opsgenie_configs: [{api_key: k}]
            """
        ),
        source="am.yml",
    )
    assert cfg.integrations("quiet") == ()
    assert cfg.integrations("empty") == ()
    assert cfg.integrations("pager") == ("pagerduty", "webhook", "email")
    assert cfg.integrations("chat") == ("slack", "opsgenie")
    assert list(cfg.receivers) == ["quiet", "empty", "pager", "chat"]
    with pytest.raises(InvalidInputError, match="no receiver 'pagr'") as caught:
        cfg.integrations("pagr")
    assert caught.value.source == "am.yml"
    assert caught.value.hint is not None and "pager" in caught.value.hint


def test_inhibit_rules_in_both_forms() -> None:
    cfg = config(
        """
        route: {receiver: default}
        inhibit_rules:
          - source_match: {severity: critical}
            source_match_re: {alertname: 'Node.*'}
            target_match: {severity: warning}
            target_match_re: {team: 'ops|sre'}
            equal: [cluster, instance]
          - source_matchers: ['severity="critical"', 'alertname!~"Watchdog|Info.*"']
            target_matchers: ['{severity=~"warning|info", team!=""}']
            equal: [service]
          - name: newer-alertmanagers-name-their-rules
            target_matchers: [severity=info]
        """
    )
    old, new, bare = cfg.inhibit_rules
    assert [str(m) for m in old.source_matchers] == ['severity="critical"', 'alertname=~"Node.*"']
    assert [str(m) for m in old.target_matchers] == ['severity="warning"', 'team=~"ops|sre"']
    assert old.equal == ("cluster", "instance")
    assert [str(m) for m in new.source_matchers] == [
        'severity="critical"',
        'alertname!~"Watchdog|Info.*"',
    ]
    assert [str(m) for m in new.target_matchers] == ['severity=~"warning|info"', 'team!=""']
    assert new.equal == ("service",)
    assert (bare.source_matchers, bare.equal, bare.where) == ((), (), "inhibit_rules[2]")
    assert new.target_matchers[1].matches({"team": "sre"})
    assert not new.target_matchers[1].matches({})


def test_yaml_typed_scalars_keep_their_text_as_go_reads_them() -> None:
    cfg = config(
        """
        route:
          receiver: default
          routes:
            - {receiver: a, match: {code: 500, on: yes, ratio: 1.50}}
            - {receiver: b, continue: yes, matchers: [x=1]}
            - {receiver: c, matchers: [x=1]}
        """
    )
    assert receivers(cfg, code="500", on="yes", ratio="1.50") == ["a"]
    assert receivers(cfg, code="500", on="True", ratio="1.5") == ["default"]
    assert receivers(cfg, x="1") == ["b", "c"]


def test_yaml_anchors_and_merge_keys() -> None:
    cfg = config(
        """
        route:
          receiver: default
          routes:
            - &pager {receiver: b, continue: true, matchers: [team=x]}
            - {<<: *pager, receiver: c}
        """
    )
    assert receivers(cfg, team="x") == ["b", "c"]


def test_the_configuration_alertmanager_serves_parses() -> None:
    # The shape of /api/v2/status config.original: defaults spelled out, secrets hidden.
    cfg = parse_config(
        dedent(
            """
            global:
              resolve_timeout: 5m
              http_config: {follow_redirects: true, enable_http2: true}
              smtp_hello: localhost
              smtp_require_tls: true
              pagerduty_url: https://events.pagerduty.com/v2/enqueue
            route:
              receiver: default
              group_by: [alertname]
              continue: false
              routes:
              - receiver: a
                matchers: [sev=~"crit|page", team="x"]
                continue: true
              - receiver: b
                match: {code: "500"}
                continue: false
            inhibit_rules:
            - source_match: {severity: critical}
              target_matchers: [severity="warning"]
              equal: [team]
            receivers:
            - name: default
              webhook_configs:
              - send_resolved: true
                http_config: {follow_redirects: true, enable_http2: true}
                url: http://127.0.0.1:9/x
                max_alerts: 0
            - name: a
              pagerduty_configs: [{send_resolved: true, routing_key: <secret>}]
            - name: b
            templates: []
            """
        ),
        source="http://am:9093/api/v2/status",
    )
    assert receivers(cfg, sev="page", team="x", code="500") == ["a", "b"]
    assert cfg.integrations("a") == ("pagerduty",)


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(dedent(TREE) + RECEIVERS, encoding="utf-8")
    cfg = load_config(path)
    assert cfg.source == str(path)
    assert receivers(cfg, severity="critical") == ["d"]
    with pytest.raises(InvalidInputError, match="cannot read") as caught:
        load_config(tmp_path / "missing.yml")
    assert caught.value.source == str(tmp_path / "missing.yml")


# --------------------------------------------------------------------------- errors


def _route(body: str) -> str:
    """A valid root route with one child whose body (flow-mapping fields) is given."""
    return f"route:\n  receiver: default\n  routes:\n    - {{receiver: a, {body}}}\n" + RECEIVERS


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("route: [", "line 1", "not valid YAML"),
        ("route:\n  receiver: a\n  receiver: b\n", "line 3", "given twice"),
        ("- route", None, "is a mapping"),
        ("", "route", "no route"),
        (RECEIVERS, "route", "no route"),
        ("route: {}\n" + RECEIVERS, "route.receiver", "root route has no receiver"),
        ("route: [a]\n" + RECEIVERS, "route", "must be a mapping"),
        ("route: {receiver: nobody}\n" + RECEIVERS, "route.receiver", "'nobody'"),
        (
            _route("matchers: [x=1], routes: [{receiver: dd}]"),
            "route.routes[0].routes[0].receiver",
            "'dd', which is not defined",
        ),
        ("route: {receiver: a, match: {x: y}}\n" + RECEIVERS, "route", "must not have matchers"),
        ("route: {receiver: a, continue: true}\n" + RECEIVERS, "route.continue", "continue"),
        (
            "route: {receiver: a, mute_time_intervals: [night]}\n" + RECEIVERS,
            "route.mute_time_intervals",
            "root route",
        ),
        ("route: {receiver: a}\nreceiver: [x]\n" + RECEIVERS, "receiver", "unknown field"),
        (_route("mach: {x: y}"), "route.routes[0].mach", "unknown field 'mach'"),
        (_route("matchers: [severity]"), "route.routes[0].matchers[0]", "bad matcher"),
        (_route("matchers: [x=1, 'y=\"2']"), "route.routes[0].matchers[1]", "never closed"),
        (_route("matchers: ['x=~\"(\"']"), "route.routes[0].matchers[0]", "bad regex"),
        (_route("matchers: ['x=~\"(?=a)\"']"), "route.routes[0].matchers[0]", "RE2"),
        (_route("matchers: 'x=1'"), "route.routes[0].matchers", "not a single string"),
        (
            _route("matchers: [{severity: critical}]"),
            "route.routes[0].matchers[0]",
            "must be a string",
        ),
        (_route("matchers: {x: 1}"), "route.routes[0].matchers", "must be a list"),
        (_route("match_re: {severity: '(crit'}"), "route.routes[0].match_re.severity", "bad regex"),
        (_route("match: {'a:b': x}"), "route.routes[0].match.a:b", "invalid label name"),
        (_route("match: [x]"), "route.routes[0].match", "must be a mapping"),
        (_route("match: {x: [1]}"), "route.routes[0].match.x", "must be a string"),
        (_route("continue: 'true'"), "route.routes[0].continue", "true or false"),
        (_route("continue: 1"), "route.routes[0].continue", "true or false"),
        (
            "route: {receiver: default, routes: [{receiver: [a]}]}\n" + RECEIVERS,
            "route.routes[0].receiver",
            "must be a string",
        ),
        (_route("routes: {receiver: a}"), "route.routes[0].routes", "must be a list"),
        (_route("routes: [x]"), "route.routes[0].routes[0]", "must be a mapping"),
        ("route: {receiver: a}\nreceivers: {a: {}}", "receivers", "must be a list"),
        ("route: {receiver: a}\nreceivers: [{name: a}, {}]", "receivers[1]", "no name"),
        (
            "route: {receiver: a}\nreceivers: [{name: a}, {name: a}]",
            "receivers[1].name",
            "defined twice",
        ),
        (
            "route: {receiver: a}\nreceivers: [{name: a, webhook: {}}]",
            "receivers[0].webhook",
            "unknown receiver field",
        ),
        (
            "route: {receiver: a}\nreceivers: [{name: a, webhook_configs: {url: x}}]",
            "receivers[0].webhook_configs",
            "must be a list",
        ),
        (
            "route: {receiver: default}\ninhibit_rules: {}\n" + RECEIVERS,
            "inhibit_rules",
            "must be a list",
        ),
        (
            "route: {receiver: default}\ninhibit_rules: [{equal: ['a:b']}]\n" + RECEIVERS,
            "inhibit_rules[0].equal[0]",
            "invalid label name",
        ),
        (
            "route: {receiver: default}\ninhibit_rules: [{source_matchers: [a]}]\n" + RECEIVERS,
            "inhibit_rules[0].source_matchers[0]",
            "bad matcher",
        ),
        (
            "route: {receiver: default}\ninhibit_rules: [{target_match_re: {a: '['}}]\n"
            + RECEIVERS,
            "inhibit_rules[0].target_match_re.a",
            "bad regex",
        ),
        (
            "route: {receiver: default}\ninhibit_rules: [{source: {a: b}}]\n" + RECEIVERS,
            "inhibit_rules[0].source",
            "unknown field",
        ),
    ],
)
def test_malformed_configurations_are_refused_with_their_place(
    text: str, where: str | None, fragment: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_config(text, source="am.yml")
    error = caught.value
    assert error.source == "am.yml"
    assert error.where == where
    assert fragment in error.message
    assert error.message.startswith(f"am.yml:{where}: " if where else "am.yml: ")
    assert error.hint


# --------------------------------------------------------------------------- amtool


TEAM_CONFIG = """
global:
  smtp_smarthost: 'mail.example.org:587'
  smtp_from: 'alertmanager@example.org'
route:
  receiver: ops-default
  group_by: [alertname, cluster]
  routes:
    - matchers: [alertname = Watchdog]
      receiver: deadmans-switch
      repeat_interval: 1m
    - matchers: ['severity="critical"']
      receiver: audit-log
      continue: true
    - match: {team: storage}
      receiver: storage-chat
      routes:
        - match_re: {severity: critical|page}
          receiver: storage-pager
          continue: true
        - matchers: ['{service=~"db-.*", env="prod"}']
          receiver: storage-dba
        - match: {env: staging}
          receiver: blackhole
    - match_re: {team: payments|billing}
      receiver: payments-email
      routes:
        - matchers: ['severity=~"critical|page"', 'env!="staging"']
          receiver: payments-pager
    - matchers: ['env!~"prod|production"']
      receiver: blackhole
    - match: {namespace: kube-system}
      group_by: ['...']
      routes:
        - matchers: [severity="critical"]
          receiver: ops-pager
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [cluster, service]
receivers:
  - name: ops-default
    email_configs: [{to: 'ops@example.org'}]
  - name: ops-pager
    pagerduty_configs: [{routing_key: 0123456789abcdef0123456789abcdef}]
  - name: deadmans-switch
    webhook_configs: [{url: 'http://127.0.0.1:9/heartbeat'}]
  - name: audit-log
    webhook_configs: [{url: 'http://127.0.0.1:9/audit', send_resolved: false}]
  - name: storage-chat
    slack_configs: [{api_url: 'http://127.0.0.1:9/slack', channel: '#storage'}]
  - name: storage-pager
    pagerduty_configs: [{routing_key: fedcba9876543210fedcba9876543210}]
    webhook_configs: [{url: 'http://127.0.0.1:9/storage'}]
  - name: storage-dba
    email_configs: [{to: 'dba@example.org'}]
  - name: payments-email
    email_configs: [{to: 'payments@example.org'}]
  - name: payments-pager
    pagerduty_configs: [{routing_key: 00112233445566778899aabbccddeeff}]
  - name: blackhole
"""

TEAM_CASES: list[dict[str, str]] = [
    {"alertname": "Watchdog", "severity": "none"},
    {"alertname": "Watchdog", "severity": "critical"},
    {"alertname": "DiskFull", "severity": "critical", "team": "storage", "env": "prod"},
    {"severity": "critical", "team": "storage", "env": "prod", "service": "db-main"},
    {"severity": "warning", "team": "storage", "env": "prod", "service": "db-main"},
    {"severity": "warning", "team": "storage", "env": "staging"},
    {"severity": "warning", "team": "storage", "env": "prod"},
    {"severity": "critical", "team": "storage", "env": "staging"},
    {"severity": "page", "team": "payments", "env": "prod"},
    {"severity": "critical", "team": "billing"},
    {"severity": "critical", "team": "payments", "env": "staging"},
    {"severity": "warning", "team": "payments", "env": "prod", "service": "db-x"},
    {"team": "paymentsX", "env": "prod"},
    {"team": "paymentsX"},
    {"team": "ops", "env": "production"},
    {"team": "Storage", "env": "prod"},
    {"namespace": "kube-system", "severity": "critical", "env": "prod"},
    {"namespace": "kube-system", "severity": "warning", "env": "prod"},
    {
        "severity": "critical",
        "team": "storage",
        "service": "db-1",
        "env": "prod",
        "namespace": "kube-system",
    },
    {"env": "prod"},
    {},
]

DIALECT_CONFIG = r"""
route:
  receiver: fallback
  routes:
    - {receiver: icase, match_re: {severity: '(?i)crit(ical)?'}}
    - {receiver: digits, matchers: ['code=~"5\d\d"']}
    - {receiver: posix, match_re: {zone: '[[:upper:]]{2}-[[:digit:]]+'}}
    - {receiver: dollar, match_re: {path: 'a$\s*'}}
    - {receiver: quoted, matchers: ['msg="say \"hi\", ok"']}
    - {receiver: braces, matchers: ['{tier="gold", plan!~"free|trial",}']}
    - {receiver: typed, match: {on: yes, port: 0x1F}}
    - {receiver: octal, match_re: {char: '\x41\101\x{42}'}}
    - {receiver: literal, match_re: {q: 'x{,2}'}}
    - {receiver: empty, matchers: ['owner=""', 'pager!=""']}
receivers:
  - name: fallback
  - name: icase
  - name: digits
  - name: posix
  - name: dollar
  - name: quoted
  - name: braces
  - name: typed
  - name: octal
  - name: literal
  - name: empty
"""

DIALECT_CASES: list[dict[str, str]] = [
    {"severity": "CRITICAL"},
    {"severity": "Crit"},
    {"severity": "critic"},
    {"code": "503"},
    {"code": "5٠٣"},
    {"zone": "EU-12"},
    {"zone": "eu-12"},
    {"path": "a"},
    {"path": "a\n"},
    {"msg": 'say "hi", ok'},
    {"msg": "say hi, ok"},
    {"tier": "gold", "plan": "pro"},
    {"tier": "gold", "plan": "trial"},
    {"on": "yes", "port": "0x1F"},
    {"on": "true", "port": "31"},
    {"char": "AAB"},
    {"q": "x{,2}"},
    {"q": "xx"},
    {"pager": "alice"},
    {"pager": "alice", "owner": "bob"},
]

# Each refused by Alertmanager 0.25 as well: the evaluator must never route what it would not.
REFUSED = {
    "lookahead": _route("match_re: {x: '(?=a)a'}"),
    "backreference": _route(r"match_re: {x: '(a)\1'}"),
    "continue-in-root": "route: {receiver: default, continue: true}\n" + RECEIVERS,
    "root-matchers": "route: {receiver: default, matchers: [x=1]}\n" + RECEIVERS,
    "undefined-receiver": _route("routes: [{receiver: nobody}]"),
    "bare-matchers-string": _route("matchers: 'x=1'"),
    "unknown-route-field": _route("mach: {x: y}"),
    "duplicate-key": _route("match: {x: '1'}, match: {x: '2'}"),
    "duplicate-receiver": "route: {receiver: a}\nreceivers: [{name: a}, {name: a}]",
    "unclosed-quote": _route("matchers: ['x=\"a']"),
    "empty-matcher": _route("matchers: ['x=1,,y=2']"),
    "label-name-colon": _route("match_re: {'a:b': x}"),
    "quoted-bool": _route("continue: 'true'"),
    "no-route": RECEIVERS,
    "receiver-without-name": "route: {receiver: a}\nreceivers: [{name: a}, {}]",
}


@pytest.fixture(scope="module")
def amtool() -> str:
    path = shutil.which("amtool")
    if path is None:
        pytest.fail(
            "amtool is not on PATH: this cross-check needs Alertmanager's amtool "
            "(apt-get install prometheus-alertmanager)"
        )
    return path


def _label_arg(name: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{name}="{escaped}"'


def amtool_routes(amtool: str, config_file: Path, labels: dict[str, str]) -> list[str]:
    """The receivers amtool prints for the labels (comma-separated, in routing order)."""
    done = subprocess.run(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={config_file}",
            *(_label_arg(name, value) for name, value in labels.items()),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, f"amtool failed ({done.returncode}): {done.stderr.strip()}"
    return done.stdout.strip().split(",")


def amtool_refuses(amtool: str, config_file: Path) -> str:
    done = subprocess.run(
        [amtool, "check-config", str(config_file)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return (done.stdout + done.stderr).strip() if done.returncode != 0 else ""


@pytest.fixture(scope="module")
def team_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("amtool") / "team.yml"
    path.write_text(TEAM_CONFIG, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def dialect_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("amtool") / "dialect.yml"
    path.write_text(DIALECT_CONFIG, encoding="utf-8")
    return path


@pytest.mark.parametrize("labels", TEAM_CASES, ids=lambda labels: ",".join(labels.values()))
def test_team_routing_matches_amtool(amtool: str, team_file: Path, labels: dict[str, str]) -> None:
    ours = [match.receiver for match in load_config(team_file).routes_for(labels)]
    assert ours == amtool_routes(amtool, team_file, labels)


def test_the_team_cases_cover_the_tree(team_file: Path) -> None:
    """Guards the cases above: they reach most receivers and exercise continue."""
    cfg = load_config(team_file)
    results = [[m.receiver for m in cfg.routes_for(labels)] for labels in TEAM_CASES]
    reached = {receiver for result in results for receiver in result}
    assert reached == set(cfg.receivers)
    assert any(len(result) == 3 for result in results)
    assert cfg.integrations("storage-pager") == ("pagerduty", "webhook")
    assert cfg.integrations("ops-default") == ("email",)
    assert cfg.integrations("blackhole") == ()
    assert len(cfg.inhibit_rules) == 1


@pytest.mark.parametrize("labels", DIALECT_CASES, ids=lambda labels: repr(labels))
def test_matcher_and_regex_dialect_matches_amtool(
    amtool: str, dialect_file: Path, labels: dict[str, str]
) -> None:
    ours = [match.receiver for match in load_config(dialect_file).routes_for(labels)]
    assert ours == amtool_routes(amtool, dialect_file, labels)


def test_the_dialect_cases_reach_every_route(dialect_file: Path) -> None:
    cfg = load_config(dialect_file)
    reached = {m.receiver for labels in DIALECT_CASES for m in cfg.routes_for(labels)}
    assert reached == set(cfg.receivers)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_alertmanager_refuses_is_refused(amtool: str, tmp_path: Path, name: str) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(REFUSED[name], encoding="utf-8")
    assert amtool_refuses(amtool, path), f"amtool accepted {name}: the case is wrong"
    with pytest.raises(InvalidInputError):
        load_config(path)
