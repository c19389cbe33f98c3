"""The record of acknowledged writes: the last acknowledged value of each key wins."""

from __future__ import annotations

from pathlib import Path

from gameday.chaos.consensus import writes
from gameday.chaos.consensus.cluster import hex_id


def test_the_latest_acknowledged_value_per_key_is_expected(tmp_path: Path) -> None:
    path = tmp_path / "acknowledged_writes.jsonl"
    for key, value, revision in [
        ("a-0", "x", 5),
        ("a-1", "y", 6),
        ("a-0", "z", 7),
        ("b-0", "w", 8),
    ]:
        writes.append(
            path, writes.AcknowledgedWrite(key=key, value=value, revision=revision, at="")
        )
    with path.open("a") as record:
        record.write('{"key": "cut-short"')  # a crash mid-line is ignored
    latest = writes.latest_per_key(path)
    assert {k: w["value"] for k, w in latest.items()} == {"a-0": "z", "a-1": "y", "b-0": "w"}
    assert set(writes.latest_per_key(path, prefix="a-")) == {"a-0", "a-1"}
    assert writes.latest_per_key(tmp_path / "absent.jsonl") == {}


def test_member_ids_from_the_json_gateway_are_printed_in_hex() -> None:
    assert hex_id("13222102124691178334") == "b77e57d42627c35e"
