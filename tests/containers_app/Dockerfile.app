# gameday-test/app: the tiny HTTP service of app.py on Debian's python3, aiohttp and redis;
# python3-prometheus-client when Debian has it (app.py writes /metrics by hand otherwise).
FROM gameday-test/debian:bookworm
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-aiohttp python3-redis \
 && { apt-get install -y --no-install-recommends python3-prometheus-client \
      || echo "no python3-prometheus-client: app.py writes /metrics by hand"; } \
 && rm -rf /var/lib/apt/lists/*
COPY app.py /opt/gameday-app/app.py
ENV PORT=8080 REDIS_HOST=redis REDIS_PORT=6379 PYTHONUNBUFFERED=1
EXPOSE 8080
CMD ["python3", "/opt/gameday-app/app.py"]
