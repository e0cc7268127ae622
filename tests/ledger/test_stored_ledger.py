"""The stored ledger against someone with database access: every change shows, by seq."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from assistgate.app import App
from assistgate.ledger.verify import VerifyReport, verify_database
from assistgate.requests import service
from tests.factories import WARRANT_FACTS, make_app, new_request

SHA = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[App]:
    app = make_app(database_url, tmp_path)
    _history(app)
    yield app
    app.close()


def _step(app: App, fn: Any, username: str, **kwargs: Any) -> Any:
    with app.transaction() as session:
        return fn(session, app.deployment, actor=app.user(session, username), **kwargs)


def _history(app: App) -> None:
    """Three requests: one closed after a dispatch, one declined, one still awaiting review."""
    first = new_request(app).ref
    _step(app, service.claim, "lt.okafor", ref=first)
    _step(
        app,
        service.decide,
        "lt.okafor",
        ref=first,
        facts=WARRANT_FACTS,
        approve=["serve_criminal_warrant"],
    )
    _step(app, service.record_dispatch, "cad", ref=first, units=["4A21"])
    _step(app, service.record_arrival, "lt.okafor", ref=first)
    _step(app, service.clear, "cad", ref=first)
    _step(app, service.attach_recording, "lt.okafor", ref=first, sha256=SHA)
    _step(
        app,
        service.close,
        "lt.okafor",
        ref=first,
        outcome={"officer_actions": ["serve_criminal_warrant"], "immigration_status_asked": False},
    )
    second = new_request(app, requested_actions=["traffic_stop"]).ref
    _step(app, service.claim, "lt.brandt", ref=second)
    _step(app, service.decide, "lt.brandt", ref=second, facts={}, approve=[])
    new_request(app, agency="cbp", requested_actions=["backup"])


def verify(app: App) -> VerifyReport:
    with app.sessions() as session:
        return verify_database(session, app.keys.ledger_public_key())


def tamper(app: App, sql: str, **params: Any) -> None:
    with app.engine.begin() as conn:
        conn.execute(text(sql), params)


def first(app: App) -> tuple[int | None, str]:
    report = verify(app)
    finding = report.first()
    assert finding is not None, "the tampering was not detected"
    return finding.seq, finding.message


def test_an_untouched_ledger_verifies_with_every_row_checked(app: App) -> None:
    report = verify(app)
    assert report.findings == []
    assert report.entries == 15
    assert (report.requests, report.decisions) == (3, 2)
    assert report.checkpoints == 1  # the signed head


def test_a_request_row_changed_directly_is_named_with_the_entry_that_set_the_field(
    app: App,
) -> None:
    # Someone turns the declined request into an approved one in the database.
    tamper(app, "UPDATE requests SET state = 'dispatch_approved' WHERE ref = 'AG-2018-0002'")
    seq, message = first(app)
    assert seq == 12  # request:decided of AG-2018-0002 set its state last
    assert "request AG-2018-0002 differs from its ledger entries in state" in message


def test_a_hidden_flag_for_review_is_caught(app: App) -> None:
    tamper(app, "UPDATE requests SET flagged_for_review = :f WHERE ref = 'AG-2018-0001'", f=True)
    assert "flagged_for_review" in first(app)[1]


def test_a_decision_changed_directly_is_caught(app: App) -> None:
    tamper(app, "UPDATE decisions SET note = 'approved by phone' WHERE id = 2")
    seq, message = first(app)
    assert (seq, message) == (
        12,
        "the decision on AG-2018-0002 differs from the one recorded in the ledger",
    )


def test_a_ledger_body_changed_without_its_hash_is_caught_at_that_entry(app: App) -> None:
    dispatched = 4  # created, alerted, claimed, decided, then dispatched
    tamper(
        app,
        "UPDATE ledger_entries SET body = :b WHERE seq = :s",
        b=_body(app, dispatched).replace(b"4A21", b"4A99"),
        s=dispatched,
    )
    seq, message = first(app)
    assert seq == dispatched
    assert "not the hash of the body" in message


def test_a_ledger_body_rewritten_with_a_fresh_hash_breaks_the_signed_checkpoint(app: App) -> None:
    from assistgate.ledger.hashing import leaf_hash

    forged = _body(app, 4).replace(b"4A21", b"4A99")
    assert forged != _body(app, 4)
    tamper(
        app,
        "UPDATE ledger_entries SET body = :b, leaf_hash = :h WHERE seq = 4",
        b=forged,
        h=leaf_hash(forged),
    )
    tamper(app, "UPDATE requests SET units = :u WHERE ref = 'AG-2018-0001'", u='["4A99"]')
    report = verify(app)
    messages = [str(f) for f in report.findings]
    assert any("does not match the entries" in m for m in messages), messages


def test_a_deleted_ledger_entry_is_named(app: App) -> None:
    tamper(app, "DELETE FROM ledger_entries WHERE seq = 7")
    assert first(app) == (
        7,
        "entry 7 is missing (the next stored entry is 8): deleted, or the ledger was reordered",
    )


def test_two_entries_swapped_are_caught_at_the_first(app: App) -> None:
    rows = {seq: _body(app, seq) for seq in (3, 4)}
    with app.engine.begin() as conn:
        for seq, other in ((3, 4), (4, 3)):
            conn.execute(
                text("UPDATE ledger_entries SET body = :b WHERE seq = :s"),
                {"b": rows[other], "s": seq},
            )
    assert first(app)[0] == 3


def test_a_deleted_request_is_caught(app: App) -> None:
    tamper(app, "DELETE FROM requests WHERE ref = 'AG-2018-0003'")
    seq, message = first(app)
    assert seq == 13
    assert "AG-2018-0003 is described by the ledger but missing from the register" in message


def test_a_request_inserted_outside_the_application_is_caught(app: App) -> None:
    tamper(
        app,
        """
        INSERT INTO requests (ref, received_at, state, agency, official_name, official_badge,
            callback_number, identity_check, identity_note, location, district, caller_words,
            requested_actions, call_taker, units, exceptions, flagged_for_review,
            cancel_reason, created_at)
        VALUES ('AG-2018-0099', '2018-03-01 10:00:00', 'closed', 'ice-ero', 'X', '', '',
            'not_verified', '', 'somewhere', '', 'x', '[]', 'nobody', '[]', '{}', false, '',
            '2018-03-01 10:00:00')""",
    )
    assert "AG-2018-0099 is in the register but no ledger entry describes it" in first(app)[1]


def test_the_last_entry_removed_with_the_head_rolled_back_is_caught(app: App) -> None:
    tamper(app, "DELETE FROM ledger_entries WHERE seq = 14")
    tamper(app, "UPDATE ledger_head SET size = 14")
    report = verify(app)
    assert not report.ok
    assert report.first() is not None


def _body(app: App, seq: int) -> bytes:
    with app.engine.connect() as conn:
        body = conn.execute(
            text("SELECT body FROM ledger_entries WHERE seq = :s"), {"s": seq}
        ).scalar_one()
    return bytes(body)


def test_every_kept_checkpoint_is_checked_even_two_of_the_same_size(app: App) -> None:
    for _ in range(2):
        with app.transaction() as session:
            app.deployment.ledger.keep_checkpoint(session)
    assert verify(app).checkpoints == 3
    with app.engine.begin() as conn:
        first_id = conn.execute(text("SELECT min(id) FROM ledger_checkpoints")).scalar_one()
        signed = conn.execute(
            text("SELECT signed FROM ledger_checkpoints WHERE id = :i"), {"i": first_id}
        ).scalar_one()
    import json

    forged = json.loads(signed) if isinstance(signed, str) else dict(signed)
    forged["root"] = forged["root"][::-1]
    tamper(
        app,
        "UPDATE ledger_checkpoints SET signed = :s WHERE id = :i",
        s=json.dumps(forged),
        i=first_id,
    )
    assert "does not verify" in first(app)[1]
