"""The load control: Locust holds load from before the steady state until after the rollbacks."""
