from __future__ import annotations

from pathlib import Path

import pytest

from gameday.coverage import load_results
from gameday.experiment import load_plan, load_scenarios
from gameday.runbook import Rule, load_rule_file, parse_runbook
from gameday.tabletop import build_tabletop, render_html, render_markdown

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runbook"
SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


def _script():  # type: ignore[no-untyped-def]
    plan = load_plan(FIXTURES / "plans" / "gameday.yaml")
    assert plan.runbook is not None
    results, _ = load_results(FIXTURES / "results")
    rules = load_rule_file(FIXTURES / "rules" / "lab.yml")
    return build_tabletop(plan, parse_runbook(plan.runbook), results, rules)


def test_inject_timeline_follows_pauses() -> None:
    redis = _script().scenarios[0]
    assert [(i.at_s, i.kind, i.title, i.detail) for i in redis.injects] == [
        # the fault after its 10 s pause; RedisDown when its rule's `for: 30s` has run
        # (within its 2 min deadline), the page with it; rollbacks after the 30 s pause
        (10.0, "fault", "stop-redis", "stop_service(service=redis)"),
        (40.0, "expect", "RedisDown fires", "within 2m of the fault"),
        (40.0, "expect", "RedisDown reaches oncall-pager", ""),
        (70.0, "rollback", "start-redis", "start_service(service=redis)"),
    ]
    assert redis.steady_state == ["no-redis-alert-before"]


def test_alert_briefing_uses_runbook_and_rules() -> None:
    [briefing] = _script().scenarios[0].alerts
    assert briefing.name == "RedisDown"
    assert briefing.expects == "fires, delivered to oncall-pager"
    assert briefing.meaning == "Redis does not answer PING for 30s"
    assert (briefing.severity, briefing.condition, briefing.for_) == (
        "critical",
        "redis_up == 0",
        "30s",
    )
    assert briefing.procedure == "Redis down"


def test_targets_questions_scoring_measured() -> None:
    script = _script()
    redis, replicas = script.scenarios
    assert ("Time to detect (MTTD)", "< 2 min") in redis.targets
    assert ("Respond to RedisDown", "5 min") in redis.targets
    assert ("RedisDown fires", "within 2m") in redis.targets
    assert [p.title for p in redis.procedures] == ["Redis down"]
    assert redis.measured is not None
    assert (redis.measured.status, redis.measured.mttd_s, redis.measured.mttr_s) == (
        "passed",
        {"RedisDown": 42.5},
        95.0,
    )
    assert replicas.questions[:3] == [
        "The runbook describes ApiReplicasLow, but no alerting rule defines it. "
        "How would you learn about this failure today?",
        "The last automated run of this scenario found a problem with ApiReplicasLow: "
        "ApiReplicasLow did not fire. What must change before the next game day?",
        "Nothing has verified that ApiHighErrorRate fires. What evidence do we have that it would?",
    ]
    assert [row.checkpoint for row in replicas.scoring][:3] == [
        "ApiReplicasLow noticed and acknowledged",
        "Procedure 'API replicas' chosen and followed",
        "No one acts on ApiHighErrorRate (it must not fire)",
    ]
    assert script.unexercised == ["ApiHighErrorRate", "EtcdNoLeader"]


def test_markdown_sections() -> None:
    markdown = render_markdown(_script())
    assert markdown.startswith("# Tabletop exercise: Checkout game day\n")
    for heading in (
        "## Scenario 1: Redis goes down under load",
        "### Inject timeline",
        "### What participants will see",
        "### Expected response",
        "#### Redis down",
        "### Targets",
        "### Discussion questions",
        "### Scoring sheet",
        "### What the automated run measured",
        "## Alerts no scenario exercises",
    ):
        assert heading in markdown
    assert "| T+00:10 | Inject | stop-redis | stop_service(service=redis) |" in markdown
    assert "   ```bash\n   redis-cli -p 6379 PING\n   ```" in markdown
    assert "| MTTD RedisDown | 42.5s |" in markdown


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    experiment = tmp_path / "xss.yaml"
    experiment.write_text(
        "title: '<script>alert(1)</script>'\n"
        "description: 'a | b <img src=x onerror=alert(1)>'\n"
        "method:\n  - type: action\n    name: '<b>x</b>'\n    provider: {type: process, path: rm}\n"
    )
    runbook = parse_runbook(FIXTURES / "lab-runbook.md")
    script = build_tabletop(load_scenarios(experiment), runbook)
    page = render_html(render_markdown(script), script.title)
    assert "<script>" not in page
    assert "<img" not in page and "<b>x" not in page
    assert "&lt;script&gt;" in page
    assert "http://" not in page.split("<body>")[0]  # no external CSS/JS in the head
    assert "<style>" in page


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed runbooks not present at {SEEDS}")
def test_tabletop_on_creto_seed() -> None:
    runbook = parse_runbook(SEEDS / "creto-enablement-runbook.md")
    plan = load_scenarios(FIXTURES / "seed-experiments" / "creto-redis-down.yaml")
    script = build_tabletop(plan, runbook)
    [scenario] = script.scenarios
    assert [(a.name, a.severity, a.for_) for a in scenario.alerts] == [
        ("RedisDown", "critical", "1m"),
        ("HighErrorRate", "critical", "5m"),
    ]
    assert [p.title for p in scenario.procedures] == ["6.2 Error Rate Spikes"]
    assert ("Time to detect (MTTD)", "<5 min") in scenario.targets
    assert ("Time to resolve (MTTR)", "<15 min") in scenario.targets
    assert (
        "The runbook names no procedure for RedisDown. What would you do first?"
        in scenario.questions
    )
    assert [e.level for e in script.escalation] == [1, 2, 3, 4]
    markdown = render_markdown(script)
    assert "kubectl rollout history deployment/creto-metering -n creto-enablement-prod" in markdown


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed runbooks not present at {SEEDS}")
def test_tabletop_on_verolux_seed() -> None:
    runbook = parse_runbook(SEEDS / "verolux-runbooks-index.md")
    plan = load_scenarios(FIXTURES / "seed-experiments" / "verolux-camera-offline.yaml")
    [scenario] = build_tabletop(plan, runbook).scenarios
    [alert] = scenario.alerts
    assert (alert.name, alert.severity, alert.response_time) == (
        "Camera Offline",
        "critical",
        "15-minute",
    )
    assert ("Respond to Camera Offline", "15-minute") in scenario.targets
    assert scenario.injects[0].at_s == 5.0
    assert scenario.questions[0].startswith(
        "The runbook describes Camera Offline, but no alerting rule"
    )
    markdown = render_markdown(build_tabletop(plan, runbook))
    assert "- Camera Offline: follow `RUNBOOK_CAMERA_OFFLINE.md` (outside this runbook)" in markdown


