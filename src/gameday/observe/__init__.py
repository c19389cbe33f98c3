"""Observation: Prometheus and Alertmanager clients, and the notification sink."""
