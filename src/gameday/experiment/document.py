"""One Chaos Toolkit experiment as gameday reads it: the document (a plan's overrides
applied) and typed views of its activities.

gameday's alert expectations are probes whose provider module starts with
`gameday.chaos` and whose arguments name an `alert`: func `alert_fires`
(positive), any func containing `not` (negative, e.g. `alert_does_not_fire`),
`notification_delivered` (positive, with a `receiver`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from gameday.documents import read_yaml
from gameday.errors import InvalidInputError
from gameday.experiment.extension import EXPECTATION_MODULES
from gameday.experiment.guardrails import StopCondition, parse_stop_conditions
from gameday.experiment.overrides import apply_overrides
from gameday.targets.kubernetes import activity_touches

__all__ = [
    "Activity",
    "AlertExpectation",
    "Experiment",
    "is_negative_func",
    "read_experiment",
]

DEFAULT_QUIET_WAIT_S = 120.0
MAX_WAIT_S = 24 * 3600.0
EXPERIMENT_HINT = (
    "an experiment is Chaos Toolkit YAML with 'title' and a 'method:' list of "
    "activities; a plan has an 'experiments:' list of paths"
)


@dataclass(frozen=True)
class Activity:
    """One Chaos Toolkit activity (action or probe)."""

    type: str
    name: str
    provider_type: str = "python"
    module: str = ""
    func: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    pause_before: float = 0.0
    pause_after: float = 0.0
    provider: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_gameday(self) -> bool:
        return self.module.startswith("gameday.chaos")

    @property
    def alert(self) -> str | None:
        value = self.arguments.get("alert")
        return str(value) if value is not None and self.is_gameday else None

    @property
    def records_expectations(self) -> bool:
        """A probe of gameday's that records its own verdicts."""
        return self.type == "probe" and self.module in EXPECTATION_MODULES

    @property
    def deadline_s(self) -> float | None:
        """The deadline a gameday probe is given (`within_s`, counted from the fault)."""
        value = self.arguments.get("within_s")
        if not self.is_gameday or isinstance(value, bool):
            return None
        return float(value) if isinstance(value, int | float) else None

    @property
    def touches(self) -> str:
        """What this action touches, as `allow` patterns in a target file match it:
        `process:PATH ARGS…`, `http:METHOD URL`, `python:MODULE.FUNC`, `container:NAME`
        (gameday's container faults), `k8s:NAMESPACE/KIND/WHAT` or `k8s:node/NAME`
        (gameday's and chaostoolkit-kubernetes' activities; an empty namespace is the
        target's), or `lab:DOMAIN.FUNC` for gameday's lab faults."""
        if self.provider_type == "process":
            arguments = self.provider.get("arguments")
            if isinstance(arguments, list):
                shown = " ".join(str(item) for item in arguments)
            elif isinstance(arguments, dict):
                shown = " ".join(f"{key}={value}" for key, value in arguments.items())
            else:
                shown = str(arguments or "")
            return f"process:{self.provider.get('path', '')} {shown}".rstrip()
        if self.provider_type == "http":
            method = str(self.provider.get("method") or "GET").upper()
            return f"http:{method} {self.provider.get('url', '')}"
        if self.module.startswith("gameday.chaos.containers"):
            return f"container:{self.arguments.get('name', '')}"
        if self.module.startswith(("gameday.chaos.kubernetes", "chaosk8s.")):
            return activity_touches(self.module, self.func, self.arguments)
        if self.is_gameday:
            domain = self.module.removeprefix("gameday.chaos.").split(".")[0]
            return f"lab:{domain}.{self.func}"
        return f"python:{self.module}.{self.func}"

    def describe(self) -> str:
        """ "stop_service(service=redis)" or the provider's target for non-Python providers."""
        if self.func:
            args = ", ".join(f"{key}={value}" for key, value in self.arguments.items())
            return f"{self.func}({args})"
        return self.provider_type


@dataclass(frozen=True)
class AlertExpectation:
    """An experiment's expectation about an alert."""

    alert: str
    kind: str  # "fires", "does_not_fire", "delivered" or "routed"
    activity: str
    phase: str  # "steady-state", "method" or "rollbacks"
    receiver: str | None = None

    @property
    def positive(self) -> bool:
        return self.kind != "does_not_fire"

    def describe(self) -> str:
        if self.kind in ("delivered", "routed"):
            return f"{self.kind} to {self.receiver}" if self.receiver else self.kind
        return "must not fire" if self.kind == "does_not_fire" else "fires"


