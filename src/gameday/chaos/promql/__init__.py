"""Probes on any PromQL query: it holds over a window; after remediation it is restored in time."""
