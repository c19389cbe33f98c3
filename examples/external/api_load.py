"""Load for the storage team's API: any standard locustfile works unmodified."""

from locust import HttpUser, between, task


class ApiUser(HttpUser):
    wait_time = between(0.5, 1.5)

    @task(5)
    def read_item(self) -> None:
        self.client.get("/v1/items/42", name="/v1/items/:id")

    @task(1)
    def health(self) -> None:
        self.client.get("/healthz")
