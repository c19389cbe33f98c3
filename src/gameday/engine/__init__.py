"""Runs Chaos Toolkit experiments through chaoslib, records the timeline, guarantees rollback."""
