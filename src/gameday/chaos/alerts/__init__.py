"""Probes on alerts and their delivery: fires within N s, does not fire, reached receiver R."""
