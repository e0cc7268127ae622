"""Browser-facing protections: security headers on every response, no inline script or style
in any template, session cookies the browser keeps to itself, and forms refused without their
CSRF token."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

import assistgate.web
from assistgate.app import App
from assistgate.auth import security
from assistgate.auth.models import User
from assistgate.auth.sessions import lookup_session, start_session
from assistgate.db.base import utcnow
from assistgate.web.app import create_web_app
from tests.factories import make_app
from tests.web.conftest import give_passwords, sign_in
from tests.web.test_permissions import PERSONS, TABLE, USER_OF, Fixture, app_routes, prepare

TEMPLATES = Path(assistgate.web.__file__).parent / "templates"
# FastAPI's own API explorers load their script from a CDN and run inline script; the CSP
# blocks them (see the report), so only their headers are checked, not their bodies.
FOREIGN_PAGES = {"/docs", "/redoc", "/docs/oauth2-redirect"}


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords with Argon2id at its cheapest: the same code, a hundredth of the time
    (the production parameters are exercised by test_sign_in.py)."""
    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                            parallelism=1))  # fmt: skip


def check_headers(headers: httpx.Headers) -> list[str]:
    """Return what is missing from a response's security headers."""
    wrong = []
    csp = headers.get("content-security-policy", "")
    if "script-src 'self'" not in csp or "unsafe-inline" in csp or "unsafe-eval" in csp:
        wrong.append(f"CSP {csp!r}")
    if "frame-ancestors 'none'" not in csp or headers.get("x-frame-options") != "DENY":
        wrong.append("frames not denied")
    if headers.get("x-content-type-options") != "nosniff":
        wrong.append("no nosniff")
    if headers.get("referrer-policy") != "no-referrer":
        wrong.append(f"referrer policy {headers.get('referrer-policy')!r}")
    return wrong


def _caller_for(method: str, path: str) -> str:
    rule = TABLE[(method, path)]
    if rule.kind == "page":
        return next(p for p in PERSONS if p in rule.roles)
    return "token" if rule.kind == "api" else "anonymous"


def test_every_response_carries_the_security_headers_and_pages_run_no_inline_script(
    web_app: App, live_server: str
) -> None:
    fx: Fixture = prepare(web_app)
    wrong = []
    with httpx.Client(base_url=live_server, timeout=10) as client:
        for method, path in app_routes(create_web_app(web_app)):
            if method not in ("GET", "MOUNT") or (method, path) not in TABLE:
                continue
            for caller in ("anonymous", _caller_for(method, path)):
                headers = {}
                if caller in USER_OF:
                    headers["Cookie"] = f"ag_session={fx.session(caller)[0]}"
                elif caller in fx.tokens:
                    headers["Authorization"] = f"Bearer {fx.tokens[caller]}"
                client.cookies.clear()
                url = "/static/app.css" if method == "MOUNT" else _url(path, fx)
                with client.stream("GET", url, headers=headers) as response:
                    problems = check_headers(response.headers)
                    kind = response.headers.get("content-type", "")
                    if kind.startswith("text/html") and path not in FOREIGN_PAGES:
                        problems += inline_code(b"".join(response.iter_bytes()).decode())
                if problems:
                    wrong.append(f"GET {url} as {caller}: {'; '.join(problems)}")
    assert not wrong, "\n".join(wrong)


def _url(path: str, fx: Fixture) -> str:
    from tests.web.test_permissions import concrete

    return concrete(path, fx.params)


_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_STYLE_ATTR = re.compile(r"""\sstyle\s*=""", re.IGNORECASE)
_STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.IGNORECASE)
_JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def inline_code(html: str) -> list[str]:
    """Return every inline script, event handler, style element or style attribute in `html`."""
    found = []
    for attributes, body in _SCRIPT.findall(html):
        if body.strip() or "src=" not in attributes:
            found.append(f"inline <script>{body.strip()[:40]}")
    checks = ((_STYLE_ATTR, "style= attribute"), (_STYLE_ELEMENT, "<style> element"),
              (_HANDLER, "inline event handler"), (_JS_URL, "javascript: URL"))  # fmt: skip
    for pattern, what in checks:
        if pattern.search(html):
            found.append(what)
    return found


