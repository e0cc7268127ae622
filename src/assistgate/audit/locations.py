"""Reduce an address to its block, so that a dispatch record and a register entry can be compared.

Dispatch exports and the register write the same place in many ways: "1234 S 4th St",
"1200 BLK S FOURTH STREET", "12XX S 4TH ST", "1200 block of South 4th Street, Apt 3". Public
exports publish block level only, and the register keeps block level too, so both sides are
reduced to one key: the house number floored to its hundred, then the street's words in upper
case with directions and ordinals abbreviated one way, and street types ("ST", "AVENUE") and
unit numbers dropped, since exports differ most in whether they write them at all. An
intersection ("4TH ST / MAIN ST", "4th and Main") keys as its two streets in sorted order.
Pure: no I/O.
"""

from __future__ import annotations

import re

_UNIT = re.compile(r"\s*(?:,|\b(?:APT|APARTMENT|UNIT|STE|SUITE|RM|ROOM|LOT|FL|FLOOR)\b|#).*$")
_NUMBER = re.compile(r"^(\d+)(?:-?[A-Z]|-\d+)?\s+(.*)$")
_MASKED = re.compile(r"^(\d*)[X*]{1,3}\s+(.*)$")  # Cincinnati's "12XX", some exports' "12**"
_BLOCK_WORDS = re.compile(r"\b(?:BLK|BLOCK|BL)\b(?:\s+OF\b)?\s*")
_CROSS = re.compile(r"\s+(?:/|&|AND|AT|@)\s+|\s*/\s*")
_WORD = re.compile(r"[A-Z0-9]+")

_ABBREVIATIONS = {
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
    "STREET": "ST",
    "STR": "ST",
    "AVENUE": "AVE",
    "AV": "AVE",
    "ROAD": "RD",
    "BOULEVARD": "BLVD",
    "DRIVE": "DR",
    "LANE": "LN",
    "COURT": "CT",
    "PLACE": "PL",
    "PARKWAY": "PKWY",
    "HIGHWAY": "HWY",
    "TERRACE": "TER",
    "CIRCLE": "CIR",
    "TRAIL": "TRL",
    "PIKE": "PK",
    "EXPRESSWAY": "EXPY",
    "SQUARE": "SQ",
    "FIRST": "1ST",
    "SECOND": "2ND",
    "THIRD": "3RD",
    "FOURTH": "4TH",
    "FIFTH": "5TH",
    "SIXTH": "6TH",
    "SEVENTH": "7TH",
    "EIGHTH": "8TH",
    "NINTH": "9TH",
    "TENTH": "10TH",
    "ELEVENTH": "11TH",
    "TWELFTH": "12TH",
}


def block_key(address: str | None) -> str:
    """Return the block an address lies on, as a comparable key ("" if there is no address)."""
    text = " ".join((address or "").upper().replace(".", " ").split())
    if not text:
        return ""
    text = _UNIT.sub("", text).strip()
    parts = [p for p in _CROSS.split(text) if p.strip()]
    if len(parts) == 2 and not _NUMBER.match(parts[0]) and not _MASKED.match(parts[0]):
        streets = sorted(_street(p) for p in parts)
        return f"{streets[0]} & {streets[1]}"
    masked = _MASKED.match(text)
    if masked:
        hundreds = int(masked.group(1) or 0)
        return f"{hundreds * 100} {_street(masked.group(2))}".strip()
    numbered = _NUMBER.match(text)
    if numbered:
        block = int(numbered.group(1)) // 100 * 100
        return f"{block} {_street(numbered.group(2))}".strip()
    return _street(text)


_STREET_TYPES = frozenset(
    ("ST", "AVE", "RD", "BLVD", "DR", "LN", "CT", "PL", "PKWY", "TER", "CIR", "TRL", "SQ", "WAY")
)


def _street(text: str) -> str:
    words = [_ABBREVIATIONS.get(w, w) for w in _WORD.findall(_BLOCK_WORDS.sub(" ", text))]
    kept = [w for w in words if w not in _STREET_TYPES]
    return " ".join(kept or words)
