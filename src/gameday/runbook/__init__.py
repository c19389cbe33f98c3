"""Runbooks as input: Markdown runbooks (a file or a folder of pages) and Prometheus rule
files → a typed model.

from gameday.runbook import parse_runbook, load_rule_file
rules = load_rule_file("rules.yml")
runbook = parse_runbook("runbooks/", rules=rules)
runbook.alerts, runbook.slos, runbook.procedures, runbook.rules
"""

from gameday.runbook.model import (
    RUNBOOK_SCHEMA,
    Alert,
    Command,
    Contact,
    Dashboard,
    EscalationLevel,
    Procedure,
    RollbackTrigger,
    Rule,
    Runbook,
    Service,
    SeverityLevel,
    SloTarget,
    Step,
    normalise_name,
)
from gameday.runbook.parser import parse_runbook, parse_runbook_text
from gameday.runbook.rules import load_rule_file
from gameday.runbook.severity import normalise_severity

__all__ = [
    "RUNBOOK_SCHEMA",
    "Alert",
    "Command",
    "Contact",
    "Dashboard",
    "EscalationLevel",
    "Procedure",
    "RollbackTrigger",
    "Rule",
    "Runbook",
    "Service",
    "SeverityLevel",
    "SloTarget",
    "Step",
    "load_rule_file",
    "normalise_name",
    "normalise_severity",
    "parse_runbook",
    "parse_runbook_text",
]
