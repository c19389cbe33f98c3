"""The generic PromQL probes against the lab's real Prometheus: the worst value over the
window decides, verdicts go into the timeline, restoration measures MTTR from the fault."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from gameday.chaos.objective_checks import SETTLE_AFTER_CHANGE_S
from gameday.chaos.promql.probes import query_holds, query_restored
from gameday.context import RunContext
from gameday.lab.config import LabConfig
from gameday.record.timeline import Timeline
from gameday.targets import resolve_target
from gameday.verify.verdicts import measurements

NO_TARGET = {"prometheus_url": "http://127.0.0.1:9", "notification_sink_url": "http://127.0.0.1:9"}


@pytest.fixture
def target(lab: LabConfig) -> dict[str, Any]:
    return {"prometheus_url": lab.prometheus_url, "notification_sink_url": lab.sink_url}


@pytest.fixture
def recorded(target: dict[str, Any]) -> Iterator[Timeline]:
    """The timeline of a run context made active, as the engine does for a run."""
    context = RunContext(timeline=Timeline(), target=resolve_target(target))
    with context.activated():
        yield context.timeline


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"query": "up"}, "set min, max or both"),
        ({"query": " ", "min": 1}, "query is empty"),
        ({"query": "up", "min": 2, "max": 1}, "min 2 is above max 1"),
        ({"query": "up", "min": 1, "window_s": 0.5}, "use at least 1 second"),
    ],
)
def test_bad_arguments_are_refused_before_querying(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ActivityFailed, match=message):
        query_holds(**arguments, configuration=NO_TARGET)


def test_a_query_within_its_bounds_holds_and_is_recorded(
    target: dict[str, Any], recorded: Timeline
) -> None:
    assert query_holds("vector(1)", min=1, max=1, window_s=3, name="one", configuration=target)
    [expectation] = recorded.expectations
    assert expectation["kind"] == "slo_holds" and expectation["passed"]
    assert expectation["name"] == "one holds over 3s"


def test_the_worst_series_decides(target: dict[str, Any], recorded: Timeline) -> None:
    query = (
        'label_replace(vector(1), "s", "a", "", "") or label_replace(vector(5), "s", "b", "", "")'
    )
    assert query_holds(query, min=1, window_s=2, configuration=target)
    with pytest.raises(ActivityFailed, match=r"5\.0 \(target <= 4\.0\)"):
        query_holds(query, max=4, window_s=2, configuration=target)
    assert [e["passed"] for e in recorded.expectations] == [True, False]


def test_a_query_without_data_does_not_hold(target: dict[str, Any], recorded: Timeline) -> None:
    with pytest.raises(ActivityFailed, match="no data"):
        query_holds('up{job="no-such-job"}', min=1, window_s=2, configuration=target)
    assert recorded.expectations[0]["passed"] is False


def test_restored_measures_mttr_from_the_fault(target: dict[str, Any], recorded: Timeline) -> None:
    recorded.record("fault_applied", "a fault", datetime.now(UTC) - timedelta(seconds=4))
    found = query_restored(
        "vector(0.02)",
        max=0.05,
        unit="ratio",
        within_s=5,
        window_s=2,
        mttr_budget_s=30,
        configuration=target,
    )
    assert 4 <= found["mttr_s"] < 9
    assert [e["passed"] for e in recorded.expectations] == [True, True]
    assert "2.00% (target <= 5.00%)" in recorded.expectations[0]["message"]
    mttr = measurements(recorded.expectations)["mttr_s"]
    assert mttr is not None and mttr == pytest.approx(found["mttr_s"], abs=0.01)


def test_restoration_is_not_judged_before_prometheus_can_see_the_last_change(
    target: dict[str, Any], recorded: Timeline
) -> None:
    # A remediation a moment ago: the window may not show the fault's last sample yet, so
    # an objective that looks met at once is judged only after a scrape and an alignment.
    recorded.record("fault_applied", "a fault", datetime.now(UTC) - timedelta(seconds=3))
    recorded.record("remediation_completed", "fixed")
    found = query_restored("vector(1)", min=1, within_s=30, window_s=1, configuration=target)
    assert 3 + SETTLE_AFTER_CHANGE_S <= found["mttr_s"] < 3 + SETTLE_AFTER_CHANGE_S + 3


def test_not_restored_in_time_fails_with_the_last_value(
    target: dict[str, Any], recorded: Timeline
) -> None:
    with pytest.raises(ActivityFailed, match="not restored within 1s"):
        query_restored(
            "vector(0)", min=1, within_s=1, window_s=1, overtime_s=0, configuration=target
        )
    [expectation] = recorded.expectations
    assert expectation["kind"] == "slo_restored" and not expectation["passed"]
    assert recorded.last("slo_restored") is None
