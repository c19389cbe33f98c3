"""gameday: chaos game days that prove runbooks work."""

from typing import Any

__version__ = "0.1.0"


def discover(discover_system: bool = True) -> Any:
    """Chaos Toolkit discovery entry point (`chaos discover gameday`)."""
    from gameday.chaos.discovery import discover as discover_activities

    return discover_activities(discover_system)
