"""The lab's opt-in parts: started on demand, so the lab at rest costs what it did."""
