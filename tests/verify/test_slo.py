import pytest

from gameday.verify.slo import objectives


def test_error_ratio_objective_is_worst_over_the_window() -> None:
    (objective,) = objectives(error_ratio_max=0.01)
    query = objective.over_window(10)
    assert query.startswith("max_over_time((")
    assert query.endswith(")[10s:1s])")
    assert 'gateway_requests_total{code=~"5.."}' in query
    assert objective.met_by(0.01) and not objective.met_by(0.011)


def test_client_side_objectives_use_locust_series() -> None:
    found = objectives(source="client", error_ratio_max=0.05, latency_max_s=0.2)
    assert [o.name for o in found] == ["client error ratio", "client p95 latency"]
    assert 'locust_requests_total{result="failure"}' in found[0].expr
    assert "locust_request_duration_seconds_bucket" in found[1].expr


def test_throughput_is_a_lower_bound() -> None:
    (objective,) = objectives(throughput_min_rps=50)
    assert objective.over_window(5).startswith("min_over_time(")
    assert objective.met_by(50) and not objective.met_by(49.9)
    assert objective.describe(12.0) == "server throughput 12.0 req/s (target >= 50.0 req/s)"


def test_descriptions_use_human_units() -> None:
    ratio, latency = objectives(error_ratio_max=0.01, latency_max_s=0.5)
    assert ratio.describe(0.0678) == "server error ratio 6.78% (target <= 1.00%)"
    assert latency.describe(None) == "server p95 latency no data (target <= 500ms)"


def test_no_objective_is_an_error() -> None:
    with pytest.raises(ValueError, match="no objective"):
        objectives()
