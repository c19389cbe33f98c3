from pathlib import Path

import pytest

from gameday.record.ledger import FaultLedger, Revert

CALLS: list[str] = []


def revert_me(name: str) -> None:
    CALLS.append(name)


def broken_revert(name: str) -> None:
    raise RuntimeError(f"cannot revert {name}")


def revert(func: str, name: str) -> Revert:
    return Revert(module=__name__, func=func, arguments={"name": name})


def test_every_recorded_fault_is_reverted_newest_first(tmp_path: Path) -> None:
    CALLS.clear()
    ledger = FaultLedger(tmp_path / "faults.json")
    ledger.add("first", revert("revert_me", "first"))
    ledger.add("second", revert("revert_me", "second"))
    outcomes = ledger.revert_all()
    assert CALLS == ["second", "first"]
    assert [error for _, error in outcomes] == [None, None]
    assert ledger.entries() == []


def test_a_failing_revert_is_reported_and_kept(tmp_path: Path) -> None:
    ledger = FaultLedger(tmp_path / "faults.json")
    ledger.add("stuck", revert("broken_revert", "stuck"))
    [(entry, error)] = ledger.revert_all()
    assert entry["fault"] == "stuck" and error is not None and "cannot revert" in error
    assert len(ledger.entries()) == 1, "a fault that could not be undone must not be forgotten"


def test_a_fault_that_fails_while_applied_is_reverted_at_once(tmp_path: Path) -> None:
    CALLS.clear()
    ledger = FaultLedger(tmp_path / "faults.json")
    with pytest.raises(OSError), ledger.applying("half", revert("revert_me", "half")):
        raise OSError("supervisor went away mid-fault")
    assert CALLS == ["half"]
    assert ledger.entries() == []


def test_the_ledger_survives_the_process(tmp_path: Path) -> None:
    FaultLedger(tmp_path / "faults.json").add("crash", revert("revert_me", "crash"))
    assert [e["fault"] for e in FaultLedger(tmp_path / "faults.json").entries()] == ["crash"]
    ledger = FaultLedger(tmp_path / "faults.json")
    ledger.clear_matching(revert("revert_me", "crash"))
    assert ledger.entries() == []
