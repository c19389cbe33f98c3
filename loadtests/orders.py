"""Load on the lab gateway's orders (PostgreSQL, the opt-in part `postgres`): users
place orders and read back the ones they placed.

A standard locustfile: run it with plain `locust -f loadtests/orders.py`, or through
gameday's load control. Each user remembers at most its last 50 orders.
"""

from __future__ import annotations

import random

from locust import FastHttpUser, between, task

ITEMS = ["widget", "gadget", "sprocket", "gizmo"]
REMEMBERED = 50


class OrdersUser(FastHttpUser):
    wait_time = between(0.1, 0.2)

    def on_start(self) -> None:
        self.placed: list[int] = []

    @task(1)
    def place_order(self) -> None:
        body = {"item": random.choice(ITEMS), "quantity": random.randint(1, 5)}
        response = self.client.post("/api/orders", json=body, name="/api/orders")
        if response.status_code == 201:
            self.placed = [*self.placed, int(response.json()["id"])][-REMEMBERED:]

    @task(3)
    def read_order(self) -> None:
        if not self.placed:
            self.place_order()
            return
        order = random.choice(self.placed)
        self.client.get(f"/api/orders/{order}", name="/api/orders/[id]")
