from __future__ import annotations

import pytest

from gameday.runbook.encoding import decode_text, repair_mojibake


@pytest.mark.parametrize(
    ("garbled", "clean"),
    [
        ("a â€” b", "a — b"),  # UTF-8 read as cp1252
        ("ðŸ”´ Critical", "🔴 Critical"),  # emoji read as cp1252
        ("ğŸš¨ INCIDENT", "🚨 INCIDENT"),  # emoji read as cp1254
        ("\uf8ffüìö Runbooks", "📚 Runbooks"),  # read as Mac Roman
        ("‚Üí next", "→ next"),  # Mac Roman arrow
        ("â”Œâ”€â”", "┌─┐"),  # box drawing with the dropped 0x90 byte
        ("âš\xa0ï¸ warn", "⚠\ufe0f warn"),  # dropped 0x8F of the variation selector
        ("10Âµs", "10µs"),
        ("It\u00e2\u0080\u0099s", "It\u2019s"),  # C1 control characters from Latin-1
    ],
)
def test_repairs_mojibake(garbled: str, clean: str) -> None:
    assert repair_mojibake(garbled) == clean


@pytest.mark.parametrize(
    "text",
    ["plain ascii", "naïve café", "«é»", "→ ✅ 🔴 — ü", "Straße", "日本語", ""],
)
def test_leaves_clean_text_alone(text: str) -> None:
    assert repair_mojibake(text) == text


def test_repairs_double_encoding() -> None:
    once = "café".encode().decode("cp1252")
    twice = once.encode().decode("cp1252")
    assert twice == "cafÃƒÂ©"
    assert repair_mojibake(twice) == "café"


def test_decode_text_falls_back_to_cp1252() -> None:
    assert decode_text("café — ok".encode("cp1252")) == "café — ok"
    assert decode_text("\ufeffhello".encode()) == "hello"
    assert decode_text(bytes([0x81, 0x8D])) == "\x81\x8d"


def test_uncertain_garbling_is_kept_with_a_warning() -> None:
    from gameday.runbook.encoding import repair

    # two characters of Cyrillic read as Mac Roman: too little to be certain
    result = repair("Disk –ü almost full")
    assert result.text == "Disk –ü almost full"
    assert result.warnings and "could not be repaired with certainty" in result.warnings[0]


def test_whole_text_mac_roman_cyrillic_is_repaired() -> None:
    from gameday.runbook.encoding import repair

    clean = "# Алерт\n\nДиск заполнен — проверьте «том»."
    result = repair(clean.encode().decode("mac_roman"))
    assert result.text == clean
    assert result.notes == ("the text was UTF-8 read as mac roman; repaired",)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_are_read(codec: str) -> None:
    from gameday.runbook.encoding import decode_bytes

    text = "# Runbook\n\n- **DiskFull**: disk > 90 % — act\n"
    decoded = decode_bytes(text.encode(codec))
    assert decoded is not None and decoded.text == text