def test_injects_of_a_shipped_experiment_carry_its_deadlines() -> None:
    """The lab's own redis-down experiment, as `gameday validate` accepts it: every
    alert and page inject says the deadline its probe is given (within_s)."""
    from gameday.lab.monitoring import lab_rule_files, lab_runbook

    repo = Path(__file__).resolve().parents[2]
    plan = load_scenarios(repo / "experiments" / "redis-down.yaml")
    rules = [rule for path in lab_rule_files() for rule in load_rule_file(path)]
    script = build_tabletop(plan, parse_runbook(lab_runbook()), [], rules)
    expects = {i.title: i.detail for i in script.scenarios[0].injects if i.kind == "expect"}
    assert expects == {
        "RedisDown fires": "within 15s of the fault",
        "RedisDown reaches oncall-pager": "within 15s of the fault",
        "HighErrorRate fires": "within 20s of the fault",
        "HighErrorRate reaches oncall-pager": "within 20s of the fault",
    }


def _lab_rules() -> list[Rule]:
    from gameday.lab.monitoring import lab_rule_files

    return [rule for path in lab_rule_files() for rule in load_rule_file(path)]


def test_planned_times_follow_the_rules_for_and_the_restoration_window() -> None:
    from gameday.lab.monitoring import lab_runbook

    repo = Path(__file__).resolve().parents[2]
    plan = load_scenarios(repo / "experiments" / "redis-down.yaml")
    script = build_tabletop(plan, parse_runbook(lab_runbook()), [], _lab_rules())
    scenario = script.scenarios[0]
    assert scenario.timing == "planned"
    timeline = [(i.at_s, i.kind, i.title) for i in scenario.injects]
    # The lab's RedisDown and HighErrorRate rules say `for: 5s`; the SLOs need a 5 s
    # window of good data after the restart.
    assert timeline[:6] == [
        (0.0, "fault", "stop redis"),
        (5.0, "expect", "RedisDown fires"),
        (5.0, "expect", "RedisDown reaches oncall-pager"),
        (5.0, "expect", "HighErrorRate fires"),
        (5.0, "expect", "HighErrorRate reaches oncall-pager"),
        (5.0, "remediation", "restart redis"),
    ]
    assert timeline[6] == (10.0, "check", "SLOs restored")
    assert all(briefing.condition for briefing in scenario.alerts)  # the target's rules


def test_results_of_a_real_run_replay_every_inject_alert_and_page_when_it_happened() -> None:
    from gameday.lab.monitoring import lab_runbook

    repo = Path(__file__).resolve().parents[2]
    run = Path(__file__).resolve().parents[1] / "fixtures" / "report" / "redis-down-passed"
    results, _ = load_results(run)
    plan = load_scenarios(repo / "experiments" / "redis-down.yaml")
    script = build_tabletop(plan, parse_runbook(lab_runbook()), results, _lab_rules())
    scenario = script.scenarios[0]
    assert scenario.timing.endswith("result.json")
    kinds = [i.kind for i in scenario.injects]
    assert kinds[0] == "fault" and "alert" in kinds and "page" in kinds
    assert [i.at_s for i in scenario.injects] == sorted(i.at_s for i in scenario.injects)
    recorded = results[0]
    method = next(e["elapsed_s"] for e in recorded.timeline if e["kind"] == "method_started")
    fired = next(
        e["elapsed_s"]
        for e in recorded.timeline
        if e["kind"] == "alert_firing" and e["detail"].startswith("RedisDown")
    )
    alert = next(i for i in scenario.injects if i.kind == "alert" and "RedisDown" in i.title)
    assert alert.at_s == pytest.approx(fired - method)
    assert alert.at_s > 0
    restart = next(i for i in scenario.injects if i.kind == "remediation")
    assert restart.at_s > alert.at_s
