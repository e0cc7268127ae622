"""The administrator's screens: accounts, roles, locks, second factors, tokens, endpoints, and
the re-authentication every change asks for when the sign-in is stale."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistgate.app import App
from assistgate.auth import security
from assistgate.auth.models import ApiToken, User, WebSession
from assistgate.auth.sessions import create_token, lookup_session, lookup_token
from assistgate.db.base import utcnow
from assistgate.integrations.models import WebhookEndpoint
from assistgate.ledger.entry import Entry
from assistgate.ledger.models import LedgerEntryRow
from assistgate.web.app import create_web_app
from tests.web.conftest import PASSWORD, sign_in

NEW_PASSWORD = "a long initial passphrase"


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords with Argon2id at its cheapest: the same code, a hundredth of the time
    (the production parameters are exercised by test_sign_in.py)."""
    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                            parallelism=1))  # fmt: skip


def ledger(app: App, event: str) -> list[dict[str, Any]]:
    """Return the data of every ledger entry named `event`, with its actor and subject."""
    with app.sessions() as db:
        rows = db.scalars(select(LedgerEntryRow).where(LedgerEntryRow.event == event)
                          .order_by(LedgerEntryRow.seq))  # fmt: skip
        return [{"actor": r.actor, "subject": r.subject, **Entry.from_bytes(r.body).data}
                for r in rows]  # fmt: skip


