"""Latency faults on the lab: slow the round trips to Redis or etcd through its latency proxy."""
