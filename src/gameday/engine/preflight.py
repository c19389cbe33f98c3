"""Checks of an experiment against its target, before anything is injected (exit 2).

On a system that is not the lab: every action must stay inside the target's
`allow` patterns, gameday's lab faults are refused, server-side SLO probes need
their queries, and every alert the experiment expects at a receiver must be able to
reach it through the Alertmanager's routing tree (its configuration file, or the one
it runs, from `/api/v2/status`), with the labels its rule gives it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from chaoslib import substitute

from gameday.errors import GamedayError, InvalidInputError
from gameday.experiment import Activity, Experiment
from gameday.lab.extras.registry import choose_extras, extra_names
from gameday.runbook.rules import load_rule_file
from gameday.targets import Target
from gameday.targets.kubernetes import K8S_PREFIX, in_namespace
from gameday.targets.routing import AlertmanagerConfig, RouteMatch, load_config, parse_config
from gameday.verify.slo import latency_key

ROUTED_FUNCS = ("alert_routed", "notification_delivered")
SLO_FUNCS = ("slo_holds", "slo_restored")


@dataclass(frozen=True)
class RouteCheck:
    """Where an expected alert goes, per the routing tree, with the labels it will carry."""

    activity: str
    alert: str
    receiver: str
    labels: dict[str, str]
    reached: tuple[RouteMatch, ...]
    labels_known: bool = True  # False: no rule of this name was found

    @property
    def reachable(self) -> bool:
        return any(match.receiver == self.receiver for match in self.reached)

    def describe(self) -> str:
        shown = ", ".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()))
        routes = ", ".join(f"{m.receiver} (at {m.where})" for m in self.reached) or "nothing"
        return f"{{{shown}}} → {routes}"


def as_run(
    activity: Activity, configuration: Mapping[str, Any], secrets: Mapping[str, Any]
) -> Activity:
    """The activity with `${…}` replaced from the configuration and secrets, as chaoslib
    will run it: what it touches is judged on the values it will really use."""
    provider = substitute(copy.deepcopy(activity.provider), dict(configuration), dict(secrets))
    arguments = provider.get("arguments") if isinstance(provider, dict) else None
    return replace(
        activity,
        provider=provider if isinstance(provider, dict) else activity.provider,
        arguments=arguments if isinstance(arguments, dict) else activity.arguments,
    )


def check_against_target(
    experiment: Experiment,
    target: Target,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> None:
    """Refuse (InvalidInputError, exit 2) what the target must not receive or cannot do."""
    source = str(experiment.path)
    for phase, written in experiment.touching_actions():
        action = as_run(written, configuration or {}, secrets or {})
        touches = action.touches
        if target.kubernetes is not None:
            touches = in_namespace(touches, target.kubernetes.namespace)
        _refuse_wrong_kind(action, touches, target.kind, target.name, source, phase)
        if not target.is_lab and not target.allows(touches):
            raise InvalidInputError(
                f"action {action.name!r} touches {touches!r}, outside the blast radius of "
                f"target {target.name!r} (allow: {list(target.allow)})",
                source=source,
                where=phase,
                hint=f"if it is meant to, add a pattern to allow: in {target.source}, "
                f"e.g. {touches!r}",
            )
    _refuse_cluster_workers(experiment, target.kind, target.name)
    if target.is_lab:
        return
    for activity in experiment.steady_state + experiment.method + experiment.rollbacks:
        _check_slo_queries(activity, target, source)


# The target kind a fault needs: what to say, and the hint.
_NEEDS = {
    "lab": (
        "is a fault of gameday's lab",
        "on your own system inject faults with type: process or type: http actions, or "
        "another Chaos Toolkit extension",
    ),
    "containers": (
        "needs a containers target",
        "name the containers in a target file with kind: containers",
    ),
    "kubernetes": (
        "needs a kubernetes target",
        "name the cluster in a target file with kind: kubernetes (gameday run --target FILE)",
    ),
}


def check_fault_kinds(
    experiment: Experiment,
    kind: str,
    name: str,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> None:
    """Refuse faults made for another kind of target (the lab's on a cluster, a
    cluster's on the lab), before the target itself is reached."""
    for phase, written in experiment.touching_actions():
        action = as_run(written, configuration or {}, secrets or {})
        _refuse_wrong_kind(action, action.touches, kind, name, str(experiment.path), phase)
    _refuse_cluster_workers(experiment, kind, name)
    _check_lab_parts(experiment, kind, name)


LAB_PARTS_CONTROL = "gameday.chaos.lab.parts"


def _check_lab_parts(experiment: Experiment, kind: str, name: str) -> None:
    """The lab-parts control names known opt-in parts, and only on the lab."""
    for index, control in enumerate(experiment.document.get("controls") or []):
        provider = control.get("provider") if isinstance(control, dict) else None
        if not isinstance(provider, dict) or provider.get("module") != LAB_PARTS_CONTROL:
            continue
        where = f"controls[{index}].provider"
        if kind != "lab":
            raise InvalidInputError(
                f"the lab-parts control starts the lab's opt-in parts; target {name!r} is {kind}",
                source=str(experiment.path),
                where=where,
                hint="remove the control: your system runs its own parts",
            )
        arguments = provider.get("arguments") or {}
        parts = arguments.get("parts") if isinstance(arguments, dict) else None
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            raise InvalidInputError(
                "the lab-parts control needs parts: a list of part names",
                source=str(experiment.path),
                where=f"{where}.arguments.parts",
                hint=f"for example parts: [postgres]; the parts: {', '.join(extra_names())}",
            )
        try:
            choose_extras(parts)
        except InvalidInputError as exc:
            raise InvalidInputError(
                str(exc),
                source=str(experiment.path),
                where=f"{where}.arguments.parts",
                hint=exc.hint,
            ) from None


def _refuse_cluster_workers(experiment: Experiment, kind: str, name: str) -> None:
    """Load workers as pods (`workers_in: cluster`) need a cluster to run in."""
    if kind == "kubernetes":
        return
    for index, control in enumerate(experiment.document.get("controls") or []):
        provider = control.get("provider") if isinstance(control, dict) else None
        arguments = provider.get("arguments") if isinstance(provider, dict) else None
        if isinstance(arguments, dict) and arguments.get("workers_in") == "cluster":
            raise InvalidInputError(
                f"the load's workers_in: cluster starts Locust workers as pods; target "
                f"{name!r} is {kind}",
                source=str(experiment.path),
                where=f"controls[{index}].provider.arguments.workers_in",
                hint="run it against a kind: kubernetes target, or use workers_in: local",
            )


def _refuse_wrong_kind(
    action: Activity, touches: str, kind: str, name: str, source: str, phase: str
) -> None:
    needs = _kind_needed(touches)
    if needs is not None and needs != kind:
        raise InvalidInputError(
            f"action {action.name!r} ({touches}) {_NEEDS[needs][0]}; target {name!r} is {kind}",
            source=source,
            where=phase,
            hint=_NEEDS[needs][1],
        )


def _kind_needed(touches: str) -> str | None:
    if touches.startswith("lab:"):
        return "lab"
    if touches.startswith("container:"):
        return "containers"
    if touches.startswith(K8S_PREFIX):
        return "kubernetes"
    return None


def _check_slo_queries(activity: Activity, target: Target, source: str) -> None:
    if activity.module != "gameday.chaos.slo.probes" or activity.func not in SLO_FUNCS:
        return
    arguments = activity.arguments
    if str(arguments.get("source", "server")) == "client" or arguments.get("queries"):
        return
    needed = []
    if arguments.get("error_ratio_max") is not None:
        needed.append("error_ratio")
    if arguments.get("latency_max_s") is not None:
        needed.append(latency_key(float(arguments.get("latency_quantile", 0.95))))
    if arguments.get("throughput_min_rps") is not None:
        needed.append("requests_per_s")
    missing = [key for key in needed if key not in target.slo_queries]
    if missing:
        raise InvalidInputError(
            f"probe {activity.name!r} needs the SLO quer{'ies' if len(missing) > 1 else 'y'} "
            f"{', '.join(missing)}, which target {target.name!r} does not define",
            source=source,
            where=activity.name,
            hint=f"add them under slo: in {target.source}, or give the probe queries: {{…}}",
        )


def alertmanager_config(target: Target) -> AlertmanagerConfig | None:
    """The routing tree the target's Alertmanager runs: its configuration file when the
    target names one, else the configuration it reports. None: no Alertmanager."""
    if target.alertmanager_config is not None:
        return load_config(target.alertmanager_config)
    manager = target.alertmanager()
    if manager is None:
        return None
    return parse_config(manager.config_text(), source=f"{manager.url}/api/v2/status")


def rule_labels(target: Target) -> dict[str, list[tuple[dict[str, str], bool]]]:
    """Each alert's static labels (alertname included), per rule defining it, and whether
    they are all known: a templated label value (`{{ … }}`) is only known when it fires.
    From the target's rule files, else from the rules its Prometheus evaluates."""
    found: dict[str, list[tuple[dict[str, str], bool]]] = {}
    if target.rule_files:
        pairs = [(r.name, r.labels) for path in target.rule_files for r in load_rule_file(path)]
    else:
        pairs = target.prometheus().alerting_rules()
    for name, labels in pairs:
        static = {k: v for k, v in labels.items() if "{{" not in v}
        found.setdefault(name, []).append(({**static, "alertname": name}, static == labels))
    return found


def route_checks(
    experiment: Experiment, target: Target, config: AlertmanagerConfig
) -> list[RouteCheck]:
    """Where each alert the experiment expects at a receiver is routed. With several rules
    of the same name, one check per rule (each must reach the receiver)."""
    labels_of = rule_labels(target)
    checks: list[RouteCheck] = []
    for activity in experiment.steady_state + experiment.method + experiment.rollbacks:
        if activity.func not in ROUTED_FUNCS or not activity.is_gameday:
            continue
        alert, receiver = activity.arguments.get("alert"), activity.arguments.get("receiver")
        if not isinstance(alert, str) or not isinstance(receiver, str):
            continue
        extra = activity.arguments.get("labels")
        given = {str(k): str(v) for k, v in extra.items()} if isinstance(extra, dict) else {}
        variants = labels_of.get(alert) or [({"alertname": alert}, False)]
        for variant, complete in variants:
            labels = {**variant, **given}
            checks.append(
                RouteCheck(
                    activity=activity.name,
                    alert=alert,
                    receiver=receiver,
                    labels=labels,
                    reached=tuple(config.routes_for(labels)),
                    labels_known=complete or bool(given),
                )
            )
    return checks


def check_routes(experiment: Experiment, target: Target) -> list[RouteCheck]:
    """Refuse (exit 2) an expectation whose receiver its alert's labels cannot reach;
    the checks made. No check on the lab, or on a target without an Alertmanager."""
    if target.is_lab:
        return []
    try:
        config = alertmanager_config(target)
    except InvalidInputError:
        raise
    except GamedayError as exc:
        raise GamedayError(
            f"could not read the Alertmanager configuration for the pre-flight routing "
            f"check: {exc.message}",
            hint="name it in the target file: alertmanager: {config_file: alertmanager.yml}",
        ) from exc
    if config is None:
        return []
    checks = route_checks(experiment, target, config)
    for check in checks:
        if check.receiver not in config.receivers:
            raise InvalidInputError(
                f"probe {check.activity!r} expects {check.alert} at receiver "
                f"{check.receiver!r}, which the Alertmanager does not have "
                f"(it has: {', '.join(sorted(config.receivers))})",
                source=str(experiment.path),
                where=check.activity,
                hint="fix the receiver's name in the probe",
            )
        if not check.reachable and check.labels_known:
            raise InvalidInputError(
                f"probe {check.activity!r} expects {check.alert} at {check.receiver!r}, but "
                f"Alertmanager routes {check.describe()}; nothing was injected",
                source=str(experiment.path),
                where=check.activity,
                hint="fix the expected receiver, the alert's labels (its rule, or the "
                "probe's labels:) or the Alertmanager route",
            )
    return checks
