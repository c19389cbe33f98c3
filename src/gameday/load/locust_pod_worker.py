"""A locustfile for Locust workers that run as pods (`workers_in: cluster`).

gameday puts it in the workers' ConfigMap next to the user's locustfile
(`locust -f /mnt/locust/theirs.py,/mnt/locust/locust_pod_worker.py --worker …`). It makes
each worker report to its master every second, as `locust_exporter.py` does for workers on
this machine (Locust's default is 3 s, coarser than the 1 s scrape the SLO windows assume).

The exporter itself stays with the master: it needs prometheus_client, which Locust's image
lacks, and a worker serves no metrics anyway. So does the watchdog: no gameday process runs
in the pod; the pods are removed with the run, or by the fault ledger after a crash. It runs
inside Locust only; the orchestrator never imports it.
"""

from __future__ import annotations

import locust.runners

WORKER_REPORT_INTERVAL_S = 1.0

# Read by each worker's report loop on every turn.
locust.runners.WORKER_REPORT_INTERVAL = WORKER_REPORT_INTERVAL_S
