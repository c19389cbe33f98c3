"""Seed systems on the lab: for one system's experiment set (a lab profile and the
experiments beside it), every alert the system's runbook names and how the lab
exercises it.

- `as written`: an experiment of the set expects it to fire (or be delivered) and
  the profile does not adapt its rule: the rule runs as the system wrote it (time
  compressed, labels mapped);
- `adapted`: an experiment of the set expects it and the profile replaces its
  expression (the profile's `why` says with what);
- `not exercised`: no experiment of the set expects it; the profile's
  `not_exercised` says why, else "no experiment".

The profile is read by the lab's one reader (`gameday.lab.profile.read_profile`);
`read_seed_set` keeps what the view needs of it (`SeedSet`), and `build_seed_coverage`
judges from that alone.

    from gameday.coverage.seeds import build_seeds_coverage
    view = build_seeds_coverage(Path("../shared/seeds"), Path("experiments/seeds"))
    view.systems[0].counts()  # {"as written": 2, "adapted": 1, "not exercised": 14}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gameday.errors import InvalidInputError
from gameday.experiment import Experiment, find_experiments
from gameday.lab.profile import read_profile
from gameday.runbook import load_rule_file, parse_runbook
from gameday.runbook.model import Rule, Runbook, normalise_name

__all__ = [
    "ADAPTED",
    "AS_WRITTEN",
    "NOT_EXERCISED",
    "PROFILE_NAME",
    "SEED_COVERAGE_SCHEMA",
    "STATUSES",
    "SeedAlert",
    "SeedCoverage",
    "SeedSet",
    "SeedsCoverage",
    "build_seed_coverage",
    "build_seeds_coverage",
    "find_seed_profiles",
    "find_seed_runbook",
    "read_seed_set",
    "runbooks_without_set",
]

SEED_COVERAGE_SCHEMA = "gameday.seed-coverage/1"
AS_WRITTEN = "as written"
ADAPTED = "adapted"
NOT_EXERCISED = "not exercised"
STATUSES = (AS_WRITTEN, ADAPTED, NOT_EXERCISED)
PROFILE_NAME = "profile.yaml"
NO_EXPERIMENT = "no experiment"
RUNBOOK_SUFFIXES = (".md", ".markdown")


@dataclass(frozen=True)
class SeedSet:
    """One seed system's set, as the view needs it.

    :param system: the system's name (the profile's `system`, else its folder's)
    :param profile: the lab profile's path, for messages
    :param rules: the rules the profile loads (its rule files)
    :param adapted: alert → why its expression is replaced (the profile's `adapted`)
    :param not_exercised: alert → why the lab cannot produce it
    :param experiments: the set's experiments
    """

    system: str
    profile: str
    rules: Sequence[Rule] = ()
    adapted: Mapping[str, str] = field(default_factory=dict)
    not_exercised: Mapping[str, str] = field(default_factory=dict)
    experiments: Sequence[Experiment] = ()


@dataclass(frozen=True)
class SeedAlert:
    """One alert of the runbook: `alert` is the rule's name, `runbook_name` the
    runbook's spelling where it differs ("Camera Offline"); `experiments` are the file
    names of the set's experiments that expect it."""

    alert: str
    status: str
    why: str = ""
    severity: str | None = None
    rule: bool = False  # a rule the profile loads defines it
    experiments: tuple[str, ...] = ()
    runbook_name: str | None = None


@dataclass(frozen=True)
class SeedCoverage:
    system: str
    runbook: str
    profile: str
    alerts: tuple[SeedAlert, ...]
    experiments: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        return {status: sum(1 for a in self.alerts if a.status == status) for status in STATUSES}

    def row(self, alert: str) -> SeedAlert | None:
        key = normalise_name(alert)
        return next((row for row in self.alerts if row.alert == key), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "runbook": self.runbook,
            "profile": self.profile,
            "counts": self.counts(),
            "alerts": [
                {**asdict(row), "experiments": list(row.experiments)} for row in self.alerts
            ],
            "experiments": list(self.experiments),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class SeedsCoverage:
    """Every seed system's view, and the runbooks of the seeds folder no set is for."""

    systems: tuple[SeedCoverage, ...]
    seeds: str
    runbooks_without_set: tuple[str, ...] = ()

    @property
    def not_exercised(self) -> int:
        return sum(view.counts()[NOT_EXERCISED] for view in self.systems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SEED_COVERAGE_SCHEMA,
            "seeds": self.seeds,
            "systems": [view.to_dict() for view in self.systems],
            "runbooks_without_set": list(self.runbooks_without_set),
        }


def find_seed_profiles(experiments_dir: Path) -> list[Path]:
    """Every `<system>/profile.yaml` right under `experiments_dir`, by system name."""
    if not experiments_dir.is_dir():
        raise InvalidInputError(
            "not a directory",
            source=str(experiments_dir),
            hint="--experiments takes the folder of seed sets, e.g. experiments/seeds",
        )
    found = sorted(experiments_dir.glob(f"*/{PROFILE_NAME}"))
    if not found:
        raise InvalidInputError(
            f"no seed set here (no <system>/{PROFILE_NAME})",
            source=str(experiments_dir),
            hint="each seed system's folder holds its lab profile, rules and experiments",
        )
    return found


def _runbooks(seeds_dir: Path) -> list[Path]:
    if not seeds_dir.is_dir():
        raise InvalidInputError(
            "not a directory",
            source=str(seeds_dir),
            hint="--seeds takes the folder holding the seed systems' runbooks",
        )
    return sorted(
        path
        for path in seeds_dir.iterdir()
        if path.is_file() and path.suffix.lower() in RUNBOOK_SUFFIXES
    )


def find_seed_runbook(seeds_dir: Path, system: str) -> Path:
    """The runbook in `seeds_dir` whose file name starts with the system's name."""
    wanted = system.lower()
    found = [path for path in _runbooks(seeds_dir) if path.name.lower().startswith(wanted)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise InvalidInputError(
            f"no runbook whose name starts with {system!r}",
            source=str(seeds_dir),
            hint=f"add {system}-runbook.md there, or name the profile's system after its runbook",
        )
    raise InvalidInputError(
        f"{len(found)} runbooks start with {system!r}: {', '.join(p.name for p in found)}",
        source=str(seeds_dir),
        hint="keep one runbook per seed system in the folder",
    )


def runbooks_without_set(seeds_dir: Path, systems: Iterable[str]) -> list[str]:
    """The runbooks in `seeds_dir` that no seed set's system name starts."""
    names = [system.lower() for system in systems]
    return [
        path.name
        for path in _runbooks(seeds_dir)
        if not any(path.name.lower().startswith(name) for name in names)
    ]


def _alert_names(runbook: Runbook) -> list[str]:
    names = [alert.key for alert in runbook.alerts]
    names += [normalise_name(rule.name) for rule in runbook.rules]
    return list(dict.fromkeys(names))


def build_seed_coverage(runbook: Runbook, seed: SeedSet) -> SeedCoverage:
    """Every alert the runbook names (and every rule embedded in it), with its status.

    Parse the runbook with the set's rules (`parse_runbook(path, rules=seed.rules)`) so
    that an alert the runbook writes "Camera Offline" takes the rule's name. An alert
    the profile both adapts and lists as not exercised, or lists as not exercised
    while an experiment of the set expects it, is an InvalidInputError (exit 2).
    """
    names = _alert_names(runbook)
    warnings: list[str] = []

    def resolve(name: str, what: str) -> str | None:
        key = normalise_name(name)
        if key in names:
            return key
        alert = runbook.alert(key)
        if alert is not None:
            return alert.key
        warnings.append(f"{what} {key!r}, which the runbook does not name")
        return None

    adapted: dict[str, str] = {}
    for name, why in seed.adapted.items():
        if (key := resolve(name, "the profile adapts")) is not None:
            adapted[key] = why
    not_exercised: dict[str, str] = {}
    for name, why in seed.not_exercised.items():
        if (key := resolve(name, "the profile lists as not exercised")) is not None:
            not_exercised[key] = why
    both = sorted(set(adapted) & set(not_exercised))
    if both:
        raise InvalidInputError(
            f"alert {both[0]!r} is both adapted and not exercised",
            source=seed.profile,
            where=f"adapted.{both[0]}",
            hint="an alert the lab answers another way is adapted; remove it from not_exercised",
        )
    expected: dict[str, list[str]] = {}
    for experiment in seed.experiments:
        for expectation in experiment.expectations():
            if expectation.kind == "does_not_fire":
                continue  # never shows the alert works
            file = experiment.path.name
            key = resolve(expectation.alert, f"experiment {file!r} expects")
            if key is not None and file not in expected.setdefault(key, []):
                expected[key].append(file)
    contradicted = sorted(set(expected) & set(not_exercised))
    if contradicted:
        name = contradicted[0]
        raise InvalidInputError(
            f"alert {name!r} is listed as not exercised, but {expected[name][0]!r} expects it",
            source=seed.profile,
            where=f"not_exercised.{name}",
            hint="remove it from not_exercised (adapt it if its rule needs another expression)",
        )
    defined = {normalise_name(rule.name) for rule in seed.rules}
    rows: list[SeedAlert] = []
    for name in names:
        alert = runbook.alert(name)
        rule = next((r for r in seed.rules if normalise_name(r.name) == name), None)
        severity = (alert.severity if alert is not None else None) or (
            rule.severity if rule is not None else None
        )
        experiments = tuple(expected.get(name, ()))
        if experiments and name not in defined:
            status, why = NOT_EXERCISED, "no rule the profile loads defines it"
            warnings.append(f"{name!r} is expected by an experiment but no rule defines it")
        elif experiments:
            status = ADAPTED if name in adapted else AS_WRITTEN
            why = adapted.get(name, "")
        elif name in not_exercised:
            status, why = NOT_EXERCISED, not_exercised[name]
        elif name in adapted:
            status = NOT_EXERCISED
            why = f"{NO_EXPERIMENT} of the set expects it (the profile adapts it: {adapted[name]})"
        else:
            status, why = NOT_EXERCISED, NO_EXPERIMENT
        rows.append(
            SeedAlert(
                alert=name,
                status=status,
                why=why,
                severity=severity,
                rule=name in defined,
                experiments=experiments,
                runbook_name=alert.aliases[0] if alert is not None and alert.aliases else None,
            )
        )
    return SeedCoverage(
        system=seed.system,
        runbook=runbook.source,
        profile=seed.profile,
        alerts=tuple(rows),
        experiments=tuple(str(experiment.path) for experiment in seed.experiments),
        warnings=tuple(dict.fromkeys(warnings)),
    )


def read_seed_set(profile_path: Path) -> SeedSet:
    """The set around a lab profile: its rules, its reasons, the experiments beside it."""
    profile = read_profile(profile_path)
    return SeedSet(
        system=profile.system or profile_path.parent.name,
        profile=str(profile_path),
        rules=[rule for path in profile.rule_files for rule in load_rule_file(path)],
        adapted={name: adaptation.why for name, adaptation in profile.adapted.items()},
        not_exercised=dict(profile.not_exercised),
        experiments=find_experiments(profile_path.parent),
    )


def build_seeds_coverage(seeds_dir: Path, experiments_dir: Path) -> SeedsCoverage:
    """Every seed set under `experiments_dir` held against its runbook in `seeds_dir`."""
    systems: list[SeedCoverage] = []
    for profile_path in find_seed_profiles(experiments_dir):
        seed = read_seed_set(profile_path)
        # the set's rules are looked for in the runbook: "Camera Offline" takes its rule's name
        runbook = parse_runbook(find_seed_runbook(seeds_dir, seed.system), rules=seed.rules)
        systems.append(build_seed_coverage(runbook, seed))
    return SeedsCoverage(
        systems=tuple(systems),
        seeds=str(seeds_dir),
        runbooks_without_set=tuple(
            runbooks_without_set(seeds_dir, [system.system for system in systems])
        ),
    )
