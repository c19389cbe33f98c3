"""Expectations to verdicts: pure functions over the timeline and queried series."""
