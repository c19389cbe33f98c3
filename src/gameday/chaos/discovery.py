"""Chaos Toolkit discovery: every `actions` and `probes` module under gameday.chaos.

Found by walking the package, not from a hand-kept list, so a new fault or
probe module is published as soon as it exists.
"""

from __future__ import annotations

import pkgutil
from typing import Any

from chaoslib.discovery.discover import (
    discover_actions,
    discover_probes,
    initialize_discovery_result,
)

import gameday.chaos
from gameday import __version__


def activity_modules() -> list[str]:
    names = []
    for module in pkgutil.walk_packages(gameday.chaos.__path__, prefix="gameday.chaos."):
        leaf = module.name.rsplit(".", 1)[-1]
        if leaf in ("actions", "probes"):
            names.append(module.name)
    return sorted(names)


def discover(discover_system: bool = True) -> Any:
    discovery = initialize_discovery_result("gameday", __version__, "gameday")
    for name in activity_modules():
        if name.endswith(".actions"):
            discovery["activities"].extend(discover_actions(name))
        else:
            discovery["activities"].extend(discover_probes(name))
    return discovery