def is_negative_func(func: str) -> bool:
    """`alert_does_not_fire`, `alert_not_firing`, `alertNotFiring`: the func says "not"
    (as a word, so `notification_delivered` stays positive)."""
    words = re.split(r"[_\W]+|(?<=[a-z])(?=[A-Z])", func)
    return any(word.lower() == "not" for word in words)


@dataclass(frozen=True)
class Experiment:
    """An experiment: its file, its document (overrides applied) and the overrides."""

    path: Path
    document: dict[str, Any]
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return str(self.document.get("title") or self.path.stem)

    @property
    def description(self) -> str:
        return str(self.document.get("description") or "")

    @property
    def tags(self) -> tuple[str, ...]:
        tags = self.document.get("tags")
        return tuple(str(tag) for tag in tags) if isinstance(tags, list) else ()

    @cached_property
    def steady_state(self) -> tuple[Activity, ...]:
        steady = self.document.get("steady-state-hypothesis")
        probes = steady.get("probes") if isinstance(steady, dict) else None
        return _activities(probes, str(self.path), "steady-state-hypothesis.probes")

    @cached_property
    def method(self) -> tuple[Activity, ...]:
        return _activities(self.document.get("method"), str(self.path), "method")

    @cached_property
    def rollbacks(self) -> tuple[Activity, ...]:
        return _activities(self.document.get("rollbacks"), str(self.path), "rollbacks")

    def gameday_extension(self) -> dict[str, Any]:
        extensions = self.document.get("extensions")
        for extension in extensions if isinstance(extensions, list) else []:
            if isinstance(extension, dict) and extension.get("name") == "gameday":
                return extension
        return {}

    def runbook_path(self) -> Path | None:
        """The runbook the gameday extension names (`runbook:`), looked up relative to
        the experiment's directory, the one above it, then the working directory."""
        named = self.gameday_extension().get("runbook")
        if not isinstance(named, str) or not named:
            return None
        candidate = Path(named)
        if candidate.is_absolute():
            return candidate.resolve() if candidate.is_file() else None
        for place in (self.path.parent, self.path.parent.parent, Path.cwd()):
            if (place / candidate).is_file():
                return (place / candidate).resolve()
        return None

    @property
    def stop_conditions(self) -> tuple[StopCondition, ...]:
        """The guardrails of the experiment's gameday extension (a plan's included)."""
        return parse_stop_conditions(
            self.gameday_extension().get("stop_conditions"),
            source=str(self.path),
            where="extensions[gameday].stop_conditions",
        )

    @property
    def quiet_baseline(self) -> bool:
        """Whether the steady state requires the experiment's alerts to be inactive
        before the fault (default: yes)."""
        return self.gameday_extension().get("quiet_baseline", True) is not False

    @property
    def quiet_wait_s(self) -> float:
        """How long the quiet baseline waits for earlier alerts to resolve."""
        return float(self.gameday_extension().get("quiet_wait_s", DEFAULT_QUIET_WAIT_S))

    def alert_names(self) -> list[str]:
        """Every alert the experiment's expectations name, in order."""
        return list(dict.fromkeys(expectation.alert for expectation in self.expectations()))

    def remediation_names(self) -> list[str]:
        names = self.gameday_extension().get("remediation") or []
        return [str(name) for name in names] if isinstance(names, list) else []

    def expectations(self) -> list[AlertExpectation]:
        found: list[AlertExpectation] = []
        for phase, activities in (
            ("steady-state", self.steady_state),
            ("method", self.method),
            ("rollbacks", self.rollbacks),
        ):
            for activity in activities:
                alert = activity.alert
                if alert is None:
                    continue
                if activity.func == "notification_delivered":
                    kind = "delivered"
                elif activity.func == "alert_routed":
                    kind = "routed"
                elif is_negative_func(activity.func):
                    kind = "does_not_fire"
                else:
                    kind = "fires"
                receiver = activity.arguments.get("receiver")
                found.append(
                    AlertExpectation(
                        alert=alert,
                        kind=kind,
                        activity=activity.name,
                        phase=phase,
                        receiver=str(receiver) if receiver is not None else None,
                    )
                )
        return found

    def faults(self) -> list[Activity]:
        return [activity for activity in self.method if activity.type == "action"]

    def injected_faults(self) -> list[Activity]:
        """The method's actions that inject a fault (not a remediation)."""
        remediation = set(self.remediation_names())
        return [a for a in self.faults() if a.name not in remediation]

    def plain_faults(self) -> list[Activity]:
        """Faults that are not gameday's own (`type: process`, `type: http`, other
        extensions): gameday records when they were applied and reverted, as it does for
        its own, from chaoslib's run events."""
        return [a for a in self.injected_faults() if not a.is_gameday]

    def touching_actions(self) -> list[tuple[str, Activity]]:
        """Every action that changes the system, with its phase: a target's `allow`
        must cover each of them."""
        return [("method", a) for a in self.faults()] + [
            ("rollbacks", a) for a in self.rollbacks if a.type == "action"
        ]


