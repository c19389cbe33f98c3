"""The SLO probes against a scripted Prometheus: the worst value over the window
decides, restoration is measured from the fault, and a late one says by how much."""

from __future__ import annotations

import threading

import pytest
from chaoslib.exceptions import ActivityFailed
from tests.chaos.conftest import FakeRun

from gameday.chaos.slo.probes import slo_holds, slo_restored
from gameday.verify.verdicts import measurements

ERRORS: dict[str, float] = {}


def error_ratio(query: str) -> float | None:
    """The fake's answer: the current error ratio for error-ratio queries, else 100 req/s."""
    return ERRORS.get("ratio", 0.0) if "5.." in query else 100.0


@pytest.fixture
def scripted(fake_run: FakeRun) -> FakeRun:
    ERRORS.clear()
    fake_run.monitoring.values = error_ratio
    return fake_run


def test_slos_that_hold_are_recorded_with_their_values(scripted: FakeRun) -> None:
    assert slo_holds(
        error_ratio_max=0.01,
        throughput_min_rps=10,
        window_s=5,
        configuration=scripted.monitoring.configuration,
    )
    [expectation] = scripted.context.timeline.expectations
    assert expectation["passed"] and expectation["kind"] == "slo_holds"
    held = scripted.context.timeline.last("slo_held")
    assert held is not None and held["data"]["server error ratio"] == 0.0
    assert any("max_over_time" in q and "[5s:1s]" in q for q in scripted.monitoring.queries)


def test_a_violated_slo_fails_naming_the_objective(scripted: FakeRun) -> None:
    ERRORS["ratio"] = 0.25
    with pytest.raises(ActivityFailed, match=r"server error ratio 25\.00% \(target <= 1\.00%\)"):
        slo_holds(error_ratio_max=0.01, configuration=scripted.monitoring.configuration)
    assert scripted.context.timeline.last("slo_violated") is not None
    assert not scripted.context.timeline.expectations[0]["passed"]


def test_no_data_never_holds(fake_run: FakeRun) -> None:
    with pytest.raises(ActivityFailed, match="no data"):
        slo_holds(error_ratio_max=0.01, configuration=fake_run.monitoring.configuration)


def test_restoration_is_measured_from_the_fault(scripted: FakeRun) -> None:
    scripted.fault(seconds_ago=3)
    ERRORS["ratio"] = 0.5
    threading.Timer(0.6, lambda: ERRORS.update(ratio=0.0)).start()
    found = slo_restored(
        within_s=10,
        error_ratio_max=0.01,
        mttr_budget_s=20,
        configuration=scripted.monitoring.configuration,
    )
    assert 3.5 <= found["mttr_s"] < 6
    assert 0.5 <= found["restored_after_s"] < 3
    first, budget = scripted.context.timeline.expectations
    assert first["passed"] and first["budget_s"] == 10 and first["measure"] == "mttr"
    assert budget["name"] == "MTTR within 20s" and budget["passed"]
    figures = measurements(scripted.context.timeline.expectations)
    assert figures["mttr_s"] == pytest.approx(found["mttr_s"], abs=0.01)
    assert figures["budgets_s"]["mttr_s"] == 20
    restored = scripted.context.timeline.last("slo_restored")
    assert restored is not None and restored["data"]["mttr_s"] == round(found["mttr_s"], 3)


def test_a_late_restoration_fails_and_says_by_how_much(scripted: FakeRun) -> None:
    scripted.fault(seconds_ago=2)
    ERRORS["ratio"] = 0.5
    threading.Timer(0.5, lambda: ERRORS.update(ratio=0.0)).start()
    with pytest.raises(ActivityFailed, match=r"SLO restored 2\.\d+s after the fault: 0\.\d+s over"):
        slo_restored(
            within_s=2,
            overtime_s=5,
            error_ratio_max=0.01,
            configuration=scripted.monitoring.configuration,
        )


def test_never_restored_names_what_still_fails(scripted: FakeRun) -> None:
    scripted.fault()
    ERRORS["ratio"] = 0.5
    with pytest.raises(ActivityFailed, match=r"not restored within 0\.5s .*error ratio 50\.00%"):
        slo_restored(
            within_s=0.5,
            overtime_s=0,
            error_ratio_max=0.01,
            configuration=scripted.monitoring.configuration,
        )
    assert scripted.context.timeline.last("slo_restored") is None


def test_an_unknown_source_is_refused(fake_run: FakeRun) -> None:
    with pytest.raises(ActivityFailed, match="source must be"):
        slo_holds(
            error_ratio_max=0.01, source="browser", configuration=fake_run.monitoring.configuration
        )
