"""The systems under test: the lab, or a team's own system named by a target file: its
Prometheus and Alertmanager (with credentials), load host, SLO queries, fault ledger and
the blast radius faults must stay in."""

from gameday.targets.file import TargetSpec, read_target_file, target_from_mapping, target_spec
from gameday.targets.target import (
    LAB_DIR_KEY,
    TARGET_FILE_KEY,
    Target,
    fault_ledger,
    lab_dir_of,
    lab_target,
    resolve_target,
)

__all__ = [
    "LAB_DIR_KEY",
    "TARGET_FILE_KEY",
    "Target",
    "TargetSpec",
    "fault_ledger",
    "lab_dir_of",
    "lab_target",
    "read_target_file",
    "resolve_target",
    "target_from_mapping",
    "target_spec",
]
