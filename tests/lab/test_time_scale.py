"""Production rules in compressed time: each kind of duration divided by K through the PromQL
tree, label values mapped in matchers, everything else unchanged, too-short ranges refused,
and what comes out passes promtool."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from gameday.errors import EXIT_INVALID_INPUT, InvalidInputError
from gameday.lab import monitoring
from gameday.lab.time_scale import (
    LabClock,
    ScaleSettings,
    dump_rules,
    largest_time_scale,
    parse_duration_field,
    scale_expr,
    scale_rules,
)
from gameday.runbook import parse_runbook
from gameday.runbook.rules import parse_rule_groups, rule_file_document

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
CRETO = SEEDS / "creto-enablement-runbook.md"
K60 = ScaleSettings(time_scale=60)
NAMESPACE = {"namespace": {"creto-enablement": "lab"}}
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="needs promtool")

# Every construct the rewrite must carry through unchanged (but for its durations).
TRICKY = [
    'rate(http_requests_total{job="api",path=~"/a\\"b.*\\\\d+"}[5m] offset 1m)',
    "sum by (job) (rate(x[5m] @ 1609746000))",
    "max_over_time(rate(x[5m])[30m:1m] offset -2m)",
    "avg_over_time(x[1h:])",
    "foo @ start()",
    "rate(foo[10m] @ end() offset 5m)",
    "a * on(instance) group_left(node) b",
    "a / ignoring(code) group_right() b",
    'label_replace(up{job="a\\nb"}, "dst", "$1", "src", "(.*)")',
    "sum without(instance, pod) (x) > bool 1",
    '{__name__=~"x|y", namespace="creto-enablement"}',
    'histogram_quantile(0.95, sum by (le) (rate(x_bucket{namespace=~"creto-enablement|b"}[5m])))',
    "(cert_exporter_not_after - time()) / 86400 < 30",
    "topk(5, x) unless on() -y ^ 2",
    'count_values("v", x) == bool Inf',
    'absent(x{a="é",b!~"c\'d"}) or vector(1e-05)',
    "-(a - b) % 3 atan2 c",
    "quantile_over_time(0.9, (sum by (a) (rate(x[2m])))[1h:5m])",
]


def _same(left: str, right: str) -> bool:
    return str(promql_parser.parse(left)) == str(promql_parser.parse(right))


@pytest.mark.parametrize("expr", TRICKY)
def test_k1_leaves_every_expression_as_it_was(expr: str) -> None:
    assert _same(scale_expr(expr, ScaleSettings()).text, expr)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("rate(x[5m])", "rate(x[5s])"),
        ("x offset 1m", "x offset 1s"),
        ("x offset -2m", "x offset -2s"),
        ("max_over_time(rate(x[5m])[30m:1m])", "max_over_time(rate(x[5s])[30s:1s])"),
        ("avg_over_time(x[1h:])", "avg_over_time(x[1m:])"),
        ("rate(x[5m] @ 1609746000 offset 1m)", "rate(x[5s] @ 1609746000 offset 1s)"),
        ("rate(x[90s])", "rate(x[1s500ms])"),
        (TRICKY[0], TRICKY[0].replace("[5m]", "[5s]").replace("1m", "1s")),
        (TRICKY[16], TRICKY[16]),
    ],
)
def test_each_duration_in_an_expression_is_divided_by_k(expr: str, expected: str) -> None:
    scaled = scale_expr(expr, K60).text
    assert _same(scaled, expected), scaled


def test_the_rewrite_keeps_escapes_and_the_default_subquery_step() -> None:
    # promql_parser's own str() drops both: the renderer is what keeps them
    scaled = scale_expr(TRICKY[0], K60).text
    assert 'path=~"/a\\"b.*\\\\d+"' in scaled
    assert scale_expr("avg_over_time(x[1h:])", K60).text == "avg_over_time(x[1m:])"
    assert promql_parser.parse(scaled).args[0].vector_selector.matchers.matchers[1].value == (
        '/a"b.*\\d+'
    )


def test_label_values_are_mapped_in_every_matcher() -> None:
    settings = ScaleSettings(time_scale=60, labels=NAMESPACE)
    scaled = scale_expr(
        'sum(rate(x{namespace="creto-enablement"}[5m])) / sum(rate(y{namespace!="creto-enablement",'
        'namespace=~"creto-enablement|kube-system"}[5m])) + z{namespace="other"}',
        settings,
    )
    expected = (
        'sum(rate(x{namespace="lab"}[5s])) / sum(rate(y{namespace!="lab",'
        'namespace=~"lab|kube-system"}[5s])) + z{namespace="other"}'
    )
    assert _same(scaled.text, expected), scaled.text
    assert scaled.unmapped == ()
    regex = scale_expr('x{namespace=~"creto-.*"}', settings)
    assert _same(regex.text, 'x{namespace=~"creto-.*"}')
    assert regex.unmapped == ("namespace=~'creto-.*'",)
    # a label of the same value but another name is left alone
    assert _same(scale_expr('x{ns="creto-enablement"}', settings).text, 'x{ns="creto-enablement"}')


def _rules(*rules: dict[str, Any], interval: str | None = None) -> dict[str, Any]:
    group: dict[str, Any] = {"name": "g"}
    if interval is not None:
        group["interval"] = interval
    group["rules"] = list(rules)
    return {"groups": [group]}


def test_for_keep_firing_for_and_group_interval_are_scaled() -> None:
    document = _rules(
        {"alert": "A", "expr": "rate(x[5m]) > 0", "for": "2m", "keep_firing_for": "10m"},
        {"record": "job:x:rate5m", "expr": "sum by (job) (rate(x[5m]))"},
        interval="2m",
    )
    result = scale_rules(document, source="r.yml", settings=K60)
    group = result.document["groups"][0]
    assert group["interval"] == "2s"
    alert, record = group["rules"]
    assert (alert["for"], alert["keep_firing_for"]) == ("2s", "10s")
    assert _same(alert["expr"], "rate(x[5s]) > 0")
    assert _same(record["expr"], "sum by (job) (rate(x[5s]))")
    assert result.notes == []
    assert document["groups"][0]["interval"] == "2m"  # the input is not modified


def test_a_group_interval_under_the_lab_evaluation_is_raised_with_a_note() -> None:
    result = scale_rules(
        _rules({"alert": "A", "expr": "up == 0", "for": "1m"}, interval="30s"),
        source="r.yml",
        settings=K60,
    )
    assert result.document["groups"][0]["interval"] == "1s"
    assert result.notes == [
        "group 'g': interval 30s ÷ 60 = 500ms is under the lab's evaluation interval; raised to 1s"
    ]


def test_a_range_too_short_for_the_lab_scrape_is_refused_naming_the_largest_k() -> None:
    document = _rules(
        {"alert": "Fine", "expr": "rate(x[5m]) > 0"},
        {"alert": "Flappy", "expr": "rate(x[5m]) > 0 and increase(y[1m]) > 2", "for": "1m"},
    )
    with pytest.raises(InvalidInputError) as caught:
        scale_rules(document, source="team.rules.yml", settings=K60)
    error = caught.value
    assert error.exit_code == EXIT_INVALID_INPUT
    assert error.source == "team.rules.yml"
    assert "alert 'Flappy'" in str(error) and "[1m] becomes [1s]" in str(error)
    assert error.hint is not None and "largest time scale that works for 'Flappy' is 15" in (
        error.hint
    )
    # 15 is indeed the largest that works: 60 s / 15 = 4 scrapes
    scale_rules(document, source="team.rules.yml", settings=ScaleSettings(time_scale=15))
    with pytest.raises(InvalidInputError):
        scale_rules(document, source="team.rules.yml", settings=ScaleSettings(time_scale=16))
    assert largest_time_scale(promql_parser.parse_duration("5m"), LabClock()) == 75


def test_subquery_ranges_are_held_to_the_same_floor() -> None:
    document = _rules({"alert": "S", "expr": "max_over_time(x[2m:10s]) > 1"})
    with pytest.raises(InvalidInputError, match=r"subquery range \[2m\]"):
        scale_rules(document, source="r.yml", settings=K60)


def test_adapted_expressions_replace_the_rule_and_are_scaled_and_mapped() -> None:
    settings = ScaleSettings(
        time_scale=60,
        labels=NAMESPACE,
        adapted={"HighErrorRate": 'sum(rate(g{namespace="creto-enablement",code=~"5.."}[5m])) > 0'},
    )
    document = _rules(
        {"alert": "HighErrorRate", "expr": "sum(rate(grpc_total[5m])) > 0", "for": "5m"},
        {"alert": "Other", "expr": "up == 0"},
    )
    result = scale_rules(document, source="r.yml", settings=settings)
    first, second = result.document["groups"][0]["rules"]
    assert _same(first["expr"], 'sum(rate(g{namespace="lab",code=~"5.."}[5s])) > 0')
    assert _same(second["expr"], "up == 0")
    assert result.adapted == {"HighErrorRate"}


def test_bad_input_is_refused_with_file_and_place() -> None:
    with pytest.raises(InvalidInputError, match=r"r\.yml:groups\[0\] \(g\)\.rules\[0\]"):
        scale_rules(_rules({"alert": "A", "expr": "rate(x[5m)"}), source="r.yml", settings=K60)
    with pytest.raises(InvalidInputError, match="'5 minutes' is not a duration"):
        scale_rules(
            _rules({"alert": "A", "expr": "up", "for": "5 minutes"}), source="r.yml", settings=K60
        )
    with pytest.raises(InvalidInputError, match=r"time scale 0\.5"):
        ScaleSettings(time_scale=0.5)
    assert parse_duration_field("0s", source="r", where="w").total_seconds() == 0


def _write(tmp_path: Path, name: str, document: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(dump_rules(document, ["test"]), encoding="utf-8")
    return path


@needs_promtool
def test_promtool_accepts_the_rewritten_tricky_rules(tmp_path: Path) -> None:
    document = _rules(
        *({"alert": f"A{index}", "expr": expr, "for": "5m"} for index, expr in enumerate(TRICKY)),
        interval="30s",
    )
    settings = ScaleSettings(time_scale=30, labels=NAMESPACE)
    monitoring.check_rule_files([_write(tmp_path, "orig.yml", document)])
    result = scale_rules(document, source="orig.yml", settings=settings)
    monitoring.check_rule_files([_write(tmp_path, "scaled.yml", result.document)])


@needs_promtool
def test_promtool_rejections_are_still_seen(tmp_path: Path) -> None:
    # the check can fail: a rule with a bad label name
    bad = _rules({"alert": "A", "expr": "up", "labels": {"bad-name": "x"}})
    with pytest.raises(InvalidInputError, match="promtool rejected"):
        monitoring.check_rule_files([_write(tmp_path, "bad.yml", bad)])


@needs_promtool
@pytest.mark.skipif(not CRETO.is_file(), reason=f"seed runbooks not present at {SEEDS}")
def test_the_creto_runbook_rules_extracted_and_scaled_pass_promtool(tmp_path: Path) -> None:
    runbook = parse_runbook(CRETO)
    document = rule_file_document(runbook.rules)
    written = _write(tmp_path, "creto.yml", document)
    monitoring.check_rule_files([written])
    # as written: the same rules come back
    assert parse_rule_groups(yaml.safe_load(written.read_text())) == [
        rule.__class__(**{**rule.__dict__, "source": "", "line": None}) for rule in runbook.rules
    ]
    result = scale_rules(document, source="creto.yml", settings=ScaleSettings(60, NAMESPACE))
    monitoring.check_rule_files([_write(tmp_path, "creto.scaled-60.yml", result.document)])
    rules = {rule["alert"]: rule for group in result.document["groups"] for rule in group["rules"]}
    assert rules["RedisDown"]["for"] == "1s"
    assert _same(rules["RedisDown"]["expr"], 'redis_up{namespace="lab"} == 0')
    assert rules["PodDown"]["for"] == "2s"
    assert "[5s]" in rules["HighErrorRate"]["expr"] and rules["HighErrorRate"]["for"] == "5s"
    assert [group.get("interval") for group in result.document["groups"]] == ["1s", "1s"]
    assert len(result.notes) == 1 and "enablement_critical" in result.notes[0]