def test_no_template_holds_inline_script_or_style() -> None:
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert templates, f"no templates found under {TEMPLATES}"
    wrong = {t.name: p for t in templates if (p := inline_code(t.read_text(encoding="utf-8")))}
    assert not wrong, (
        "templates with inline code, which the CSP blocks (put it in a file under "
        f"web/static): {wrong}"
    )


def test_the_scanner_finds_what_it_must() -> None:
    assert inline_code('<script src="/static/app.js" defer></script>') == []
    assert inline_code("<script>alert(1)</script>")
    assert inline_code('<script type="module">\n</script>')
    assert inline_code('<p style="color:red">x</p>') == ["style= attribute"]
    assert inline_code('<button onclick="go()">x</button>') == ["inline event handler"]
    assert inline_code("<style>p{}</style>") == ["<style> element"]
    assert inline_code('<a href="javascript:go()">x</a>') == ["javascript: URL"]


def _cookie_header(response: httpx.Response, name: str) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    assert found, f"no {name} cookie set"
    return found[0]


def _flags(cookie: str) -> set[str]:
    return {f.strip().lower() for f in cookie.split(";")[1:]}


def test_session_cookies_are_http_only_and_same_site_strict(client: TestClient) -> None:
    form = client.get("/login")
    signed_in = sign_in(client, "ct.alvarez")
    for cookie in (_cookie_header(form, "ag_login_csrf"), _cookie_header(signed_in, "ag_session")):
        assert {"httponly", "samesite=strict"} <= _flags(cookie), cookie
        # Outside production the service may run on plain HTTP on loopback (the demo).
        assert "secure" not in _flags(cookie), cookie


def test_in_production_session_cookies_are_also_secure(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path, environment="production")
    try:
        give_passwords(app)
        # Production sits behind TLS: a browser sends Secure cookies only over HTTPS.
        with TestClient(create_web_app(app), base_url="https://127.0.0.1") as client:
            form = client.get("/login")
            signed_in = sign_in(client, "ct.alvarez")
    finally:
        app.close()
    for cookie in (_cookie_header(form, "ag_login_csrf"), _cookie_header(signed_in, "ag_session")):
        assert {"httponly", "samesite=strict", "secure"} <= _flags(cookie), cookie


def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(
    web_app: App, live_server: str
) -> None:
    fx = prepare(web_app)
    with web_app.transaction() as db:
        target = db.scalars(select(User).where(User.username == "perm.target")).one()
        target.locked_at = utcnow()
    wrong = []
    with httpx.Client(base_url=live_server, timeout=10) as client:
        for (method, path), rule in sorted(TABLE.items()):
            if method != "POST" or rule.kind != "page":
                continue
            caller = next(p for p in PERSONS if p in rule.roles)
            cookie, csrf = fx.session(caller)
            for form in ({}, {"csrf_token": "forged-" + csrf[:10]}):
                client.cookies.clear()
                response = client.post(_url(path, fx), data=form,
                                       headers={"Cookie": f"ag_session={cookie}"})  # fmt: skip
                if response.status_code != 403:
                    wrong.append(f"POST {path} as {caller} with {form or 'no token'}: "
                                 f"{response.status_code}")  # fmt: skip
    assert not wrong, "forms accepted without their CSRF token:\n" + "\n".join(wrong)
    with web_app.sessions() as db:
        target = db.scalars(select(User).where(User.username == "perm.target")).one()
        assert target.locked_at is not None
        assert target.active


def test_a_session_locks_after_thirty_idle_minutes_and_ends_after_twelve_hours(
    web_app: App,
) -> None:
    with web_app.transaction() as db:
        person = db.scalars(select(User).where(User.username == "ct.alvarez")).one()
        idle, _ = start_session(db, person, second_factor_ok=True)
        busy, _ = start_session(db, person, second_factor_ok=True)
    start = utcnow()
    with web_app.transaction() as db:
        assert lookup_session(db, idle, now=start + dt.timedelta(minutes=29)) is not None
        assert lookup_session(db, idle, now=start + dt.timedelta(minutes=60)) is None
        # Used every 20 minutes, a session still ends 12 hours after it began.
        for minutes in range(20, 12 * 60, 20):
            assert lookup_session(db, busy, now=start + dt.timedelta(minutes=minutes)), minutes
        assert lookup_session(db, busy, now=start + dt.timedelta(hours=12, minutes=5)) is None
        # An ended session stays ended.
        assert lookup_session(db, idle, now=start + dt.timedelta(minutes=30)) is None
