"""Every opt-in lab part, by name: each module of this package that defines `EXTRA`."""

from __future__ import annotations

import importlib

from gameday.errors import InvalidInputError
from gameday.lab.extras.base import Extra

# The modules that hold an opt-in part, in the order parts start and are listed.
MODULES = ("latency", "postgres", "queue", "disk", "memory", "tls")


def _load() -> dict[str, Extra]:
    found: dict[str, Extra] = {}
    for module in MODULES:
        try:
            extra = importlib.import_module(f"gameday.lab.extras.{module}").EXTRA
        except ModuleNotFoundError as exc:
            if exc.name != f"gameday.lab.extras.{module}":
                raise
            continue
        found[extra.name] = extra
    return found


EXTRAS: dict[str, Extra] = _load()


def extra_names() -> list[str]:
    return list(EXTRAS)


def choose_extras(names: list[str] | tuple[str, ...]) -> list[Extra]:
    """The parts named (`all`: every one), in the registry's order; unknown names refused."""
    wanted: set[str] = set()
    for raw in names:
        for name in (n.strip() for n in raw.split(",")):
            if not name:
                continue
            if name == "all":
                wanted.update(EXTRAS)
            elif name not in EXTRAS:
                raise InvalidInputError(
                    f"the lab has no opt-in part named {name!r}",
                    hint=f"choose from: {', '.join(EXTRAS) or 'none installed'} (or all)",
                )
            else:
                wanted.add(name)
    return [extra for name, extra in EXTRAS.items() if name in wanted]
