"""The peer proxy's pure parts: reading X-Server-From from HTTP/1.1 peer requests, deciding
which connections a partition cuts."""

from __future__ import annotations

import pytest

from gameday.lab.peer_proxy import Partition, RequestScanner, normalise_id

STREAM = (
    b"GET /raft/stream/msgappv2/8e9e05c52164694d HTTP/1.1\r\n"
    b"Host: 127.0.0.1:17837\r\n"
    b"X-Server-From: 8e9e05c52164694d\r\n"
    b"X-Raft-To: 91bc3c398fb3c146\r\n\r\n"
)


def post(sender: str, body: bytes) -> bytes:
    return (
        b"POST /raft HTTP/1.1\r\nHost: x\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nX-Server-From: "
        + sender.encode()
        + b"\r\n\r\n"
        + body
    )


def test_the_sender_is_read_from_a_stream_request() -> None:
    assert RequestScanner().feed(STREAM) == ["8e9e05c52164694d"]


def test_a_head_split_across_reads_is_reported_once_complete() -> None:
    scanner = RequestScanner()
    assert scanner.feed(STREAM[:40]) == []
    assert scanner.feed(STREAM[40:70]) == []
    assert scanner.feed(STREAM[70:]) == ["8e9e05c52164694d"]


def test_bodies_are_skipped_even_when_they_look_like_headers() -> None:
    body = b"\r\n\r\nX-Server-From: dead\r\n\r\n" * 3
    scanner = RequestScanner()
    found = scanner.feed(post("a1", body) + post("b2", b"x"))
    assert found == ["a1", "b2"]
    assert not scanner.opaque


def test_a_probe_without_the_header_then_a_request_with_it() -> None:
    probe = b"GET /raft/probing HTTP/1.1\r\nHost: x\r\n\r\n"
    assert RequestScanner().feed(probe + post("00ff", b"abc")) == ["ff"]


def test_chunked_bodies_are_followed() -> None:
    chunked = (
        b"POST /raft/snapshot HTTP/1.1\r\nTransfer-Encoding: chunked\r\nX-Server-From: 1\r\n\r\n"
        b"5\r\nhello\r\n3;ext=1\r\nX-S\r\n0\r\n\r\n"
    )
    scanner = RequestScanner()
    assert scanner.feed(chunked + post("2", b"")) == ["1", "2"]


def test_garbage_turns_the_scanner_opaque_without_raising() -> None:
    scanner = RequestScanner()
    assert scanner.feed(b"\x16\x03\x01 not http\r\n\r\n") == []
    assert scanner.opaque
    assert scanner.feed(STREAM) == []


@pytest.mark.parametrize(
    ("raw", "expected"), [("8E9E05C52164694D", "8e9e05c52164694d"), ("0x00ff", "ff")]
)
def test_member_ids_are_normalised_like_etcd_prints_them(raw: str, expected: str) -> None:
    assert normalise_id(raw) == expected


def test_a_partition_cuts_connections_to_and_from_the_isolated_member_only() -> None:
    partition = Partition()
    assert not partition.blocks("etcd-1", "aa")
    partition.isolate("etcd-1", "00BB")
    assert partition.blocks("etcd-1", None)  # anything to the isolated member
    assert partition.blocks("etcd-1", "aa")
    assert partition.blocks("etcd-0", "bb")  # the isolated member as sender
    assert not partition.blocks("etcd-0", "aa")  # the majority still talks
    assert not partition.blocks("etcd-2", None)  # unknown sender: not yet cut
    partition.heal()
    assert not partition.blocks("etcd-1", "bb")
