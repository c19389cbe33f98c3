"""The replica-state exporter: an opt-in part not started is no deployment at all, so
DeploymentReplicasMismatch does not fire for parts nobody asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from gameday.lab.replica_state import ReplicaStateCollector, RestartCounter


class TableOnly:
    """Gives a fixed supervisor process table (the collector only reads it)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._rows = rows

    def processes(self) -> list[dict[str, Any]]:
        return self._rows


def _row(group: str, name: str, state: str) -> dict[str, Any]:
    return {"group": group, "name": name, "statename": state, "pid": 0}


def test_opt_in_parts_not_started_are_not_exported(tmp_path: Path) -> None:
    table = TableOnly(
        [
            _row("gateway", "gateway-0", "RUNNING"),
            _row("postgres", "postgres", "STOPPED"),
            _row("nats", "nats", "STOPPED"),
        ]
    )
    hidden = {"postgres", "nats"}
    registry = CollectorRegistry()
    collector = ReplicaStateCollector(
        table,  # type: ignore[arg-type]
        RestartCounter(tmp_path / "restarts.json"),
        not_started=lambda: set(hidden),
    )
    registry.register(collector)
    text = generate_latest(registry).decode()
    assert 'kube_deployment_spec_replicas{deployment="gateway",namespace="lab"} 1.0' in text
    assert 'deployment="postgres"' not in text and 'deployment="nats"' not in text
    # Once started, a stopped part is a deployment with nothing available: a real outage.
    hidden.discard("postgres")
    text = generate_latest(registry).decode()
    assert (
        'kube_deployment_status_replicas_available{deployment="postgres",namespace="lab"} 0.0'
        in text
    )
    assert 'deployment="nats"' not in text
