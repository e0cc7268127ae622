"""The outbox: a notification is written with the change it reports, or not at all."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, update

from assistgate.app import App
from assistgate.integrations.models import OutboxMessage, WebhookEndpoint
from assistgate.requests import service
from tests.factories import WARRANT_FACTS, new_request
from tests.integrations.helpers import add_endpoint, cancel, decide, dispatch


def messages(app: App) -> list[OutboxMessage]:
    with app.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def body(message: OutboxMessage) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(message.body)
    return decoded


def test_a_decision_writes_one_notification_per_active_endpoint(app: App) -> None:
    add_endpoint(app, name="cad-main", url="http://127.0.0.1:9/a")
    add_endpoint(app, name="cad-backup", url="http://127.0.0.1:9/b")
    add_endpoint(app, name="old-cad", url="http://127.0.0.1:9/c")
    with app.transaction() as session:
        session.execute(update(WebhookEndpoint).where(WebhookEndpoint.name == "old-cad")
                        .values(active=False))  # fmt: skip
    ref = new_request(app, cad_incident_id="LMPD-18-0042").ref
    assert messages(app) == [], "an intake alone notifies nobody"

    decide(app, ref)

    written = messages(app)
    assert len(written) == 2
    assert {m.event for m in written} == {"request:decided"}
    assert written[0].body == written[1].body, "every endpoint gets the same signed body"
    sent = body(written[0])
    assert sent["event"] == "request:decided"
    assert sent["ref"] == ref
    assert sent["cad_incident_id"] == "LMPD-18-0042"
    assert sent["state"] == "dispatch_approved"
    assert sent["decision"]["outcome"] == "dispatch"
    assert sent["decision"]["approved_actions"] == ["serve_criminal_warrant"]
    assert "knock_and_talk" in sent["decision"]["prohibited_actions"]
    assert "criminal_warrant" in sent["decision"]["grounds"]
    assert sent["at"].endswith("Z")
    assert written[0].body == json.dumps(sent, sort_keys=True, separators=(",", ":")).encode()


def test_a_step_rolled_back_leaves_no_notification_behind(app: App) -> None:
    add_endpoint(app, name="cad-main", url="http://127.0.0.1:9/a")
    ref = new_request(app).ref
    with app.transaction() as session:
        service.claim(session, app.deployment, actor=app.user(session, "lt.okafor"), ref=ref)

    def decide_then_fail() -> None:
        with app.transaction() as session:
            service.decide(session, app.deployment, actor=app.user(session, "lt.okafor"),
                           ref=ref, facts=WARRANT_FACTS,
                           approve=["serve_criminal_warrant"])  # fmt: skip
            assert len(session.scalars(select(OutboxMessage)).all()) == 1
            raise RuntimeError("the process fails before the commit")

    with pytest.raises(RuntimeError):
        decide_then_fail()

    assert messages(app) == []
    with app.sessions() as session:
        assert service.get_request(session, ref).state == "under_review"


def test_dispatch_and_cancellation_notify_but_claims_do_not(app: App) -> None:
    add_endpoint(app, name="cad-main", url="http://127.0.0.1:9/a")
    first = new_request(app).ref
    decide(app, first)
    dispatch(app, first, units=("4A21", "4A22"))
    second = new_request(app).ref
    cancel(app, second)

    assert [(m.request_ref, m.event) for m in messages(app)] == [
        (first, "request:decided"),
        (first, "request:dispatched"),
        (second, "request:cancelled"),
    ]
    dispatched = body(messages(app)[1])
    assert dispatched["units"] == ["4A21", "4A22"]
    assert dispatched["decision"]["outcome"] == "dispatch"
    assert body(messages(app)[2])["decision"] is None


def test_without_an_endpoint_nothing_is_written(app: App) -> None:
    decide(app, new_request(app).ref)
    assert messages(app) == []


def test_closing_a_request_notifies_with_its_final_state(app: App) -> None:
    add_endpoint(app, name="cad-main", url="http://127.0.0.1:9/a")
    ref = new_request(app).ref
    decide(app, ref)
    dispatch(app, ref)
    with app.transaction() as session:
        okafor = app.user(session, "lt.okafor")
        service.record_arrival(session, app.deployment, actor=okafor, ref=ref)
        service.clear(session, app.deployment, actor=okafor, ref=ref)
        service.attach_recording(session, app.deployment, actor=okafor, ref=ref, sha256="ab" * 32)
        outcome = {"officer_actions": ["serve_criminal_warrant"], "immigration_status_asked": False}
        service.close(session, app.deployment, actor=okafor, ref=ref, outcome=outcome)

    events = [m.event for m in messages(app)]
    assert events == ["request:decided", "request:dispatched", "request:closed"]
    closed = body(messages(app)[-1])
    assert closed["state"] == "closed"
    assert closed["decision"]["outcome"] == "dispatch"
