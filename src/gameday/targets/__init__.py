"""The systems under test: where a run's Prometheus, notification sink, faults and fault
ledger are. Today the lab (or any Prometheus and sink named in the configuration)."""

from gameday.targets.target import LAB_DIR_KEY, Target, fault_ledger, lab_dir_of, resolve_target

__all__ = ["LAB_DIR_KEY", "Target", "fault_ledger", "lab_dir_of", "resolve_target"]
