"""A team's system in containers, started with testcontainers for a CI resilience gate:
the shop API (its app), its Redis with the Redis exporter, and the Prometheus and
Alertmanager that watch them, on one Docker network.

Images come from environment variables, so the same gate runs on your images:
GATE_REDIS_IMAGE (redis-server and its exporter, ports 6379 and 9121), GATE_APP_IMAGE
(the app on 8080, `REDIS_HOST`), GATE_MONITORING_IMAGE (with `prometheus` and
`prometheus-alertmanager` on its PATH). gameday's own suite sets them to images it
builds locally (no registry needed).
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

LABELS = {"gameday.test": "1"}  # everything started here, for cleanup by label
RULES = {
    "groups": [
        {
            "name": "shop.rules",
            "rules": [
                {
                    "alert": "ShopCacheDown",
                    "expr": 'redis_up{job="shop-cache"} == 0 or up{job="shop-cache"} == 0',
                    "for": "2s",
                    "labels": {"severity": "page", "team": "shop"},
                    "annotations": {"summary": "The shop's Redis is down"},
                },
                {
                    "alert": "ShopErrors",
                    "expr": 'sum(rate(app_requests_total{code=~"5.."}[5s])) > 0',
                    "for": "2s",
                    "labels": {"severity": "ticket", "team": "shop"},
                },
            ],
        }
    ]
}


def alertmanager_config(page_receiver: str = "shop-pager") -> dict[str, Any]:
    """The team's routes: pages to `page_receiver`, the rest to chat. The receivers post to
    a URL nobody listens on: the gate checks routing, where Alertmanager decides it."""

    def receiver(name: str) -> dict[str, Any]:
        return {"name": name, "webhook_configs": [{"url": f"http://127.0.0.1:9/{name}"}]}

    return {
        "route": {
            "receiver": "shop-chat",
            "group_by": ["alertname"],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "1h",
            "routes": [{"matchers": ['severity="page"'], "receiver": page_receiver}],
        },
        "receivers": [receiver("shop-chat"), receiver("shop-pager"), receiver("shop-oncall")],
    }


def prometheus_config() -> dict[str, Any]:
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["/config/rules.yml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]},
        "scrape_configs": [
            {"job_name": "shop-cache", "static_configs": [{"targets": ["redis:9121"]}]},
            {"job_name": "shop-app", "static_configs": [{"targets": ["app:8080"]}]},
        ],
    }


@dataclass
class ShopStack:
    """The running system: its containers (testcontainers objects) and network."""

    network: str
    redis: Any
    app: Any
    prometheus: Any
    alertmanager: Any

    @property
    def prometheus_url(self) -> str:
        return _url(self.prometheus, 9090)

    @property
    def app_url(self) -> str:
        return _url(self.app, 8080)

    def name(self, container: Any) -> str:
        return str(container.get_wrapped_container().name)


def _url(container: Any, port: int) -> str:
    return f"http://{container.get_container_host_ip()}:{container.get_exposed_port(port)}"


def _wait(check: Any, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} not ready within {timeout_s:g}s")


def _scraped(prometheus_url: str) -> bool:
    answer = requests.get(
        f"{prometheus_url}/api/v1/query", params={"query": 'redis_up{job="shop-cache"}'}, timeout=3
    ).json()
    result = answer["data"]["result"]
    return bool(result) and result[0]["value"][1] == "1"


@contextlib.contextmanager
def shop_stack(config_dir: Path, *, page_receiver: str = "shop-pager") -> Iterator[ShopStack]:
    """Start the shop and its monitoring; every container and the network are removed on
    exit, also when the test fails."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.network import Network

    images = {
        "redis": os.environ.get("GATE_REDIS_IMAGE", "gameday-test/redis"),
        "app": os.environ.get("GATE_APP_IMAGE", "gameday-test/app"),
        "monitoring": os.environ.get("GATE_MONITORING_IMAGE", "gameday-test/monitoring"),
    }
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "rules.yml").write_text(yaml.safe_dump(RULES))
    (config_dir / "prometheus.yml").write_text(yaml.safe_dump(prometheus_config()))
    (config_dir / "alertmanager.yml").write_text(yaml.safe_dump(alertmanager_config(page_receiver)))
    suffix = uuid.uuid4().hex[:6]
    with contextlib.ExitStack() as stack:
        network = stack.enter_context(Network(docker_network_kw={"labels": LABELS}))

        def start(image: str, alias: str, *ports: int, **env: str) -> Any:
            container = (
                DockerContainer(image, labels=dict(LABELS), name=f"shop-{alias}-{suffix}")
                .with_network(network)
                .with_network_aliases(alias)
                .with_exposed_ports(*ports)
                .with_volume_mapping(str(config_dir), "/config", "ro")
            )
            for key, value in env.items():
                container = container.with_env(key, value)
            return container

        redis = stack.enter_context(start(images["redis"], "redis", 6379, 9121))
        app = stack.enter_context(start(images["app"], "app", 8080, REDIS_HOST="redis"))
        alertmanager = stack.enter_context(
            start(images["monitoring"], "alertmanager", 9093).with_command(
                [
                    "prometheus-alertmanager",
                    "--config.file=/config/alertmanager.yml",
                    "--storage.path=/tmp/alertmanager",
                    "--web.listen-address=0.0.0.0:9093",
                    "--cluster.listen-address=",
                ]
            )
        )
        prometheus = stack.enter_context(
            start(images["monitoring"], "prometheus", 9090).with_command(
                [
                    "prometheus",
                    "--config.file=/config/prometheus.yml",
                    "--storage.tsdb.path=/tmp/prometheus",
                    "--web.listen-address=0.0.0.0:9090",
                    "--rules.alert.resend-delay=1s",
                ]
            )
        )
        shop = ShopStack(
            network=network.name,
            redis=redis,
            app=app,
            prometheus=prometheus,
            alertmanager=alertmanager,
        )
        _wait(lambda: requests.get(f"{shop.app_url}/healthz", timeout=2).ok, "the app")
        _wait(lambda: _scraped(shop.prometheus_url), "Prometheus scraping the cache")
        _wait(
            lambda: requests.get(f"{_url(alertmanager, 9093)}/-/ready", timeout=2).ok,
            "Alertmanager",
        )
        yield shop
