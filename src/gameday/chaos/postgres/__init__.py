"""Faults on the lab's PostgreSQL part: hold every client connection slot, and let go.

PostgreSQL down needs no fault of its own: `gameday.chaos.lab.actions.stop_service`
with ``service: postgres`` stops the server, `start_service` starts it again.
"""
