"""Canonical JSON: one byte string for one value, so a hash of it means one thing.

The encoding is RFC 8785 (JCS) restricted to what the ledger stores: objects with string
keys, arrays, strings, integers, booleans and null. Keys are sorted by UTF-16 code units as
RFC 8785 asks, output is UTF-8 without ASCII escaping, with no whitespace.

Floats are refused, not rounded: how a float prints differs between languages and versions
(1e21, 0.1 + 0.2, -0.0), so a verifier in another language could re-encode an entry to other
bytes and see a forged hash where there is none. For the same reason integers must lie in
the range every JSON implementation reads exactly, +/-(2**53 - 1) (RFC 7493, I-JSON).
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from assistgate.ledger.errors import MalformedJsonError, NotCanonicalError, UnsupportedValueError

MAX_SAFE_INTEGER = 2**53 - 1
# The UTF-8 lead bytes of characters beyond U+FFFF, the only ones that sort differently by
# code point and by UTF-16 code unit.
_ASTRAL = re.compile(rb"[\xf0-\xf4]")


def canonical_json(obj: object) -> bytes:
    """Return the canonical UTF-8 JSON encoding of `obj`, or raise `UnsupportedValueError`."""
    needs_utf16_order = check_canonical(obj)
    if needs_utf16_order:
        obj = _utf16_ordered(obj)
    # Sorting by code point equals RFC 8785's UTF-16 order unless a key holds a character
    # beyond U+FFFF; `check_canonical` reports that case and `_utf16_ordered` handles it.
    return _dumps(obj, sort_keys=not needs_utf16_order)


def check_canonical(obj: object) -> bool:
    """Refuse a value with no canonical encoding; return whether a key needs UTF-16 ordering.

    Raises `UnsupportedValueError` naming the path of the first bad value, e.g. `$.data.n`.
    """
    try:
        return _check(obj)
    except _RefusedError as refused:
        path = "$" + "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in reversed(refused.path)
        )
        raise UnsupportedValueError(f"{path}: {refused.reason}") from None


def parse_canonical(data: bytes) -> dict[str, Any]:
    """Decode one canonical JSON object, refusing bytes that are not exactly its encoding.

    An object whose keys were reordered, whose whitespace or escapes were changed, or whose
    numbers were rewritten (1.0, 1e0, -0) is refused with `NotCanonicalError`, even though it
    decodes to the same value: the ledger hashes bytes, not values.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedJsonError(f"not UTF-8 at byte {exc.start}") from None
    try:
        obj = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise MalformedJsonError(f"not JSON: {exc.msg} at character {exc.pos}") from None
    except UnsupportedValueError:
        raise
    except (ValueError, RecursionError) as exc:
        # Integers past Python's digit limit, or nesting past the recursion limit.
        raise MalformedJsonError(f"not JSON the ledger can read: {exc}") from None
    if not isinstance(obj, dict):
        raise MalformedJsonError(f"expected a JSON object, got {type(obj).__name__}")
    if data.isascii() or _ASTRAL.search(data) is None:
        # The decoder refused floats, NaN and out-of-range integers, so `obj` holds only
        # objects with string keys, arrays, strings, booleans, null and safe integers, and no
        # character beyond U+FFFF is written raw (one written as an escape makes the bytes
        # differ from the canonical ones anyway): the full walk would find nothing to refuse.
        try:
            expected = _dumps(obj, sort_keys=True)
        except UnicodeEncodeError:
            raise UnsupportedValueError("a string holds an escaped lone surrogate") from None
    else:
        expected = canonical_json(obj)
    if expected != data:
        at = next(
            (i for i, (a, b) in enumerate(zip(expected, data, strict=False)) if a != b),
            min(len(expected), len(data)),
        )
        raise NotCanonicalError(
            f"bytes differ from the canonical encoding at byte {at} "
            "(reordered keys, extra whitespace, changed escapes or numbers)"
        )
    return obj


class _RefusedError(Exception):
    """Raised deep in `_check`; each enclosing level adds its key on the way out."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.path: list[str | int] = []


def _check(value: object) -> bool:
    # Exact types first, as this runs on every value of every entry an export holds; then
    # subclasses (a StrEnum event name, an IntEnum), which encode as their base type.
    if type(value) is str:
        return _check_str(value)
    if type(value) is dict:
        return _check_dict(value)
    if value is None or type(value) is bool:
        return False
    if type(value) is int:
        return _check_int(value)
    if type(value) is list:
        return _check_list(value)
    if isinstance(value, float):
        raise _RefusedError(
            "floats are refused (their text form differs between implementations); "
            "store an integer or a string"
        )
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return _check_str(value)
    if isinstance(value, int):
        return _check_int(value)
    if isinstance(value, dict):
        return _check_dict(value)
    if isinstance(value, list):
        return _check_list(value)
    raise _RefusedError(f"{type(value).__name__} has no canonical JSON encoding")


def _check_int(value: int) -> bool:
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return False
    raise _RefusedError(f"integer {value} is outside +/-(2**53 - 1)")


def _check_str(value: str) -> bool:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _RefusedError(
                "a string holds a lone surrogate, which UTF-8 cannot encode"
            ) from None
    return False


def _check_dict(value: dict[object, object]) -> bool:
    astral = False
    for key, item in value.items():
        if not isinstance(key, str):
            raise _RefusedError(f"key {key!r} is not a string")
        try:
            astral = _check(item) or astral
            if not key.isascii():
                _check_str(key)
                astral = astral or max(key) > "\uffff"
        except _RefusedError as refused:
            refused.path.append(key)
            raise
    return astral


def _check_list(value: list[object]) -> bool:
    astral = False
    for index, item in enumerate(value):
        try:
            astral = _check(item) or astral
        except _RefusedError as refused:
            refused.path.append(index)
            raise
    return astral


def _dumps(obj: object, *, sort_keys: bool) -> bytes:
    return (_SORTED_ENCODER if sort_keys else _ORDERED_ENCODER).encode(obj).encode("utf-8")


def _utf16_ordered(value: Any) -> Any:
    if isinstance(value, list):
        return [_utf16_ordered(item) for item in value]
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        return {k: _utf16_ordered(value[k]) for k in keys}
    return value


def _refuse_float(text: str) -> NoReturn:
    raise UnsupportedValueError(
        f"number {text} is not an integer; canonical entries hold no floats"
    )


def _safe_int(text: str) -> int:
    value = int(text)
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return value
    raise UnsupportedValueError(f"integer {text} is outside +/-(2**53 - 1)")


def _refuse_constant(text: str) -> NoReturn:
    raise UnsupportedValueError(f"{text} is not JSON")


# Built once: json.loads and json.dumps build a new decoder or encoder per call when given
# options, which is a tenth of the cost of verifying an export line.
_DECODER = json.JSONDecoder(
    parse_float=_refuse_float, parse_int=_safe_int, parse_constant=_refuse_constant
)
_SORTED_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), sort_keys=True
)
_ORDERED_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), sort_keys=False
)
