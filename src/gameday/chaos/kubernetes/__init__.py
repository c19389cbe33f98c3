"""Faults and probes for kubernetes targets, through chaostoolkit-kubernetes."""
