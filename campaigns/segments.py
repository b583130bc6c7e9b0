"""How an SMS text is encoded (GSM-7 or UCS-2) and how many parts it costs (3GPP TS 23.038)."""

import unicodedata
from dataclasses import dataclass
from typing import Literal

# The GSM 03.38 default alphabet, 16 code points a row; 0x1B is the escape to the
# extension table, not a character.
_ESC = "\x1b"
_GSM_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    f"Δ_ΦΓΛΩΠΨΣΘΞ{_ESC}ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
GSM_BASIC: frozenset[str] = frozenset(_GSM_BASIC_TABLE) - {_ESC}
# Each costs two septets: the escape and its code.
GSM_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_MULTI = 160, 153  # septets in a lone part / in each part of a longer message
UCS2_SINGLE, UCS2_MULTI = 70, 67  # UTF-16 code units, likewise

# GSM-7 stand-in -> characters that force UCS-2 but can be replaced by it.
_STAND_INS: dict[str, str] = {
    "'": "\u2018\u2019\u201a\u201b\u2032\u2039\u203a",  # ‘ ’ ‚ ‛ ′ ‹ ›
    '"': "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb",  # “ ” „ ‟ ″ « »
    "-": "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2022",  # hyphens, dashes, minus, bullet
    "...": "\u2026",  # …
    " ": "\u00a0" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000",
    "": "\u200b\ufeff",  # zero-width space, byte order mark
    "x": "\u00d7",  # ×
    "Ç": "ç",  # what GSM phones send for it
    "a": "áâã",
    "e": "êë",
    "i": "íîï",
    "o": "óôõ",
    "u": "úû",
    "A": "ÀÁÂÃ",
    "E": "ÈÊË",
    "I": "ÌÍÎÏ",
    "O": "ÒÓÔÕ",
    "U": "ÙÚÛ",
}
LOOKALIKES: dict[str, str] = {
    found: stand_in for stand_in, founds in _STAND_INS.items() for found in founds
}
_LOOKALIKE_TABLE = str.maketrans(LOOKALIKES)


@dataclass(frozen=True)
class SegmentCount:
    """The encoding of a text, its size and the parts it is sent in."""

    encoding: Literal["GSM-7", "UCS-2"]
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2), in total
    parts: int  # 0 for an empty text
    per_part: int  # the limit that applies: 160 or 153 (GSM-7), 70 or 67 (UCS-2)
    remaining: int  # units still free in the last part; 160 for an empty text
    ucs2_characters: tuple[str, ...]  # distinct characters forcing UCS-2, first seen first
    replaceable: tuple[tuple[str, str], ...]  # (character, GSM-7 stand-in), first seen first


def count_segments(text: str) -> SegmentCount:
    """Encoding, size and number of parts of ``text`` as an SMS (composed to NFC first,
    as messages are sent: an accent typed as a separate mark is one character)."""
    text = unicodedata.normalize("NFC", text)
    ucs2_characters = tuple(
        dict.fromkeys(ch for ch in text if ch not in GSM_BASIC and ch not in GSM_EXTENSION)
    )
    if ucs2_characters:
        encoding, single, multi = "UCS-2", UCS2_SINGLE, UCS2_MULTI
        sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]  # surrogate pairs
    else:
        encoding, single, multi = "GSM-7", GSM7_SINGLE, GSM7_MULTI
        sizes = [2 if ch in GSM_EXTENSION else 1 for ch in text]  # escape pairs
    units = sum(sizes)
    if units <= single:
        parts, per_part, used = (1 if units else 0), single, units
    else:
        parts, used = _fill_parts(sizes, multi)
        per_part = multi
    return SegmentCount(
        encoding=encoding,
        units=units,
        parts=parts,
        per_part=per_part,
        remaining=per_part - used,
        ucs2_characters=ucs2_characters,
        replaceable=tuple((ch, LOOKALIKES[ch]) for ch in ucs2_characters if ch in LOOKALIKES),
    )


def replace_lookalikes(text: str) -> str:
    """``text`` with every LOOKALIKES character swapped for its GSM-7 stand-in."""
    text = unicodedata.normalize("NFC", text)
    return text.translate(_LOOKALIKE_TABLE)


def _fill_parts(sizes: list[int], per_part: int) -> tuple[int, int]:
    """Parts needed and units used in the last one, never splitting a pair across parts."""
    parts, used = 1, 0
    for size in sizes:
        if used + size > per_part:
            parts, used = parts + 1, 0
        used += size
    return parts, used
