"""gameday: chaos game days that prove runbooks work."""

__version__ = "0.1.0"
