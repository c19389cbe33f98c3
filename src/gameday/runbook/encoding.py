"""Reading runbook bytes as text, and repairing mojibake.

Runbooks travel through editors, wikis and chat tools; many arrive with their
UTF-8 read as a legacy 8-bit code page and saved again ("â€”" for "—",
"ðŸ”´" for "🔴", "‚Üí" for "→"). `repair_mojibake` reverses that: each run
of non-ASCII characters is mapped back to the bytes the legacy code page gave
them and decoded as UTF-8 where that yields valid UTF-8, sequence by sequence.
Windows code pages (cp1252, with cp1254's Turkish letters and Latin-1 control
characters for the holes) are tried first, then Mac Roman.
"""

from __future__ import annotations

import contextlib
import re

__all__ = ["decode_text", "repair_mojibake"]

_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")

# The bytes cp1252 leaves undefined are often dropped by the tool that garbled
# the text; these are the completions seen in real runbooks, by prefix.
_LIKELY_COMPLETION: dict[bytes, bytes] = {
    b"\xe2\x80": b"\x9d",  # ” (right double quotation mark)
    b"\xe2\x86": b"\x90",  # ← (leftwards arrow)
    b"\xe2\x94": b"\x90",  # ┐ (box drawings light down and left)
    b"\xef\xb8": b"\x8f",  # U+FE0F variation selector (emoji presentation)
}


def _windows_table() -> dict[str, int]:
    table: dict[str, int] = {}
    for byte in range(0x80, 0x100):
        raw = bytes([byte])
        for codec in ("cp1252", "cp1254"):
            with contextlib.suppress(UnicodeDecodeError):
                table.setdefault(raw.decode(codec), byte)
        table.setdefault(chr(byte), byte)  # Latin-1, covers the C1 holes
    return table


def _mac_table() -> dict[str, int]:
    return {bytes([byte]).decode("mac_roman"): byte for byte in range(0x80, 0x100)}


# (table, shortest sequence to repair with it)
_TABLES: tuple[tuple[dict[str, int], int], ...] = ((_windows_table(), 2), (_mac_table(), 3))


def _sequence_length(lead: int) -> int:
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


def _repair_run(run: str, table: dict[str, int], min_length: int) -> tuple[str, int]:
    """Repair one run of non-ASCII characters; return the text and how many sequences were fixed.

    Sequences shorter than `min_length` bytes are left alone (Mac Roman's
    two-byte collisions are ordinary accented text, "«é»").
    """
    codes = [table.get(char) for char in run]
    out: list[str] = []
    fixed = 0
    index = 0
    while index < len(run):
        lead = codes[index]
        length = _sequence_length(lead) if lead is not None else 0
        if length >= min_length:
            chunk = codes[index : index + length]
            if len(chunk) == length and all(
                code is not None and 0x80 <= code <= 0xBF for code in chunk[1:]
            ):
                try:
                    out.append(bytes(code for code in chunk if code is not None).decode("utf-8"))
                except UnicodeDecodeError:
                    pass
                else:
                    fixed += 1
                    index += length
                    continue
            elif len(chunk) == length - 1 and all(
                code is not None and 0x80 <= code <= 0xBF for code in chunk[1:]
            ):
                prefix = bytes(code for code in chunk if code is not None)
                completion = _LIKELY_COMPLETION.get(prefix)
                if completion is not None:
                    out.append((prefix + completion).decode("utf-8"))
                    fixed += 1
                    index += length - 1
                    continue
        out.append(run[index])
        index += 1
    return "".join(out), fixed


def _repair_once(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        best, best_fixed = run, 0
        for table, min_length in _TABLES:
            repaired, fixed = _repair_run(run, table, min_length)
            if fixed > best_fixed:
                best, best_fixed = repaired, fixed
        return best

    return _NON_ASCII_RUN.sub(replace, text)


def repair_mojibake(text: str) -> str:
    """Return `text` with UTF-8-read-as-cp1252/Latin-1/Mac-Roman sequences decoded.

    Text without mojibake comes back unchanged; text garbled twice is repaired
    twice (up to three rounds).
    """
    for _ in range(3):
        repaired = _repair_once(text)
        if repaired == text:
            break
        text = repaired
    return text


def decode_text(data: bytes) -> str:
    """Decode runbook bytes: UTF-8 (with or without BOM), else cp1252, else Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for codec in ("utf-8", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")
