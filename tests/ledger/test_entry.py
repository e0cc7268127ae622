"""A ledger entry: checked when built, encoded canonically, decoded only from its exact bytes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assistgate.ledger import Entry, EntryError, leaf_hash, parse_timestamp, utc_timestamp

from .factories import make_entry


class Event(enum.StrEnum):
    REQUEST_CREATED = "request:created"


def test_a_timestamp_is_utc_with_microseconds_and_z() -> None:
    moment = dt.datetime(
        2017, 10, 2, 10, 3, 7, 123456, tzinfo=ZoneInfo("America/Kentucky/Louisville")
    )
    assert utc_timestamp(moment) == "2017-10-02T14:03:07.123456Z"
    assert utc_timestamp(dt.datetime(2017, 10, 2, 14, 3, 7, tzinfo=dt.UTC)) == (
        "2017-10-02T14:03:07.000000Z"
    )


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    with pytest.raises(EntryError, match="naive datetime"):
        utc_timestamp(dt.datetime(2017, 10, 2, 14, 3, 7))


def test_a_timestamp_reads_back_as_the_same_moment() -> None:
    moment = dt.datetime(2017, 10, 2, 14, 3, 7, 123456, tzinfo=dt.UTC)
    assert parse_timestamp(utc_timestamp(moment)) == moment


@pytest.mark.parametrize(
    "text",
    [
        "2017-10-02T14:03:07Z",
        "2017-10-02T14:03:07.123Z",
        "2017-10-02T14:03:07.123456+00:00",
        "2017-10-02 14:03:07.123456Z",
        "2017-13-02T14:03:07.123456Z",
        "2017-02-30T14:03:07.123456Z",
        "2017-10-02T14:03:07.123456z",
    ],
)
def test_a_timestamp_in_any_other_form_is_refused(text: str) -> None:
    with pytest.raises(EntryError, match="timestamp"):
        parse_timestamp(text)


def test_an_entry_encodes_all_its_fields_canonically_and_reads_back_equal() -> None:
    entry = Entry(
        seq=0,
        at="2017-10-02T14:03:07.123456Z",
        actor="officer:417",
        event="request:created",
        subject="LMPD-2017-0001",
        data={"agency": "ICE", "note": "café"},
    )
    assert (
        entry.to_bytes()
        == (
            '{"actor":"officer:417","at":"2017-10-02T14:03:07.123456Z",'
            '"data":{"agency":"ICE","note":"café"},"event":"request:created","seq":0,'
            '"subject":"LMPD-2017-0001"}'
        ).encode()
    )
    assert Entry.from_bytes(entry.to_bytes()) == entry
    assert entry.leaf() == leaf_hash(entry.to_bytes())


def test_an_event_name_enum_encodes_as_its_text() -> None:
    entry = make_entry(0, event=Event.REQUEST_CREATED)
    assert b'"event":"request:created"' in entry.to_bytes()
    assert Entry.from_bytes(entry.to_bytes()) == entry


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"seq": -1}, "seq must be a non-negative integer"),
        ({"seq": True}, "seq must be a non-negative integer"),
        ({"seq": "1"}, "seq must be a non-negative integer"),
        ({"at": "2017-10-02T14:03:07Z"}, "timestamp"),
        ({"actor": ""}, "actor must be a non-empty string"),
        ({"event": "created"}, "event must look like subject:action"),
        ({"event": "Request:Created"}, "event must look like subject:action"),
        ({"subject": None}, "subject must be a string"),
        ({"data": []}, "data must be an object"),
        ({"data": {"speed": 1.5}}, r"data: \$\.speed: floats"),
        ({"data": {1: "x"}}, "is not a string"),
    ],
)
def test_an_invalid_field_is_refused_when_the_entry_is_built(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(EntryError, match=message):
        dataclasses.replace(make_entry(3), **changes)


def test_an_empty_subject_is_allowed() -> None:
    assert make_entry(0, subject="").subject == ""


GOOD = (
    b'{"actor":"a","at":"2017-10-02T14:03:07.123456Z","data":{},'
    b'"event":"request:created","seq":0,"subject":""}'
)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (GOOD.replace(b',"subject":""', b""), "missing \\['subject'\\]"),
        (GOOD.replace(b'"seq":0', b'"extra":1,"seq":0'), "unexpected \\['extra'\\]"),
        (GOOD.replace(b'""}', b'"" }'), "canonical"),
        (
            GOOD.replace(b'"actor":"a","at":', b'"at":').replace(b'"data"', b'"actor":"a","data"'),
            "canonical",
        ),
        (GOOD.replace(b'"seq":0', b'"seq":0.0'), "not an integer"),
    ],
    ids=["missing field", "extra field", "trailing space", "reordered", "float seq"],
)
def test_bytes_that_are_not_exactly_an_entry_are_refused(line: bytes, message: str) -> None:
    assert Entry.from_bytes(GOOD).seq == 0
    with pytest.raises(EntryError, match=message):
        Entry.from_bytes(line)
