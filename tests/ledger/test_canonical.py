"""Canonical JSON: one value, one byte string; anything else is refused with a typed error.

Known answers: cyberphone/json-canonicalization (the RFC 8785 reference test data),
testdata/input and testdata/output, files weird.json (commit 77917fbd5d923bca23a9b5eb8851deec
918016bf), french.json (b01b0235cf94374efe5d11d00a86a11054756374), structures.json
(72a2163bae9803964410d89cea8874787a95718b) and unicode.json
(ff225671c5de178c946aad33ac5ef454d236505e).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from assistgate.ledger import (
    MalformedJsonError,
    NotCanonicalError,
    UnsupportedValueError,
    canonical_json,
    parse_canonical,
)
from assistgate.ledger.canonical import MAX_SAFE_INTEGER

# weird.json: keys sorted by UTF-16 code unit, so the emoji (U+1F602, high surrogate D83D)
# comes before U+FB33; U+0080 and U+007F are written raw, "/" is not escaped.
WEIRD_INPUT = (
    '{"\\u20ac": "Euro Sign", "1": "One", "\\u0080": "Control\\u007f", '
    '"\\ud83d\\ude02": "Smiley", "\\u00f6": "Latin Small Letter O With Diaeresis", '
    '"\\ufb33": "Hebrew Letter Dalet With Dagesh", "</script>": "Browser Challenge"}'
)
WEIRD_OUTPUT = (
    '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f",'
    '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
    '"\U0001f602":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
).encode()
FRENCH_INPUT = {
    "peach": "This sorting order",
    "péché": "is wrong according to French",
    "pêche": "but canonicalization MUST",
    "sin": "ingnore locale",
}
FRENCH_OUTPUT = (
    '{"peach":"This sorting order","péché":"is wrong according to French",'
    '"pêche":"but canonicalization MUST","sin":"ingnore locale"}'
).encode()
# structures.json holds 56.0, which RFC 8785 prints as 56; we refuse the float, so the
# input here carries the integer 56 and the published output is unchanged.
STRUCTURES_INPUT = '{"1": {"f": {"f": "hi","F": 5} ,"\\n": 56}, "10": { }, "": "empty", "a": { }, "111": [ { } ], "A": { }}'  # noqa: E501
STRUCTURES_OUTPUT = (
    b'{"":"empty","1":{"\\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}'
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (json.loads(WEIRD_INPUT), WEIRD_OUTPUT),
        (FRENCH_INPUT, FRENCH_OUTPUT),
        (json.loads(STRUCTURES_INPUT), STRUCTURES_OUTPUT),
        ({"Unnormalized Unicode": "\u1e0d\u0307"}, '{"Unnormalized Unicode":"ḍ̇"}'.encode()),
    ],
    ids=["weird", "french", "structures", "unicode"],
)
def test_the_rfc_8785_reference_outputs_are_reproduced(value: object, expected: bytes) -> None:
    assert canonical_json(value) == expected
    assert parse_canonical(expected) == value


def test_keys_are_sorted_at_every_depth_and_nothing_is_spaced() -> None:
    value = {"b": 1, "a": {"z": [3, {"y": None, "x": True}], "m": "é"}}
    assert canonical_json(value) == '{"a":{"m":"é","z":[3,{"x":true,"y":null}]},"b":1}'.encode()


def test_unicode_is_written_as_utf8_not_escaped_but_control_characters_are() -> None:
    assert canonical_json({"s": "é\u2028😀"}) == '{"s":"é\u2028😀"}'.encode()
    assert canonical_json({"s": '\n\t\x01"\\'}) == b'{"s":"\\n\\t\\u0001\\"\\\\"}'


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"x": 1.0}, "$.x"),
        ({"x": 0.1}, "$.x"),
        ({"x": float("nan")}, "$.x"),
        ({"x": float("inf")}, "$.x"),
        ({"data": {"list": [1, 2, -0.0]}}, "$.data.list[2]"),
    ],
)
def test_floats_are_refused_naming_where_they_are(value: object, path: str) -> None:
    with pytest.raises(UnsupportedValueError, match=f"^{re.escape(path)}: floats"):
        canonical_json(value)


@pytest.mark.parametrize(
    "value",
    [{1: "a"}, {True: "a"}, {None: "a"}, {("t",): "a"}],
    ids=["int key", "bool key", "None key", "tuple key"],
)
def test_keys_that_are_not_strings_are_refused_not_converted(value: dict[Any, str]) -> None:
    with pytest.raises(UnsupportedValueError, match="is not a string"):
        canonical_json(value)


@pytest.mark.parametrize(
    "value",
    [(1, 2), {1, 2}, b"bytes", object()],
    ids=["tuple", "set", "bytes", "object"],
)
def test_values_json_has_no_single_form_for_are_refused(value: object) -> None:
    with pytest.raises(UnsupportedValueError, match="no canonical JSON encoding"):
        canonical_json({"v": value})


def test_integers_beyond_what_every_json_reader_holds_exactly_are_refused() -> None:
    assert canonical_json({"n": MAX_SAFE_INTEGER}) == b'{"n":9007199254740991}'
    assert canonical_json({"n": -MAX_SAFE_INTEGER}) == b'{"n":-9007199254740991}'
    with pytest.raises(UnsupportedValueError, match="outside"):
        canonical_json({"n": MAX_SAFE_INTEGER + 1})
    with pytest.raises(UnsupportedValueError):
        parse_canonical(b'{"n":9007199254740992}')


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(UnsupportedValueError, match="lone surrogate"):
        canonical_json({"s": "\ud800"})
    with pytest.raises(UnsupportedValueError, match="lone surrogate"):
        parse_canonical(b'{"s":"\\ud800"}')


@pytest.mark.parametrize(
    "line",
    [
        b'{"b":1,"a":2}',  # keys reordered
        b'{"a":2, "b":1}',  # a space
        b'{"a":2,"b":1}\n',  # a trailing newline
        b' {"a":2,"b":1}',  # a leading space
        b'{"a":"\\u00e9"}',  # an escape where UTF-8 belongs
        b'{"a":"\\/"}',  # an escaped solidus
        b'{"a":-0}',  # negative zero
        b'{"a":1,"a":1}',  # a duplicate key
        b'\xef\xbb\xbf{"a":1}',  # a byte order mark
    ],
)
def test_bytes_that_are_not_exactly_canonical_are_refused(line: bytes) -> None:
    with pytest.raises((NotCanonicalError, MalformedJsonError)):
        parse_canonical(line)


def test_a_reordered_line_is_refused_with_the_byte_where_it_differs() -> None:
    with pytest.raises(NotCanonicalError, match="at byte 2"):
        parse_canonical(b'{"b":1,"a":2}')


def test_keys_in_code_point_order_instead_of_utf16_order_are_refused() -> None:
    code_point_order = '{"\ufb33":1,"\U0001f602":2}'.encode()
    with pytest.raises(NotCanonicalError):
        parse_canonical(code_point_order)
    assert parse_canonical('{"\U0001f602":2,"\ufb33":1}'.encode()) == {"\ufb33": 1, "\U0001f602": 2}


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b'{"a":1.0}', UnsupportedValueError),
        (b'{"a":1e3}', UnsupportedValueError),
        (b'{"a":NaN}', UnsupportedValueError),
        (b'{"a":Infinity}', UnsupportedValueError),
        (b"[1,2]", MalformedJsonError),
        (b'"text"', MalformedJsonError),
        (b'{"a":1', MalformedJsonError),
        (b'{"a":"\xff"}', MalformedJsonError),
        (b"", MalformedJsonError),
        (b"[" * 100_000, MalformedJsonError),
        (b'{"a":' + b"1" * 5000 + b"}", MalformedJsonError),
    ],
    ids=[
        "1.0",
        "1e3",
        "NaN",
        "Infinity",
        "array",
        "string",
        "truncated",
        "not utf-8",
        "empty",
        "deep",
        "huge",
    ],
)
def test_what_is_not_a_canonical_object_is_refused_with_a_typed_error(
    line: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        parse_canonical(line)


def test_parsing_gives_back_the_value_that_was_encoded() -> None:
    value = {"seq": 7, "data": {"list": [1, "two", None, False], "é": {"": -3}}}
    assert parse_canonical(canonical_json(value)) == value
