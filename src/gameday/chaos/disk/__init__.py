"""Faults on the lab's disk part: fill its filesystem, and free it again."""
