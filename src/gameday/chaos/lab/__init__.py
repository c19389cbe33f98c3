"""Faults for the gameday lab: kill, stop, pause and restore its parts' replicas."""
