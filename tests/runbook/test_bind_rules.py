"""Rule alerts looked for in the runbook (`--rules`): explained ones are tied to their
section, ones the runbook never names stay gaps."""

from __future__ import annotations

from pathlib import Path

from gameday.coverage import build_coverage
from gameday.runbook import Rule, parse_runbook, parse_runbook_text

RUNBOOK = """\
# Checkout runbook

## Redis

If Redis stops answering, CheckoutRedisDown pages the on-call.

1. Restart Redis: `sudo systemctl restart redis`

## GPU saturation

1. Move jobs to the spare pool: `jobctl move --to spare`
"""


def _rule(name: str) -> Rule:
    return Rule(name=name, expr="up == 0", source="rules.yml")


def test_rule_alerts_named_in_the_runbook_are_tied_to_their_section() -> None:
    rules = [_rule("CheckoutRedisDown"), _rule("GpuSaturation"), _rule("NeverMentioned")]
    runbook = parse_runbook_text(RUNBOOK, "checkout.md", rules=rules)
    redis = runbook.alert("CheckoutRedisDown")
    assert redis is not None and redis.sources == ["rules"]
    assert redis.procedure == "Redis" and "procedure" in redis.inferred
    gpu = runbook.alert("GpuSaturation")  # the heading "GPU saturation", spelled otherwise
    assert gpu is not None and gpu.procedure == "GPU saturation"
    assert runbook.alert("NeverMentioned") is None
    coverage = build_coverage(runbook, rules)
    assert [gap.kind for gap in coverage.gaps_for("CheckoutRedisDown")] == ["no-experiment"]
    assert "no-runbook" in [gap.kind for gap in coverage.gaps_for("NeverMentioned")]


def test_runbook_spelling_takes_the_rule_name(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_text("# R\n\n## Alerts\n\n- **GPU Saturation**: GPU above 95 %\n")
    runbook = parse_runbook(path, rules=[_rule("GpuSaturation")])
    assert runbook.alert_names() == ["GpuSaturation"]
    alert = runbook.alert("GPU Saturation")
    assert alert is not None and alert.aliases == ["GPU Saturation"]
