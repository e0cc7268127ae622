"""Signing in: banner, password, second factor, lockout, sign-out, security headers."""

from __future__ import annotations

from fastapi.testclient import TestClient
from playwright.sync_api import Page
from sqlalchemy import select

from assistgate.app import App
from assistgate.auth.models import User
from assistgate.ledger.models import LedgerEntryRow
from tests.web.conftest import browser_sign_in, sign_in


def events(app: App) -> list[str]:
    with app.sessions() as session:
        return [
            e.event for e in session.scalars(select(LedgerEntryRow).order_by(LedgerEntryRow.seq))
        ]


def test_the_login_page_shows_the_monitored_system_banner_and_security_headers(
    client: TestClient,
) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert "Restricted system" in page.text
    assert "recorded and may be" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"


def test_a_call_taker_signs_in_with_a_password_and_lands_on_intake(
    client: TestClient, web_app: App
) -> None:
    response = sign_in(client, "ct.alvarez")
    assert response.status_code == 303
    assert response.headers["location"] == "/intake"
    cookie = response.headers.get("set-cookie", "")
    assert "ag_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "auth:login" in events(web_app)


def test_a_commander_needs_the_second_factor_before_anything_else(client: TestClient) -> None:
    client.get("/login")
    csrf = client.cookies.get("ag_login_csrf")
    first = client.post("/login", data={"username": "lt.okafor", "password":
                        "correct horse battery staple", "csrf_token": csrf},
                        follow_redirects=False)  # fmt: skip
    assert first.headers["location"] == "/login/second-factor"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login/second-factor"
    done = sign_in(client, "lt.okafor")
    assert done.headers["location"] == "/queue"


def test_five_failed_sign_ins_lock_the_account_even_for_the_right_password(
    client: TestClient, web_app: App
) -> None:
    for _ in range(5):
        assert sign_in(client, "ct.alvarez", "wrong password here").status_code == 401
    locked = sign_in(client, "ct.alvarez")
    assert locked.status_code == 401
    assert "locked" in locked.text
    with web_app.sessions() as session:
        user = session.scalars(select(User).where(User.username == "ct.alvarez")).one()
        assert user.locked_at is not None
    assert events(web_app).count("auth:login_failed") == 5
    assert "auth:account_locked" in events(web_app)


def test_a_login_without_the_forms_token_is_refused(client: TestClient) -> None:
    response = client.post("/login", data={"username": "ct.alvarez", "password": "x" * 20,
                                           "csrf_token": "forged"})  # fmt: skip
    assert response.status_code == 401
    assert "expired" in response.text


def test_signing_out_ends_the_session(client: TestClient, web_app: App) -> None:
    sign_in(client, "ct.alvarez")
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/intake"
    token = client.cookies.get("ag_session")
    assert token
    with web_app.sessions() as session:
        from assistgate.auth.sessions import lookup_session

        state = lookup_session(session, token, touch=False)
        assert state is not None
        csrf = state.session.csrf_token
    client.post("/logout", data={"csrf_token": csrf})
    client.cookies.set("ag_session", token)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert "auth:logout" in events(web_app)


def test_a_person_signs_in_through_the_screens_in_chromium(live_server: str, page: Page) -> None:
    browser_sign_in(page, live_server, "lt.okafor")
    assert page.url.endswith("/queue") or "/queue" in page.url
