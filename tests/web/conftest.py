"""Fixtures for the web service: an app with people who can sign in, a test client, a live
server on loopback, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from assistgate.app import App
from assistgate.auth.models import User
from assistgate.auth.security import hash_password
from assistgate.db.base import utcnow
from assistgate.web.app import create_web_app
from tests.factories import PEOPLE, make_app

PASSWORD = "correct horse battery staple"
# A known TOTP secret per person who needs a second factor, so tests can compute codes.
TOTP = {name: pyotp.random_base32() for name in PEOPLE}


def give_passwords(app: App) -> None:
    """Give every person the test password and an enrolled second factor."""
    with app.transaction() as session:
        for user in session.query(User):
            user.password_hash = hash_password(PASSWORD)
            user.totp_secret = TOTP[user.username]
            user.totp_enrolled_at = utcnow()


@pytest.fixture
def web_app(database_url: str, tmp_path: Path) -> Iterator[App]:
    app = make_app(database_url, tmp_path, environment="demo")
    give_passwords(app)
    yield app
    app.close()


@pytest.fixture
def client(web_app: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(web_app), base_url="http://127.0.0.1") as c:
        yield c


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    """Sign in through the real forms (password, then the second factor when needed)."""
    client.get("/login")
    csrf = client.cookies.get("ag_login_csrf")
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    if response.headers.get("location") == "/login/second-factor":
        page = client.get("/login/second-factor")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post("/login/second-factor",
                               data={"code": pyotp.TOTP(TOTP[username]).now(),
                                     "csrf_token": token}, follow_redirects=False)  # fmt: skip
    return response


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def live_server(web_app: App) -> Iterator[str]:
    """Serve the app on a free loopback port in a thread; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_web_app(web_app), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    pg = context.new_page()
    yield pg
    context.close()


def browser_sign_in(page: Page, base: str, username: str) -> None:
    """Sign in through the screens, as a person would."""
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if "/login/second-factor" in page.url:
        page.get_by_label("Six-digit code").fill(pyotp.TOTP(TOTP[username]).now())
        page.get_by_role("button", name="Continue").click()
