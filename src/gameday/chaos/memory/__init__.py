"""Memory faults for the gameday lab: grow the memory worker's working set towards its
limit, and relieve it."""
