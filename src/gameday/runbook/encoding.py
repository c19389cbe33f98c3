"""Reading runbook bytes as text, and repairing mojibake.

Runbooks travel through editors, wikis and chat tools; many arrive with their
UTF-8 read as a legacy 8-bit code page and saved again ("â€”" for "—",
"ðŸ”´" for "🔴", "‚Üí" for "→", "–ü—Ä–∏" for Cyrillic "При"), some of
them twice. Repairs are made only where they are certain:

1. the whole text maps back to bytes through one code page (cp1252 with
   Latin-1's control characters, or Mac Roman) and those bytes are valid
   UTF-8: the text was garbled as a whole, it is decoded as a whole;
2. otherwise, run by run of non-ASCII characters, where each sequence is a
   complete UTF-8 sequence (two bytes at least for Windows code pages, three
   for Mac Roman, whose two-byte collisions are ordinary accented text,
   unless the whole run decodes into letters).

Whatever still looks garbled afterwards is kept as it is, with a warning.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

__all__ = ["Decoded", "decode_bytes", "decode_text", "repair", "repair_mojibake"]

_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")

# The bytes cp1252 leaves undefined are often dropped by the tool that garbled
# the text; these are the completions seen in real runbooks, by prefix.
_LIKELY_COMPLETION: dict[bytes, bytes] = {
    b"\xe2\x80": b"\x9d",  # ” (right double quotation mark)
    b"\xe2\x86": b"\x90",  # ← (leftwards arrow)
    b"\xe2\x94": b"\x90",  # ┐ (box drawings light down and left)
    b"\xef\xb8": b"\x8f",  # U+FE0F variation selector (emoji presentation)
}

# What garbled UTF-8 looks like once read as cp1252/Latin-1 or Mac Roman.
_MAC_TRAIL = "ÄÅÇÉÑÖÜáàâäãåçéèêëíìîïñóòôöõúùûü†°¢£§•¶ß®©™´¨≠ÆØ∞±≤≥¥µ∂∑∏π∫ªºΩæø"
_GARBLED = re.compile(
    r"Ã[\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc]"
    r"|Â[\u00a0-\u00bf]|â€|â[\u0080-\u009f]|ðŸ|ï¸|[ÐÑ][\u0080-\u00bf\u2018-\u203a]"
    rf"|[–—][{_MAC_TRAIL}]|\uf8ff|√[{_MAC_TRAIL}]|\ufffd"
)


@dataclass(frozen=True)
class Decoded:
    """Text read from bytes: what was done to it (`notes`), what looks wrong (`warnings`)."""

    text: str
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


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


_WINDOWS = _windows_table()
_MAC = _mac_table()
# (name, table, shortest sequence to repair with it run by run)
_TABLES: tuple[tuple[str, dict[str, int], int], ...] = (
    ("cp1252/latin-1", _WINDOWS, 2),
    ("mac roman", _MAC, 3),
)


def _sequence_length(lead: int) -> int:
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


def _as_bytes(text: str, table: dict[str, int]) -> bytes | None:
    out = bytearray()
    for char in text:
        code = ord(char)
        if code < 0x80:
            out.append(code)
            continue
        byte = table.get(char)
        if byte is None:
            return None
        out.append(byte)
    return bytes(out)


def _whole(text: str) -> tuple[str, str] | None:
    """(repaired, code page) when the whole text is UTF-8 read through one code page."""
    if text.isascii():
        return None
    for name, table, _ in _TABLES:
        data = _as_bytes(text, table)
        if data is None:
            continue
        try:
            repaired = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        # one two-byte sequence alone could be chance; two or more are not
        if len(text) - len(repaired) >= 2:
            return repaired, name
    return None


def _complete(run: str, table: dict[str, int]) -> str | None:
    """The run decoded as a whole when all of it is UTF-8 read through `table`."""
    data = _as_bytes(run, table)
    if data is None:
        return None
    try:
        whole = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = all(char.isprintable() for char in whole)
    return whole if whole != run and printable else None


def _repair_run(run: str, table: dict[str, int], min_length: int) -> tuple[str, int]:
    """Repair one run of non-ASCII characters; return the text and how many sequences were fixed.

    A run that decodes completely is taken whole (a garbled Cyrillic word, "«диск»");
    otherwise complete sequences of at least `min_length` bytes are decoded one by one.
    """
    whole = _complete(run, table)
    if whole is not None and (min_length <= 2 or len(run) - len(whole) >= 2):
        return whole, len(run) - len(whole)
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


def _by_runs(text: str) -> tuple[str, dict[str, int]]:
    """Repair run by run with the one code page that explains most of the text's runs
    (one document is garbled one way; mixing code pages garbles it further)."""
    runs = _NON_ASCII_RUN.findall(text)
    best_name, best_total = "", 0
    for name, table, min_length in _TABLES:
        total = sum(_repair_run(run, table, min_length)[1] for run in runs)
        if total > best_total:
            best_name, best_total = name, total
    if not best_total:
        return text, {}
    _, table, min_length = next(entry for entry in _TABLES if entry[0] == best_name)
    repaired = _NON_ASCII_RUN.sub(
        lambda match: _repair_run(match.group(0), table, min_length)[0], text
    )
    return repaired, {best_name: best_total}


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def repair(text: str) -> Decoded:
    """`text` with certain mojibake repaired (up to three layers), and what still looks garbled."""
    notes: list[str] = []
    for _ in range(3):
        whole = _whole(text)
        if whole is not None:
            text = whole[0]
            notes.append(f"the text was UTF-8 read as {whole[1]}; repaired")
            continue
        repaired, counts = _by_runs(text)
        if repaired == text:
            break
        text = repaired
        for name, count in counts.items():
            notes.append(f"{count} sequence(s) of UTF-8 read as {name} repaired")
    warnings: list[str] = []
    found = list(_GARBLED.finditer(text))
    if found:
        first = found[0]
        warnings.append(
            f"line {_line_of(text, first.start())}: the text looks garbled "
            f"({first.group(0)!r}, {len(found)} place(s)) and could not be repaired with "
            "certainty; it is kept as it is (save the runbook as UTF-8 to fix it)"
        )
    return Decoded(text, tuple(notes), tuple(warnings))


def repair_mojibake(text: str) -> str:
    """Return `text` with UTF-8-read-as-cp1252/Latin-1/Mac-Roman sequences decoded."""
    return repair(text).text


_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM: the byte order whose text is printable."""
    if len(data) < 4 or len(data) % 2:
        return None
    for codec, high in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):
        # runbooks are full of ASCII (Markdown, spaces, newlines): NUL high bytes
        if high.count(0) < 0.2 * len(high):
            continue
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        printable = sum(1 for char in text if char.isprintable() or char in "\r\n\t")
        if "\x00" not in text and printable >= 0.95 * len(text):
            return text
    return None


