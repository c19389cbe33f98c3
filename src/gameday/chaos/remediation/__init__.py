"""Remediation left to people: announce what the runbook asks them to do."""
