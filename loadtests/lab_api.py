"""Load on the lab gateway, shaped like the runbooks' services: mostly quota reads and
consumes (Redis), some configuration reads (etcd), health checks.

A standard locustfile: run it with plain `locust -f loadtests/lab_api.py`, or
through gameday's load control.
"""

from __future__ import annotations

import random

from locust import FastHttpUser, between, task

TENANTS = [f"tenant-{i}" for i in range(20)]


class LabApiUser(FastHttpUser):
    wait_time = between(0.05, 0.15)

    def on_start(self) -> None:
        self.client.put("/api/config/rate-limit", data="100", name="/api/config/[key] PUT")

    @task(6)
    def consume_quota(self) -> None:
        tenant = random.choice(TENANTS)
        self.client.post(f"/api/quota/{tenant}/consume", name="/api/quota/[tenant]/consume")

    @task(3)
    def read_quota(self) -> None:
        self.client.get(f"/api/quota/{random.choice(TENANTS)}", name="/api/quota/[tenant]")

    @task(1)
    def read_config(self) -> None:
        self.client.get("/api/config/rate-limit", name="/api/config/[key]")

    @task(1)
    def health(self) -> None:
        self.client.get("/healthz")
