"""Runbooks as input: Markdown runbooks and Prometheus rule files → a typed model.

from gameday.runbook import parse_runbook, load_rule_file
runbook = parse_runbook("runbook.md")
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
    "parse_runbook",
    "parse_runbook_text",
]