_WORD = re.compile(r"\w{3,}")


def _looks_western(text: str) -> bool:
    """Western European text has few words made only of non-ASCII letters ("Ïðèâåò" is
    Cyrillic read as cp1252)."""
    foreign = [word for word in _WORD.findall(text) if not word.isascii()]
    alien = [word for word in foreign if not any(char.isascii() for char in word)]
    return len(alien) * 2 <= len(foreign)


def _legacy(data: bytes) -> tuple[str, str | None]:
    """Bytes that are not UTF-8: cp1252 when that reads as Western text, else a guessed
    code page."""
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        if len(data) < 64:  # too little to guess from
            return data.decode("latin-1"), None
    else:
        if _looks_western(western):
            return western, None
    try:
        import charset_normalizer
    except ImportError:  # pragma: no cover - installed with requests
        guess = None
    else:
        match = charset_normalizer.from_bytes(data).best()
        guess = match.encoding if match is not None else None
    if guess is not None:
        with contextlib.suppress(UnicodeDecodeError, LookupError):
            return data.decode(guess), guess
    with contextlib.suppress(UnicodeDecodeError):
        return data.decode("cp1252"), None
    return data.decode("latin-1"), None


def decode_bytes(data: bytes) -> Decoded | None:
    """Runbook bytes as text; None when they are not text (NUL bytes that are not UTF-16/32)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError:
                text = data[len(bom) :].decode(codec, errors="replace")
            return _finish(
                text, () if codec == "utf-8" else (f"read as {codec} (byte-order mark)",)
            )
    if b"\x00" in data:
        text16 = _utf16_without_bom(data)
        if text16 is None:
            return None
        return _finish(text16, ("read as UTF-16 (no byte-order mark)",))
    try:
        return _finish(data.decode("utf-8"), ())
    except UnicodeDecodeError:
        pass
    text, guessed = _legacy(data)
    if guessed is None:
        return _finish(text, ("not UTF-8; read as cp1252",))
    decoded = _finish(text, ())
    return Decoded(
        decoded.text,
        decoded.notes,
        (
            f"the file is not UTF-8; its encoding was guessed as {guessed} "
            "(save the runbook as UTF-8 to be sure)",
            *decoded.warnings,
        ),
    )


def _finish(text: str, notes: tuple[str, ...]) -> Decoded:
    if "\x00" in text:
        text = text.replace("\x00", "")
    repaired = repair(text)
    return Decoded(repaired.text, (*notes, *repaired.notes), repaired.warnings)


def decode_text(data: bytes) -> str:
    """Decode runbook bytes (UTF-8/16/32 with or without BOM, else a legacy code page)."""
    decoded = decode_bytes(data)
    return decoded.text if decoded is not None else data.decode("latin-1")
