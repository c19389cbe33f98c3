import gameday
from gameday.chaos.discovery import activity_modules


def test_every_actions_and_probes_module_is_discovered() -> None:
    modules = activity_modules()
    assert {"gameday.chaos.lab.actions", "gameday.chaos.alerts.probes"} <= set(modules)
    discovery = gameday.discover(discover_system=False)
    found = {(a["mod"], a["name"], a["type"]) for a in discovery["activities"]}
    assert ("gameday.chaos.lab.actions", "kill_replicas", "action") in found
    assert ("gameday.chaos.alerts.probes", "alert_fires", "probe") in found
    assert ("gameday.chaos.slo.probes", "slo_restored", "probe") in found
    kill = next(a for a in discovery["activities"] if a["name"] == "kill_replicas")
    assert "keep_down" in {arg["name"] for arg in kill["arguments"]}
    assert "Deployment" in kill["doc"]
