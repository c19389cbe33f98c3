"""Max-throughput load for benchmarks: no think time, the cheapest endpoint."""

from locust import FastHttpUser, constant, task


class HealthUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def health(self) -> None:
        self.client.get("/healthz")
