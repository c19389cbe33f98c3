"""Load: Locust as a subprocess (never imported here: it monkey-patches the process with
gevent), its client-side metrics exported to Prometheus, its final figures."""
