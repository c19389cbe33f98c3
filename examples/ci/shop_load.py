"""Load on the shop API: any standard locustfile works unmodified."""

from locust import HttpUser, constant, task


class Shopper(HttpUser):
    wait_time = constant(0.05)

    @task
    def item(self) -> None:
        self.client.get("/items/1", name="/items/:id")