def token_on(html: str) -> str:
    """Return the CSRF token of the forms on a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no form with a CSRF token on the page"
    return found.group(1)


def post(client: TestClient, url: str, page: str, **form: Any) -> Any:
    """Submit a form found on `page` (its CSRF token included), without following redirects."""
    token = token_on(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **form}, follow_redirects=False)


def user(app: App, username: str) -> User:
    with app.sessions() as db:
        return db.scalars(select(User).where(User.username == username)).one()


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    assert sign_in(client, "admin.kim").headers["location"] == "/admin"
    return client


def other_client(app: App) -> TestClient:
    return TestClient(create_web_app(app), base_url="http://127.0.0.1")


def test_an_administrator_adds_a_person_who_must_choose_their_own_password(
    admin: TestClient, web_app: App
) -> None:
    listing = admin.get("/admin")
    assert "ct.alvarez" in listing.text
    assert "admin.kim" in listing.text
    weak = post(admin, "/admin/users", "/admin/users/new", username="ct.osei",
                display_name="K. Osei, call taker", roles=["call_taker"],
                initial_password="short")  # fmt: skip
    assert weak.status_code == 400
    assert "at least 12 characters" in weak.text
    added = post(admin, "/admin/users", "/admin/users/new", username="ct.osei",
                 display_name="K. Osei, call taker", roles=["call_taker"],
                 initial_password=NEW_PASSWORD)  # fmt: skip
    assert added.headers["location"] == "/admin/users/ct.osei?done=added"
    assert "must change it at first sign-in" in admin.get(added.headers["location"]).text
    assert ledger(web_app, "admin:user_added") == [
        {"actor": "admin.kim", "subject": "user:ct.osei", "roles": ["call_taker"],
         "initial_password": True}
    ]  # fmt: skip
    assert user(web_app, "ct.osei").password_must_change

    with other_client(web_app) as person:
        assert sign_in(person, "ct.osei", NEW_PASSWORD).status_code == 303
        with web_app.sessions() as db:
            state = lookup_session(db, person.cookies.get("ag_session"), touch=False)
            assert state is not None
            assert state.needs_password_change
        page = person.get("/account/password")
        assert "An administrator set your current password" in page.text
        changed = post(person, "/account/password", "/account/password",
                       current_password=NEW_PASSWORD, new_password="my own secret phrase",
                       confirm_password="my own secret phrase")  # fmt: skip
        assert changed.headers["location"] == "/account/password?done=1"
    assert not user(web_app, "ct.osei").password_must_change
    assert [e["actor"] for e in ledger(web_app, "auth:password_changed")] == ["ct.osei"]
    with other_client(web_app) as again:
        assert sign_in(again, "ct.osei", "my own secret phrase").headers["location"] == "/intake"


def test_changing_roles_or_deactivating_ends_the_persons_sessions(
    admin: TestClient, web_app: App
) -> None:
    with other_client(web_app) as person:
        sign_in(person, "ct.alvarez")
        assert person.get("/", follow_redirects=False).headers["location"] == "/intake"
        done = post(admin, "/admin/users/ct.alvarez/roles", "/admin/users/ct.alvarez",
                    roles=["call_taker", "auditor"])  # fmt: skip
        assert done.headers["location"] == "/admin/users/ct.alvarez?done=roles"
        assert person.get("/", follow_redirects=False).headers["location"] == "/login"
    assert user(web_app, "ct.alvarez").roles == {"call_taker", "auditor"}
    [event] = ledger(web_app, "admin:user_roles_changed")
    assert event["before"] == ["call_taker"]
    assert event["after"] == ["auditor", "call_taker"]
    assert event["sessions_ended"] == 1

    mixed = post(admin, "/admin/users/ct.alvarez/roles", "/admin/users/ct.alvarez",
                 roles=["call_taker", "dispatch_system"])  # fmt: skip
    assert mixed.status_code == 400
    assert "cannot be combined" in mixed.text

    assert (
        post(admin, "/admin/users/lt.okafor/deactivate", "/admin/users/lt.okafor")
        .headers["location"]
        .endswith("done=deactivated")
    )
    with other_client(web_app) as person:
        assert sign_in(person, "lt.okafor").status_code == 401
    post(admin, "/admin/users/lt.okafor/reactivate", "/admin/users/lt.okafor")
    with other_client(web_app) as person:
        assert sign_in(person, "lt.okafor").headers["location"] == "/queue"
    assert len(ledger(web_app, "admin:user_deactivated")) == 1
    assert len(ledger(web_app, "admin:user_reactivated")) == 1


def test_a_locked_account_is_unlocked_and_its_failure_count_starts_again(
    admin: TestClient, web_app: App
) -> None:
    with other_client(web_app) as person:
        for _ in range(5):
            sign_in(person, "ct.alvarez", "not the password at all")
        assert "locked" in sign_in(person, "ct.alvarez").text
        assert "ct.alvarez" in admin.get("/admin").text
        assert "Unlock" in admin.get("/admin/users/ct.alvarez").text
        done = post(admin, "/admin/users/ct.alvarez/unlock", "/admin/users/ct.alvarez")
        assert done.headers["location"].endswith("done=unlocked")
        # One more typo does not lock it again at once.
        assert sign_in(person, "ct.alvarez", "not the password at all").status_code == 401
        assert sign_in(person, "ct.alvarez").headers["location"] == "/intake"
    [event] = ledger(web_app, "admin:user_unlocked")
    assert event["subject"] == "user:ct.alvarez"
    assert event["failures_cleared"] == 5


def test_resetting_a_second_factor_makes_the_person_enrol_again(
    admin: TestClient, web_app: App
) -> None:
    post(admin, "/admin/users/lt.okafor/second-factor/reset", "/admin/users/lt.okafor")
    assert user(web_app, "lt.okafor").totp_enrolled_at is None
    with other_client(web_app) as person:
        person.get("/login")
        first = person.post("/login", data={"username": "lt.okafor", "password": PASSWORD,
                                            "csrf_token": person.cookies.get("ag_login_csrf")},
                            follow_redirects=False)  # fmt: skip
        assert first.headers["location"] == "/login/second-factor"
        assert "Secret key" in person.get("/login/second-factor").text
    assert ledger(web_app, "admin:second_factor_reset")[0]["subject"] == "user:lt.okafor"


def test_an_administrator_cannot_change_their_own_account_here(
    admin: TestClient, web_app: App
) -> None:
    page = admin.get("/admin/users/admin.kim")
    assert "This is your own account" in page.text
    assert "/deactivate" not in page.text
    refused = post(admin, "/admin/users/admin.kim/deactivate", "/admin/users/ct.alvarez")
    assert refused.headers["location"] == "/admin/users/admin.kim?error=self"
    assert "another administrator must" in admin.get(refused.headers["location"]).text
    assert user(web_app, "admin.kim").active
    assert ledger(web_app, "admin:user_deactivated") == []


def test_tokens_are_listed_and_revoked_and_endpoints_shown_without_secrets(
    admin: TestClient, web_app: App
) -> None:
    with web_app.transaction() as db:
        cad = db.scalars(select(User).where(User.username == "cad")).one()
        secret = create_token(db, name="metrosafe-cad", scopes=["requests:write"], user=cad)
        db.add(WebhookEndpoint(name="metrosafe", url="https://cad:hunter2@cad.example/hook",
                               secret="whsec-do-not-show", created_at=utcnow()))  # fmt: skip
    listing = admin.get("/admin/tokens")
    assert "metrosafe-cad" in listing.text
    assert secret not in listing.text
    with web_app.sessions() as db:
        token_id = db.scalars(select(ApiToken.id)).one()
    done = post(admin, f"/admin/tokens/{token_id}/revoke", "/admin/tokens")
    assert done.headers["location"] == "/admin/tokens?done=revoked"
    with web_app.sessions() as db:
        assert lookup_token(db, secret) is None
    assert ledger(web_app, "admin:token_revoked")[0]["name"] == "metrosafe-cad"
    endpoints = admin.get("/admin/endpoints").text
    assert "https://cad.example/hook" in endpoints
    assert "hunter2" not in endpoints
    assert "whsec-do-not-show" not in endpoints


def test_a_change_after_fifteen_minutes_asks_for_the_password_again(
    admin: TestClient, web_app: App
) -> None:
    token = token_on(admin.get("/admin/users/ct.alvarez").text)
    with web_app.transaction() as db:
        for row in db.scalars(select(WebSession)):
            row.authenticated_at = utcnow() - dt.timedelta(minutes=20)
    stale = admin.post("/admin/users/ct.alvarez/deactivate", data={"csrf_token": token},
                       follow_redirects=False)  # fmt: skip
    assert stale.headers["location"] == "/reauth?next=/admin/users/ct.alvarez"
    assert user(web_app, "ct.alvarez").active
    wrong = post(admin, "/reauth", "/reauth?next=/admin/users/ct.alvarez",
                 password="not my password", next="/admin/users/ct.alvarez")  # fmt: skip
    assert wrong.status_code == 401
    assert "five wrong passwords" in wrong.text
    right = post(admin, "/reauth", "/reauth?next=/admin/users/ct.alvarez", password=PASSWORD,
                 next="/admin/users/ct.alvarez")  # fmt: skip
    assert right.headers["location"] == "/admin/users/ct.alvarez"
    done = post(admin, "/admin/users/ct.alvarez/deactivate", "/admin/users/ct.alvarez")
    assert done.headers["location"].endswith("done=deactivated")
    assert [e["actor"] for e in ledger(web_app, "auth:reauth_failed")] == ["admin.kim"]
    assert [e["actor"] for e in ledger(web_app, "auth:reauthenticated")] == ["admin.kim"]
    # An address elsewhere is never a place to go back to.
    offsite = post(admin, "/reauth", "/reauth", password=PASSWORD, next="//evil.example/")
    assert offsite.headers["location"] == "/admin"


def test_five_wrong_passwords_at_reauthentication_lock_the_account(
    admin: TestClient, web_app: App
) -> None:
    for _ in range(4):
        assert post(admin, "/reauth", "/reauth", password="guess " * 3).status_code == 401
    locked = post(admin, "/reauth", "/reauth", password="guess " * 3)
    assert locked.headers["location"].startswith("/login")
    assert user(web_app, "admin.kim").locked_at is not None
    assert admin.get("/admin", follow_redirects=False).headers["location"].startswith("/login")
    assert len(ledger(web_app, "auth:account_locked")) == 1


def test_the_ledger_still_verifies_after_administrative_changes(
    admin: TestClient, web_app: App, tmp_path: Path
) -> None:
    post(admin, "/admin/users/ct.alvarez/roles", "/admin/users/ct.alvarez",
         roles=["call_taker", "commander"])  # fmt: skip
    post(admin, "/admin/users/ct.alvarez/password", "/admin/users/ct.alvarez",
         password="handed over in person")  # fmt: skip
    from assistgate.ledger.verify import verify_database

    with web_app.sessions() as db:
        assert verify_database(db, web_app.keys.ledger_public_key()).ok
    assert user(web_app, "ct.alvarez").password_must_change
