"""Probes on SLOs: an objective holds over a window; after remediation it is restored in time."""
