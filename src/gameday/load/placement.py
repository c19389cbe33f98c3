"""Where a Locust master's workers run (`workers_in`): processes on this machine (`local`,
the default) or pods in a kind: kubernetes target's cluster (`cluster`, with the address the
pods reach the master at, `master_host`, and their image, `worker_image`). Checked before
anything runs (InvalidInputError, exit 2)."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass

from gameday.errors import InvalidInputError

ARGUMENTS = "controls.load.provider.arguments"
WORKERS_IN: tuple[str, ...] = ("local", "cluster")
LOCUST_IMAGE = "locustio/locust"


def default_image() -> str:
    """Locust's own image at the version installed here: master and workers speak alike."""
    return f"{LOCUST_IMAGE}:{importlib.metadata.version('locust')}"


@dataclass(frozen=True)
class InCluster:
    """`workers_in: cluster`.

    :param master_host: the address the pods reach this machine at (the master binds it)
    :param image: the workers' image
    """

    master_host: str
    image: str


def parse_placement(
    *,
    workers: int,
    workers_in: object = "local",
    master_host: object = None,
    worker_image: object = None,
    where: str = ARGUMENTS,
) -> InCluster | None:
    """`workers_in`, `master_host` and `worker_image` as given, with `workers` (already
    checked); None for `local`. `cluster` needs workers and a `master_host`; those two
    apply to it only."""
    if workers_in not in WORKERS_IN:
        raise InvalidInputError(
            f"workers_in must be 'local' or 'cluster', not {workers_in!r}",
            where=f"{where}.workers_in",
            hint="local: worker processes on this machine; cluster: worker pods in the "
            "namespace of a kind: kubernetes target",
        )
    if workers_in == "local":
        for key, value in (("master_host", master_host), ("worker_image", worker_image)):
            if value is not None:
                raise InvalidInputError(
                    f"{key} applies to workers_in: cluster only",
                    where=f"{where}.{key}",
                    hint="add workers_in: cluster to run the workers as pods, or remove it",
                )
        return None
    if workers < 1:
        raise InvalidInputError(
            "workers_in: cluster needs workers: 1 or more, not 0",
            where=f"{where}.workers",
            hint="workers: N starts N worker pods for a Locust master on this machine",
        )
    if master_host is None:
        raise InvalidInputError(
            "workers_in: cluster needs master_host: the address the worker pods reach this "
            "machine at (the Locust master binds it)",
            where=f"{where}.master_host",
            hint="this machine's IP on the cluster's network; in a pod, its IP from the "
            "downward API (status.podIP), e.g. master_host: ${pod_ip}",
        )
    return InCluster(
        master_host=_word(master_host, "master_host", where, "an IP address or a host name"),
        image=default_image()
        if worker_image is None
        else _word(worker_image, "worker_image", where, "an image reference"),
    )


def _word(value: object, key: str, where: str, what: str) -> str:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise InvalidInputError(f"{key} must be {what}, not {value!r}", where=f"{where}.{key}")
    return value