def as_mapping(value: object) -> dict[str, Any]:
    """A mapping from a document as written (keys as text), or an empty one when the
    document has something else there: its shape is refused elsewhere, with its place."""
    return {str(key): item for key, item in value.items()} if isinstance(value, dict) else {}


def _seconds(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def _activities(raw: object, source: str, where: str) -> tuple[Activity, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidInputError(
            f"'{where}' is not a list", source=source, where=where, hint=EXPERIMENT_HINT
        )
    named: dict[str, Activity] = {}
    out: list[Activity] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidInputError(
                "an activity is not a mapping",
                source=source,
                where=f"{where}[{index}]",
                hint=EXPERIMENT_HINT,
            )
        if "ref" in item and str(item["ref"]) in named:
            out.append(named[str(item["ref"])])
            continue
        provider = as_mapping(item.get("provider"))
        arguments = as_mapping(provider.get("arguments"))
        pauses = as_mapping(item.get("pauses"))
        activity = Activity(
            type=str(item.get("type") or "action"),
            name=str(item.get("name") or f"{where}[{index}]"),
            provider_type=str(provider.get("type") or ""),
            module=str(provider.get("module") or ""),
            func=str(provider.get("func") or ""),
            arguments=arguments,
            pause_before=_seconds(pauses.get("before")),
            pause_after=_seconds(pauses.get("after")),
            provider=provider,
        )
        named[activity.name] = activity
        out.append(activity)
    return tuple(out)


def read_experiment(
    path: str | Path, overrides: dict[str, Any] | None = None, *, document: Any = None
) -> Experiment:
    """Read an experiment (or take its already parsed `document`), apply a plan's
    `overrides`, and check its structure: InvalidInputError (exit 2) with the file, the
    place and the fix. Nothing here imports the activities' modules (see checks)."""
    path = Path(path).resolve()
    source = str(path)
    data = read_yaml(path) if document is None else document
    if not isinstance(data, dict) or "method" not in data:
        raise InvalidInputError(
            "not a Chaos Toolkit experiment (no 'method')", source=source, hint=EXPERIMENT_HINT
        )
    if not isinstance(data["method"], list):
        raise InvalidInputError(
            "'method' is not a list", source=source, where="method", hint=EXPERIMENT_HINT
        )
    if overrides:
        try:
            data = apply_overrides(data, overrides)
        except InvalidInputError as exc:
            raise InvalidInputError(
                exc.message, source=source, where=exc.where, hint=exc.hint
            ) from None
    experiment = Experiment(path=path, document=data, overrides=dict(overrides or {}))
    # Parsed now, so an activity that is not a mapping is refused before anything runs.
    _ = (experiment.steady_state, experiment.method, experiment.rollbacks)
    _check_remediation(experiment)
    _check_extension(experiment)
    return experiment


def _check_extension(experiment: Experiment) -> None:
    extension = experiment.gameday_extension()
    where = "extensions[gameday]"
    quiet = extension.get("quiet_baseline", True)
    if not isinstance(quiet, bool):
        raise InvalidInputError(
            f"quiet_baseline must be true or false, not {quiet!r}",
            source=str(experiment.path),
            where=f"{where}.quiet_baseline",
        )
    wait = extension.get("quiet_wait_s", DEFAULT_QUIET_WAIT_S)
    if isinstance(wait, bool) or not isinstance(wait, int | float) or not 0 <= wait <= MAX_WAIT_S:
        raise InvalidInputError(
            f"quiet_wait_s must be a number of seconds from 0 to {MAX_WAIT_S:g}, not {wait!r}",
            source=str(experiment.path),
            where=f"{where}.quiet_wait_s",
        )
    _ = experiment.stop_conditions  # parsed now: a bad one is refused before anything runs


def _check_remediation(experiment: Experiment) -> None:
    names = {activity.name for activity in experiment.method}
    for index, name in enumerate(experiment.remediation_names()):
        if name not in names:
            raise InvalidInputError(
                f"remediation {name!r} is not an activity of the method",
                source=str(experiment.path),
                where=f"extensions[gameday].remediation[{index}]",
                hint="name the method's remediation action exactly as in its 'name'",
            )
