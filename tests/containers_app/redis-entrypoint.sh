#!/bin/sh
# Entry point of gameday-test/redis: the exporter in the background, then redis-server as PID 1,
# so `docker stop` (SIGTERM to PID 1) ends the container, exporter included.
# Extra arguments go to redis-server.
set -e
prometheus-redis-exporter -redis.addr=redis://127.0.0.1:6379 -web.listen-address=:9121 &
exec redis-server --bind 0.0.0.0 --port 6379 --protected-mode no --save '' --appendonly no "$@"
