"""The embedded lab: a small but real production-like system on 127.0.0.1."""
