"""The pre-release resilience gate: start the shop in containers, stop its Redis under
load, and require that ShopCacheDown fires, is routed to the pager and that the SLOs
recover. Run it with `pytest examples/ci/test_resilience_gate.py --junitxml=gate.xml`
(gameday's pytest plugin provides `gameday_run` and `containers_target`).

GATE_BREAK_ROUTE=1 starts Alertmanager with the page route pointing elsewhere: the gate
must then fail, naming the expectation.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from shop_stack import shop_stack

from gameday.pytest_plugin import containers_target

HERE = Path(__file__).parent
ERROR_RATIO = (
    '(sum(rate(app_requests_total{code=~"5.."}[5s])) or vector(0))'
    " / sum(rate(app_requests_total[5s]))"
)


def test_cache_down_pages_the_on_call_and_the_shop_recovers(
    gameday_run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page_receiver = "shop-oncall" if os.environ.get("GATE_BREAK_ROUTE") else "shop-pager"
    with shop_stack(tmp_path / "config", page_receiver=page_receiver) as shop:
        monkeypatch.setenv("GATE_REDIS_CONTAINER", shop.name(shop.redis))
        target = containers_target(
            name="shop-ci",
            containers=[shop.redis, shop.app],
            prometheus=shop.prometheus,
            alertmanager=shop.alertmanager,
            allow=[shop.name(shop.redis)],
            slo={"error_ratio": ERROR_RATIO},
            load_host=shop.app_url,
        )
        gameday_run(
            HERE / "shop-cache-down.yaml",
            target=target,
            report_dir=Path(os.environ.get("GATE_REPORT_DIR", tmp_path / "report")),
        )
