"""Faults on a containers target's Docker containers: stop, kill, pause, restart, and a
partition from a network; each recorded in the target's fault ledger with its revert."""
