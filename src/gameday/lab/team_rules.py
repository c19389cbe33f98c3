"""A team's rule files as the lab runs them: checked, rewritten, kept in the lab directory.

The files given to `lab up --rules` (or a profile's `rules:`) are checked with
promtool as written. When the lab rewrites them (a time scale, mapped label
values, adapted expressions), each is copied to `<lab>/config/rules/` beside its
rewritten form `<name>.scaled-K.yml` (a header says what was changed), which
promtool checks again; Prometheus loads the rewritten ones. What the lab could
not honour as written (a group interval raised to the lab's) is kept as notes in
`<lab>/config/rules/rules.json`, which `gameday lab status` shows.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TypedDict

from gameday.documents import read_yaml
from gameday.errors import InvalidInputError
from gameday.lab import monitoring
from gameday.lab.config import LabConfig
from gameday.lab.time_scale import (
    LabClock,
    ScaleSettings,
    describe,
    dump_rules,
    parse_duration_field,
    scale_rules,
)

__all__ = ["RuleFileRow", "RulesRecord", "prepare_rules", "read_rules_record", "rules_dir"]

RECORD_NAME = "rules.json"


class RuleFileRow(TypedDict):
    source: str
    loaded: str


class RulesRecord(TypedDict):
    """What the lab's Prometheus loads besides (or instead of) the lab's own rules."""

    system: str | None
    time_scale: float
    replace_lab_rules: bool
    rewrite: str
    files: list[RuleFileRow]
    notes: list[str]


def rules_dir(config: LabConfig) -> Path:
    return config.directory / "config" / "rules"


def lab_clock() -> LabClock:
    return LabClock(
        scrape_s=monitoring.SCRAPE_INTERVAL_S, evaluation_s=monitoring.EVALUATION_INTERVAL_S
    )


def settings_of(config: LabConfig) -> ScaleSettings:
    return ScaleSettings(
        time_scale=config.time_scale, labels=config.label_values, adapted=config.adapted_exprs
    )


def scaled_name(path: Path, settings: ScaleSettings) -> str:
    tag = f"scaled-{settings.time_scale:g}" if settings.time_scale != 1 else "lab"
    return f"{path.stem}.{tag}{path.suffix or '.yml'}"


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{number}-{name}"
    taken.add(candidate)
    return candidate


def prepare_rules(config: LabConfig) -> RulesRecord:
    """Check the team's rule files, rewrite them for the lab when asked, record the result.

    InvalidInputError (exit 2), before anything starts, for a file promtool rejects, a
    range the time scale leaves too short, or an adapted alert no file defines.
    """
    files = list(config.extra_rule_files)
    settings = settings_of(config)
    if config.replace_lab_rules and not files:
        raise InvalidInputError(
            "the lab's rules are to be replaced, but no rule file is given",
            hint="give the team's rules with --rules FILE (or a profile's rules:)",
        )
    if settings.rewrites and not files:
        raise InvalidInputError(
            "a time scale, label mapping and adapted expressions apply to the team's rule "
            "files, and none is given (the lab's own rules already run in seconds)",
            hint="give the team's rules with --rules FILE (or a profile's rules:)",
        )
    monitoring.check_rule_files(files)
    results = [
        (path, scale_rules(read_yaml(path), source=str(path), settings=settings, clock=lab_clock()))
        for path in (files if settings.rewrites else [])
    ]
    adapted = {name for _, result in results for name in result.adapted}
    missing = sorted(set(settings.adapted) - adapted)
    if missing:
        raise InvalidInputError(
            f"adapted alert {missing[0]!r} is defined in none of the rule files",
            where=f"adapted.{missing[0]}",
            hint="name an alert of the rule files (alert: NAME), or remove the entry",
        )
    directory = rules_dir(config)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    # unchanged files are loaded where they are; rewritten ones from the lab directory
    rows = [] if settings.rewrites else [RuleFileRow(source=str(p), loaded=str(p)) for p in files]
    notes: list[str] = []
    taken: set[str] = set()
    for path, result in results:
        copy = directory / _unique(path.name, taken)
        shutil.copyfile(path, copy)
        header = [
            f"{copy.name}'s rules rewritten by gameday for the lab; do not edit: edit the",
            f"original ({path}) and start the lab again.",
            f"changed: {describe(settings)}",
            *(f"note: {note}" for note in result.notes),
        ]
        scaled = directory / _unique(scaled_name(path, settings), taken)
        scaled.write_text(dump_rules(result.document, header), encoding="utf-8")
        rows.append(RuleFileRow(source=str(path), loaded=str(scaled)))
        notes.extend(f"{path.name}: {note}" for note in result.notes)
    monitoring.check_rule_files(
        [Path(row["loaded"]) for row in rows if row["loaded"] != row["source"]]
    )
    record = RulesRecord(
        system=config.system,
        time_scale=config.time_scale,
        replace_lab_rules=config.replace_lab_rules,
        rewrite=describe(settings),
        files=rows,
        notes=notes,
    )
    (directory / RECORD_NAME).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def read_rules_record(config: LabConfig) -> RulesRecord | None:
    """What `prepare_rules` recorded when the lab started (None: nothing, or unreadable)."""
    try:
        record: RulesRecord = json.loads((rules_dir(config) / RECORD_NAME).read_text())
    except (OSError, ValueError):
        return None
    return record


def alert_for_seconds(config: LabConfig) -> dict[str, float]:
    """Each alert's `for:` as the lab's Prometheus runs it (seconds), from the team rule
    files it loaded: what a production estimate scales back. Unreadable files give
    nothing (the estimate then falls back to × K)."""
    record = read_rules_record(config)
    found: dict[str, float] = {}
    for row in record["files"] if record is not None else []:
        try:
            document = read_yaml(Path(row["loaded"]))
        except InvalidInputError:
            continue
        groups = document.get("groups") if isinstance(document, dict) else None
        for group in groups if isinstance(groups, list) else []:
            rules = group.get("rules") if isinstance(group, dict) else None
            for rule in rules if isinstance(rules, list) else []:
                if not isinstance(rule, dict) or "alert" not in rule:
                    continue
                waited = parse_duration_field(
                    rule.get("for", "0s"), source=row["loaded"], where=str(rule["alert"])
                )
                found.setdefault(str(rule["alert"]), waited.total_seconds())
    return found
