"""The gateway's dependency error, in a module of its own: the gateway runs as
``python -m gameday.lab.gateway`` (its module is ``__main__``), so a class defined there
would not be the one its route modules raise."""

from __future__ import annotations


class DependencyUnavailable(Exception):
    """A backend (Redis, etcd, PostgreSQL) did not answer in time: the gateway's
    middleware answers 503 and counts it in gateway_dependency_errors_total."""

    def __init__(self, dependency: str, reason: str) -> None:
        super().__init__(f"{dependency}: {reason}")
        self.dependency = dependency
