"""Signed checkpoints: the body format, the signature, and every way a forgery is refused."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assistgate.ledger import (
    BadSignatureError,
    Checkpoint,
    KeyMismatchError,
    MalformedCheckpointError,
    SignedCheckpoint,
    key_id,
    sign_checkpoint,
    verify_checkpoint,
)

from .factories import FIXED_KEY
from .vectors import ROOTS

CHECKPOINT = Checkpoint(
    origin="assistgate.example/louisville-lmpd",
    size=8,
    root=ROOTS[8],
    at="2017-10-02T14:03:07.123456Z",
)
OTHER_KEY = Ed25519PrivateKey.generate()


def test_the_body_is_the_checkpoint_note_format_with_a_timestamp_line() -> None:
    assert CHECKPOINT.to_body() == (
        b"assistgate.example/louisville-lmpd\n"
        b"8\n"
        b"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
        b"2017-10-02T14:03:07.123456Z\n"
    )
    assert Checkpoint.from_body(CHECKPOINT.to_body()) == CHECKPOINT


def test_the_key_id_is_the_first_8_bytes_of_sha256_of_the_raw_public_key() -> None:
    # The public key of RFC 8032 section 7.1 TEST 1, whose secret key FIXED_KEY is.
    raw = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert key_id(FIXED_KEY.public_key()) == hashlib.sha256(raw).digest()[:8].hex()
    assert key_id(FIXED_KEY.public_key()) == "21fe31dfa154a261"


def test_a_signed_checkpoint_verifies_and_survives_a_json_round_trip() -> None:
    signed = sign_checkpoint(CHECKPOINT, FIXED_KEY)
    assert verify_checkpoint(signed, FIXED_KEY.public_key()) == CHECKPOINT
    again = SignedCheckpoint.from_json(signed.to_json())
    assert again == signed
    assert verify_checkpoint(again, FIXED_KEY.public_key()) == CHECKPOINT


def test_the_signature_of_a_fixed_checkpoint_does_not_change() -> None:
    # Produced by this code when it was written (Ed25519 is deterministic): if the body
    # format changes, every checkpoint already published stops verifying, and this fails.
    assert sign_checkpoint(CHECKPOINT, FIXED_KEY).to_json() == {
        "origin": "assistgate.example/louisville-lmpd",
        "size": 8,
        "root": "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
        "at": "2017-10-02T14:03:07.123456Z",
        "key_id": "21fe31dfa154a261",
        "signature": (
            "0+56vgSRLo3GEDpMmY2DowAGQ2UB0ci38S/pwpgXqkO57yNEPOfCFXX63jch0ynJyZrrC7mVMANZLWrZkJCaBg=="
        ),
    }


@pytest.mark.parametrize("bit", [0, 7, 255, 511])
def test_a_flipped_bit_in_the_signature_is_refused(bit: int) -> None:
    signed = sign_checkpoint(CHECKPOINT, FIXED_KEY)
    sig = bytearray(signed.signature)
    sig[bit // 8] ^= 1 << (bit % 8)
    forged = dataclasses.replace(signed, signature=bytes(sig))
    with pytest.raises(BadSignatureError, match="does not verify with key 21fe31dfa154a261"):
        verify_checkpoint(forged, FIXED_KEY.public_key())


def test_a_checkpoint_signed_by_another_key_is_refused_by_key_id() -> None:
    signed = sign_checkpoint(CHECKPOINT, OTHER_KEY)
    with pytest.raises(KeyMismatchError, match="expected key 21fe31dfa154a261"):
        verify_checkpoint(signed, FIXED_KEY.public_key())


def test_a_checkpoint_signed_by_another_key_under_our_key_id_is_refused_by_signature() -> None:
    signed = dataclasses.replace(
        sign_checkpoint(CHECKPOINT, OTHER_KEY), key_id=key_id(FIXED_KEY.public_key())
    )
    with pytest.raises(BadSignatureError):
        verify_checkpoint(signed, FIXED_KEY.public_key())


@pytest.mark.parametrize(
    "change",
    [
        {"size": 9},
        {"size": 7},
        {"root": ROOTS[7]},
        {"at": "2017-10-02T14:03:07.123457Z"},
        {"origin": "assistgate.example/other"},
    ],
    ids=["size up", "size down", "root", "time", "origin"],
)
def test_a_changed_field_breaks_the_signature(change: dict[str, Any]) -> None:
    signed = sign_checkpoint(CHECKPOINT, FIXED_KEY)
    forged = dataclasses.replace(signed, checkpoint=dataclasses.replace(CHECKPOINT, **change))
    with pytest.raises(BadSignatureError):
        verify_checkpoint(forged, FIXED_KEY.public_key())


def _json(**changes: Any) -> dict[str, Any]:
    obj = sign_checkpoint(CHECKPOINT, FIXED_KEY).to_json()
    obj.update(changes)
    return {k: v for k, v in obj.items() if v is not None}


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (_json(signature=None), "must have fields"),
        (_json(extra="x"), "must have fields"),
        (_json(size=-1), "size must be a non-negative integer"),
        (_json(size="8"), "size must be a non-negative integer"),
        (_json(size=True), "size must be a non-negative integer"),
        (_json(root="XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg"), "not base64"),
        (_json(root="XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh="), "not canonical base64"),
        (_json(root="AAAA"), "root must be 32 bytes"),
        (_json(signature="AAAA"), "signature must be 64 bytes"),
        (_json(key_id="21FE31DFA154A261"), "key_id must be 16 lowercase hex digits"),
        (_json(origin="two words"), "origin must be non-empty printable text"),
        (_json(origin=""), "origin must be non-empty printable text"),
        (_json(at="2017-10-02T14:03:07Z"), "at must be a UTC timestamp"),
    ],
    ids=[
        "no signature",
        "extra field",
        "negative size",
        "size as text",
        "size as bool",
        "unpadded root",
        "non-zero padding bits",
        "short root",
        "short signature",
        "upper-case key id",
        "origin with a space",
        "empty origin",
        "timestamp without microseconds",
    ],
)
def test_a_malformed_checkpoint_is_refused_naming_the_field(
    obj: dict[str, Any], message: str
) -> None:
    with pytest.raises(MalformedCheckpointError, match=message):
        SignedCheckpoint.from_json(obj)


@pytest.mark.parametrize(
    "body",
    [
        CHECKPOINT.to_body()[:-1],
        CHECKPOINT.to_body() + b"extra\n",
        CHECKPOINT.to_body().replace(b"\n8\n", b"\n08\n"),
        CHECKPOINT.to_body().replace(b"\n8\n", b"\n+8\n"),
        CHECKPOINT.to_body().replace(b"\n", b"\r\n"),
    ],
    ids=["no final newline", "extra line", "leading zero", "plus sign", "CRLF"],
)
def test_another_spelling_of_the_body_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedCheckpointError):
        Checkpoint.from_body(body)
