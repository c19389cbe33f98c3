"""The reader on a corpus of runbooks in many formats and languages, each with its
expected model (tests/runbook/corpus/NAME.expected.json next to NAME.md or NAME/).

Broken encodings are made here from the UTF-8 sources. The suite prints alert
recall and precision and fails below 95 %, on any stated severity that is
wrong, and on any alert whose procedure is not tied where the runbook has one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from gameday.runbook import Runbook, parse_runbook

CORPUS = Path(__file__).resolve().parent / "corpus"


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    expected: dict[str, dict[str, object]]
    encode: Callable[[str], bytes] | None = None


def _mac_roman(text: str) -> bytes:
    """UTF-8 read as Mac Roman and saved again as UTF-8."""
    return text.encode().decode("mac_roman").encode()


def _cp1252(text: str) -> bytes:
    return text.encode().decode("cp1252", errors="ignore").encode()


VARIANTS: dict[str, tuple[str, Callable[[str], bytes]]] = {
    "ru-disk-full+macroman": ("ru-disk-full", _mac_roman),
    "ru-disk-full+macroman-twice": ("ru-disk-full", lambda t: _mac_roman(_mac_roman(t).decode())),
    "ru-oncall+macroman": ("ru-oncall", _mac_roman),
    "fr-alerte+cp1252-mojibake": ("fr-alerte", _cp1252),
    "de-playbook+cp1252-file": ("de-playbook", lambda t: t.encode("cp1252")),
    "es-guardia+utf16-bom": ("es-guardia", lambda t: t.encode("utf-16")),
    "fr-alerte+latin1-twice": (
        "fr-alerte",
        lambda t: t.encode().decode("latin-1").encode().decode("latin-1").encode(),
    ),
}


def _cases() -> list[Case]:
    cases: list[Case] = []
    for sidecar in sorted(CORPUS.glob("*.expected.json")):
        name = sidecar.name.removesuffix(".expected.json")
        path = CORPUS / f"{name}.md"
        if not path.exists():
            path = CORPUS / name
        expected = json.loads(sidecar.read_text(encoding="utf-8"))["alerts"]
        cases.append(Case(name, path, expected))
    by_name = {case.name: case for case in cases}
    for variant, (base, encode) in VARIANTS.items():
        case = by_name[base]
        cases.append(Case(variant, case.path, case.expected, encode))
    return cases


CASES = _cases()


def _read(case: Case, tmp: Path) -> Runbook:
    if case.encode is None:
        return parse_runbook(case.path)
    target = tmp / case.path.name
    target.write_bytes(case.encode(case.path.read_text(encoding="utf-8")))
    return parse_runbook(target)


def test_the_corpus_is_broad_enough() -> None:
    stored = [case for case in CASES if case.encode is None]
    formats = {
        json.loads((CORPUS / f"{case.name}.expected.json").read_text())["format"] for case in stored
    }
    assert len(stored) >= 20
    assert len(formats) >= 6


def test_recall_precision_severities_and_procedures(tmp_path: Path) -> None:
    expected_total = found_total = matched = 0
    severities_stated = severities_right = 0
    procedures_expected = procedures_tied = 0
    problems: list[str] = []
    for case in CASES:
        folder = tmp_path / case.name
        folder.mkdir()
        runbook = _read(case, folder)
        expected_total += len(case.expected)
        found_total += len(runbook.alerts)
        seen: set[int] = set()
        for name, want in case.expected.items():
            alert = runbook.alert(name)
            if alert is None:
                problems.append(f"{case.name}: missed {name}")
                continue
            matched += 1
            seen.add(id(alert))
            if want["severity"] is not None:
                severities_stated += 1
                if alert.severity == want["severity"]:
                    severities_right += 1
                else:
                    problems.append(
                        f"{case.name}: {name} severity {alert.severity!r} "
                        f"(stated {alert.severity_stated!r}), expected {want['severity']!r}"
                    )
            elif alert.severity is not None:
                problems.append(f"{case.name}: {name} has severity {alert.severity!r}, none stated")
            tied = runbook.procedure(alert.procedure)
            if want["procedure"]:
                procedures_expected += 1
                if tied is not None and tied.steps:
                    procedures_tied += 1
                else:
                    problems.append(f"{case.name}: {name} procedure {alert.procedure!r} not tied")
            elif alert.procedure is not None:
                problems.append(f"{case.name}: {name} tied to {alert.procedure!r}, has none")
        extra = [a.name for a in runbook.alerts if id(a) not in seen]
        problems.extend(f"{case.name}: not an alert: {name}" for name in extra)
    recall = matched / expected_total
    precision = matched / found_total if found_total else 1.0
    print(
        f"\nrunbook corpus: {len(CASES)} runbooks, {expected_total} alerts; "
        f"recall {recall:.1%}, precision {precision:.1%}, "
        f"severities {severities_right}/{severities_stated}, "
        f"procedures tied {procedures_tied}/{procedures_expected}"
    )
    report = "\n".join(problems)
    assert recall >= 0.95, report
    assert precision >= 0.95, report
    assert severities_right == severities_stated, report
    assert procedures_tied == procedures_expected, report


@pytest.mark.parametrize("variant", ["ru-disk-full+macroman", "ru-disk-full+macroman-twice"])
def test_garbled_cyrillic_is_repaired_not_garbled_further(variant: str, tmp_path: Path) -> None:
    case = next(case for case in CASES if case.name == variant)
    runbook = _read(case, tmp_path)
    clean = parse_runbook(case.path)
    assert runbook.to_dict()["procedures"] == clean.to_dict()["procedures"]
    procedure = runbook.procedure(runbook.alerts[0].procedure)
    assert procedure is not None
    assert procedure.steps[0].text.startswith("Посмотрите, что занимает место")
    assert any("mac roman" in note for note in runbook.notes)
    assert not runbook.warnings


def test_cp1252_file_keeps_german_text(tmp_path: Path) -> None:
    case = next(case for case in CASES if case.name == "de-playbook+cp1252-file")
    runbook = _read(case, tmp_path)
    assert runbook.title == "Betriebshandbuch Bestellservice"
    alert = runbook.alert("LagerAbgleichVerzoegert")
    assert alert is not None and "hängt länger als 30 Minuten" in alert.meaning
