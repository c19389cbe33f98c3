"""Load on the gateway's quota check, the route that reads Redis through the lab's latency
proxy (opt-in part `latency`): mostly quota checks, some limit reads (etcd through the
proxy), health checks.

A standard locustfile: run it with plain `locust -f loadtests/quota_check.py`, or
through gameday's load control. Bounded like every lab load: the experiment gives the
users (10 at most) and its run time.
"""

from __future__ import annotations

import random

from locust import FastHttpUser, between, task

TENANTS = [f"tenant-{i}" for i in range(20)]


class QuotaCheckUser(FastHttpUser):
    wait_time = between(0.05, 0.15)

    @task(8)
    def check_quota(self) -> None:
        tenant = random.choice(TENANTS)
        self.client.get(
            f"/api/quota/{tenant}/check?units={random.randint(1, 5)}",
            name="/api/quota/[tenant]/check",
        )

    @task(1)
    def read_limit(self) -> None:
        self.client.get(
            f"/api/quota/{random.choice(TENANTS)}/limit", name="/api/quota/[tenant]/limit"
        )

    @task(1)
    def health(self) -> None:
        self.client.get("/healthz")
