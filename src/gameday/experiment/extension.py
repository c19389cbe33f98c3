"""gameday's own activities as an experiment names them (module, function): what the
reader, the overrides and the run-time checks recognise."""

from __future__ import annotations

LOAD_MODULE = "gameday.chaos.load.control"
REMEDIATION_MODULE = "gameday.chaos.remediation.probes"
# The probes that judge themselves: each records its verdicts as expectations (a
# failure of theirs is a verdict, not an error of the run).
EXPECTATION_MODULES = (
    "gameday.chaos.alerts.probes",
    "gameday.chaos.slo.probes",
    "gameday.chaos.promql.probes",
)
# The probe that keeps the baseline quiet (see experiment.baseline).
QUIET_PROBE = ("gameday.chaos.alerts.probes", "alerts_quiet")
# Alert probes whose `within_s` a plan's `deadlines: {ALERT: s}` sets.
ALERT_DEADLINE_FUNCS = ("alert_fires", "notification_delivered", "alert_routed")
# The probes that wait for the system to be restored (`within_s` from the fault).
RESTORATION_PROBES = frozenset(
    {
        ("gameday.chaos.slo.probes", "slo_restored"),
        ("gameday.chaos.promql.probes", "query_restored"),
    }
)
