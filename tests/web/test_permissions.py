"""Who may call what: every route of the application against every role, from one table.

The table below is the permission matrix; docs/PERMISSIONS.md is generated from it and checked
against it. A route that is not in the table fails the first test with its name, so a new
screen or API cannot land without someone deciding who may use it.

Each route is called over real HTTP (a live server, so that streams are cut after their
headers) by: nobody (no cookie, no token), a person of each role with a fresh session, a
commander whose second factor is still pending, a dispatch system's API token holding every
scope, and one holding none. The expectations:

- a screen: nobody and API tokens are sent to /login; a pending second factor to
  /login/second-factor; a role not in the table gets 403; a role in it anything but 401/403;
- a part of a screen fetched by its script (a live stream, a refreshed list): the same, except
  that nobody, tokens and a pending second factor get 401 (a script cannot follow a sign-in);
- the API: no token (a browser session is no token) gets 401, a token without the route's
  scope 403, a token with it anything but 401/403;
- a public route: anything but 403 for everyone.

And nobody, ever, gets a 5xx.

Regenerate the documentation's matrix after a change to the table:
    .venv/bin/python -m tests.web.test_permissions --write-docs
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI, routing
from sqlalchemy import select

from assistgate.app import App
from assistgate.auth import security
from assistgate.auth.models import ApiToken, User
from assistgate.auth.service import add_user
from assistgate.auth.sessions import SCOPES, create_token, start_session
from assistgate.web.app import create_web_app
from tests.factories import new_request

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "PERMISSIONS.md"

PERSONS = ("call_taker", "commander", "auditor", "admin")
# Who calls: a person of each role, nobody, a pending second factor, and two API tokens.
CALLERS = (*PERSONS, "anonymous", "second_factor_pending", "token", "token_without_scope")
USER_OF = {"call_taker": "ct.alvarez", "commander": "lt.okafor", "auditor": "ig.rowe",
           "admin": "admin.kim", "second_factor_pending": "lt.brandt"}  # fmt: skip


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords with Argon2id at its cheapest: the same code, a hundredth of the time
    (the production parameters are exercised by test_sign_in.py)."""
    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                            parallelism=1))  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """Who may call a route: `kind` is "page", "fragment", "api", "api+session", "public" or
    "open"."""

    kind: str
    why: str
    roles: frozenset[str] = frozenset()
    scope: str = ""
    # Statuses a permitted caller may get besides success, e.g. a login that fails with 401.
    extra_ok: frozenset[int] = field(default_factory=frozenset)


def page(*roles: str, why: str) -> Rule:
    """A screen for people holding one of `roles`."""
    unknown = set(roles) - set(PERSONS)
    assert not unknown, f"unknown roles {unknown}"
    return Rule("page", why, frozenset(roles))


def fragment(*roles: str, why: str) -> Rule:
    """Part of a screen that its script fetches, for people holding one of `roles`."""
    return Rule("fragment", why, page(*roles, why=why).roles)


def anyone_signed_in(why: str) -> Rule:
    """A screen every signed-in person may use, whatever their role."""
    return Rule("page", why, frozenset(PERSONS))


def api(scope: str, why: str) -> Rule:
    """The dispatch systems' API: an API token holding `scope`."""
    assert scope in SCOPES, f"unknown scope {scope}"
    return Rule("api", why, scope=scope)


def api_or_session(scope: str, *roles: str, why: str) -> Rule:
    """An API route that also admits a signed-in person of `roles` (with the CSRF token)."""
    assert scope in SCOPES, f"unknown scope {scope}"
    return Rule("api+session", why, page(*roles, why=why).roles, scope=scope)


def open_data(why: str) -> Rule:
    """The public section: answers 200 to everyone, signed in or not, never a sign-in page."""
    return Rule("open", why)


def public(why: str, *, may_answer: tuple[int, ...] = ()) -> Rule:
    """Open to everyone (each such route checks what it needs itself)."""
    return Rule("public", why, extra_ok=frozenset(may_answer))


CO_REVIEW = "command staff review past requests; reading is recorded in the ledger"
STEP = "a step of the commanding officer's review; the service checks the role again"
ADMIN = "account administration only; administrators do not read requests"
LISTEN = "commanders and auditors only; every play and download is a ledger entry"

# (method, path) -> who may call it. Mounted apps appear as ("MOUNT", path).
# fmt: off
TABLE: dict[tuple[str, str], Rule] = {
    # --- Signing in (login.py) and the service itself --------------------------------------
    ("GET", "/"): public("sends each caller to sign in or to the first screen of their role"),
    ("GET", "/login"): public("the sign-in form with the monitored-system banner"),
    ("POST", "/login"): public("checks the password itself; 401 on a failed sign-in",
                               may_answer=(401,)),
    ("GET", "/login/second-factor"): public("needs a password-only session; else to /login"),
    ("POST", "/login/second-factor"): public("needs a password-only session; else to /login"),
    ("POST", "/logout"): public("ends the caller's own session, if any"),
    ("GET", "/healthz"): public("liveness for the load balancer; says nothing else"),
    ("GET", "/readyz"): public("readiness: names of the checks and the kind of failure only"),
    ("GET", "/metrics"): api("metrics:read", "Prometheus scrapes with a monitoring token "
                             "that can do nothing else"),
    ("GET", "/openapi.json"): public("the API's description for dispatch-system vendors"),
    ("MOUNT", "/static"): public("stylesheet and scripts; no data"),
    # --- The public section (public.py, public_downloads.py): no sign-in, no personal data --
    ("GET", "/public"): open_data("the policy in plain words, in ten languages"),
    ("GET", "/public/figures"): open_data("the figures of a period, from the register"),
    ("GET", "/public/log"): open_data("the public log: one row per request, nothing personal"),
    ("GET", "/public/downloads"): open_data("the downloads and the data dictionary"),
    ("GET", "/public/log.{kind}"): open_data("the public log as CSV, JSON or Parquet"),
    ("GET", "/public/figures.{kind}"): open_data("the figures as CSV, JSON or Parquet"),
    ("GET", "/public/data-dictionary.json"): open_data("what each column of the log means"),
    # --- The 911 floor: intake (intake.py) --------------------------------------------------
    ("GET", "/intake"): page("call_taker", "commander",
                             why="the call taker's hand-off; commanders take calls too"),
    ("POST", "/intake"): page("call_taker", "commander",
                              why="registers a held request; the service checks the role again"),
    ("GET", "/intake/held/{ref}"): page("call_taker", "commander",
                                        why="the answer to an intake: hold the call"),
    # --- The commanding officer: queue, duty, request screen --------------------------------
    ("GET", "/queue"): page("commander", why="requests awaiting a commanding officer"),
    ("GET", "/queue/rows"): fragment("commander", why="the queue's list, refreshed by its script"),
    ("GET", "/queue/events"): fragment("commander", why="the queue's live stream (SSE)"),
    ("POST", "/duty"): page("commander", why="a commander goes on or off duty (alerts)"),
    ("GET", "/requests/{ref}"): page("commander", why="the request and its assessment form; "
                                     "each view is recorded"),
    ("POST", "/requests/{ref}/claim"): page("commander", why=STEP),
    ("POST", "/requests/{ref}/release"): page("commander", why=STEP),
    ("POST", "/requests/{ref}/assess"): page("commander", why="the policy's answer for the "
                                             "facts entered; writes nothing"),
    ("POST", "/requests/{ref}/decide"): page("commander", why=STEP + "; needs a fresh password"),
    ("POST", "/requests/{ref}/dispatch"): page("commander", why=STEP),
    ("POST", "/requests/{ref}/arrive"): page("commander", why=STEP),
    ("POST", "/requests/{ref}/clear"): page("commander", why=STEP),
    ("POST", "/requests/{ref}/exception"): page("commander", why=STEP),
    ("POST", "/requests/{ref}/recording"): page("commander", why=STEP),
    ("POST", "/requests/{ref}/close"): page("commander", why=STEP),
    # --- Recordings (recordings.py) ----------------------------------------------------------
    ("GET", "/requests/{ref}/recordings"): page("auditor", "commander", why=LISTEN
                                                + "; each view is recorded"),
    ("POST", "/requests/{ref}/recordings/{sha256}/play"): page("auditor", "commander",
                                                               why=LISTEN),
    ("POST", "/requests/{ref}/recordings/{sha256}/download"): page("auditor", "commander",
                                                                   why=LISTEN),
    ("GET", "/recordings/stream/{token}"): page("auditor", "commander", why="the player's "
                                                "stream of a recorded play (range requests)"),
    ("GET", "/admin/recordings"): page("admin", why=ADMIN + "; recordings' details only"),
    ("POST", "/admin/recordings/{sha256}/block"): page("admin", why="a court order, say; "
                                                       "the block and its reason are recorded"),
    ("POST", "/admin/recordings/{sha256}/unblock"): page("admin", why="lifting a block is "
                                                         "recorded with its reason"),
    ("POST", "/api/v1/requests/{ref}/recordings"): api_or_session(
        "recordings:write", "commander", why="a call recorder, or a commanding officer's "
        "session with its CSRF token, attaches a recording"),
    ("POST", "/requests/{ref}/cancel"): page("commander", why=STEP + " (the agency withdrew)"),
    # --- Re-authentication and one's own password (reauth.py) ------------------------------
    ("GET", "/reauth"): anyone_signed_in("give the password again before a sensitive step"),
    ("POST", "/reauth"): anyone_signed_in("give the password again before a sensitive step"),
    ("GET", "/account/password"): anyone_signed_in("everyone changes their own password"),
    ("POST", "/account/password"): anyone_signed_in("everyone changes their own password"),
    # --- Administrator (admin.py) -----------------------------------------------------------
    ("GET", "/admin"): page("admin", why=ADMIN),
    ("GET", "/admin/users/new"): page("admin", why=ADMIN),
    ("POST", "/admin/users"): page("admin", why=ADMIN),
    ("GET", "/admin/users/{username}"): page("admin", why=ADMIN),
    ("POST", "/admin/users/{username}/roles"): page("admin", why=ADMIN),
    ("POST", "/admin/users/{username}/deactivate"): page("admin", why=ADMIN),
    ("POST", "/admin/users/{username}/reactivate"): page("admin", why=ADMIN),
    ("POST", "/admin/users/{username}/unlock"): page("admin", why=ADMIN),
    ("POST", "/admin/users/{username}/second-factor/reset"): page("admin", why=ADMIN),
    ("POST", "/admin/users/{username}/password"): page("admin", why=ADMIN),
    ("GET", "/admin/tokens"): page("admin", why=ADMIN),
    ("POST", "/admin/tokens/{token_id}/revoke"): page("admin", why=ADMIN),
    ("GET", "/admin/endpoints"): page("admin", why=ADMIN + "; read-only list"),
    # --- Auditor (audit_pages.py) -----------------------------------------------------------
    ("GET", "/audit"): page("auditor", "commander", why="search every request; " + CO_REVIEW),
    ("GET", "/audit/requests/{ref}"): page("auditor", "commander",
                                           why="read-only request; each view is recorded"),
    ("GET", "/audit/export.csv"): page("auditor", why="bulk export of records is the "
                                       "inspector's function only; each export is recorded"),
    ("GET", "/audit/ledger"): page("auditor", "commander", why="the ledger's state and key"),
    ("POST", "/audit/ledger/verify"): page("auditor", "commander",
                                           why="verification reads only; it is recorded"),
    ("GET", "/audit/ledger/checkpoint.json"): page("auditor", "commander",
                                                   why="for offline verification"),
    ("GET", "/audit/ledger/public-key.pem"): page("auditor", "commander",
                                                  why="for offline verification"),
    ("GET", "/audit/reconcile"): page("auditor", why="reconciling a dispatch export with the "
                                      "register reads both in bulk: the inspector's function"),
    ("POST", "/audit/reconcile"): page("auditor", why="the upload and the run are recorded; "
                                       "auditors only, like the bulk export"),
    # --- Dispatch systems' API (api.py) -----------------------------------------------------
    ("POST", "/api/v1/requests"): api("requests:write", "a CAD registers a held request"),
    ("POST", "/api/v1/eido"): api("requests:write", "a CAD registers a held request (EIDO)"),
    ("GET", "/api/v1/requests/{ref}"): api("requests:read", "a CAD reads state and decision"),
}
# fmt: on


# --- The routes of the application ----------------------------------------------------------


def app_routes(web: FastAPI) -> list[tuple[str, str]]:
    """Return every (method, path) the application serves; HEAD is GET's twin and left out."""
    found: set[tuple[str, str]] = set()
    contexts: Any = routing.iter_route_contexts(web.routes)
    for route in contexts:
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None)
        if path is None:
            continue
        if methods is None:
            found.add(("MOUNT", path))
            continue
        found.update((m, path) for m in methods if m != "HEAD")
    return sorted(found, key=lambda r: (r[1], r[0]))


def test_every_route_of_the_application_is_in_the_permission_table(web_app: App) -> None:
    routes = set(app_routes(create_web_app(web_app)))
    missing = sorted(routes - set(TABLE), key=lambda r: (r[1], r[0]))
    stale = sorted(set(TABLE) - routes, key=lambda r: (r[1], r[0]))
    message = []
    if missing:
        message.append(
            "routes with no entry in the permission table (tests/web/test_permissions.py "
            "TABLE; decide who may call each, then regenerate docs/PERMISSIONS.md):\n"
            + "\n".join(f"    {m:6} {p}" for m, p in missing)
        )
    if stale:
        message.append(
            "entries in the permission table for routes that no longer exist:\n"
            + "\n".join(f"    {m:6} {p}" for m, p in stale)
        )
    assert not message, "\n".join(message)


# --- Calling each route as each caller ------------------------------------------------------


@dataclass
class Fixture:
    """Sample values for path parameters, and a way to open sessions and tokens."""

    app: App
    params: dict[str, str]
    tokens: dict[str, str]

    def session(self, caller: str) -> tuple[str, str]:
        """Open a fresh session for `caller`; return the cookie value and its CSRF token."""
        with self.app.transaction() as db:
            user = db.scalars(select(User).where(User.username == USER_OF[caller])).one()
            done = caller != "second_factor_pending"
            cookie, row = start_session(db, user, second_factor_ok=done)
            return cookie, row.csrf_token


def prepare(app: App) -> Fixture:
    """Add what the routes' parameters name: a request, a user to administer, a token."""
    ref = new_request(app).ref
    with app.transaction() as db:
        add_user(db, username="perm.target", display_name="Permission target",
                 roles=["call_taker"])  # fmt: skip
        cad = db.scalars(select(User).where(User.username == "cad")).one()
        tokens = {
            "token": create_token(db, name="perm-all", scopes=list(SCOPES), user=cad),
            "token_without_scope": create_token(db, name="perm-none", scopes=[], user=cad),
        }
        create_token(db, name="perm-revocable", scopes=["requests:read"], user=cad)
    with app.sessions() as db:
        token_id = db.scalars(select(ApiToken.id).where(ApiToken.name == "perm-revocable")).one()
    params = {"ref": ref, "username": "perm.target", "token_id": str(token_id),
              "sha256": "0" * 64, "token": "no-such-play", "kind": "csv"}  # fmt: skip
    return Fixture(app, params, tokens)


_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?\}")


def concrete(path: str, params: dict[str, str]) -> str:
    """Fill a route's path parameters with the sample values."""
    if path == "/static":
        return "/static/app.css"

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in params, (
            f"no sample value for the path parameter {{{name}}} of {path}: add one in "
            f"prepare() in tests/web/test_permissions.py"
        )
        return params[name]

    return _PARAM.sub(value, path)


@dataclass(frozen=True)
class Outcome:
    status: int
    location: str


def call(client: httpx.Client, fx: Fixture, method: str, path: str, caller: str) -> Outcome:
    """Call one route as one caller; read only the status and headers (streams are cut)."""
    headers: dict[str, str] = {}
    data: dict[str, str] | None = None
    if caller in USER_OF:
        cookie, csrf = fx.session(caller)
        headers["Cookie"] = f"ag_session={cookie}"
        data = {"csrf_token": csrf}
    elif caller in fx.tokens:
        headers["Authorization"] = f"Bearer {fx.tokens[caller]}"
    if method == "MOUNT":
        method = "GET"
    if method in {"GET", "DELETE"}:
        data = None
    # Nothing a response set (a sign-in form's cookie, say) may carry over to the next call.
    client.cookies.clear()
    url = concrete(path, fx.params)
    with client.stream(method, url, headers=headers, data=data) as response:
        return Outcome(response.status_code, response.headers.get("location", ""))


def problem(rule: Rule, caller: str, got: Outcome) -> str | None:
    """Say what is wrong with `got` for `caller` under `rule`, or None if it is as expected."""
    if got.status >= 500:
        return f"server error {got.status}"
    to_login = got.status in (302, 303, 307) and got.location.startswith("/login")
    if rule.kind == "public":
        return "refused (403) on a public route" if got.status == 403 else None
    if rule.kind == "open":
        return None if got.status == 200 else f"expected 200 without sign-in, got {got.status}"
    if rule.kind == "api":
        if caller == "token":
            allowed = got.status not in (401, 403) or got.status in rule.extra_ok
            return None if allowed else f"refused ({got.status}) a token holding {rule.scope}"
        expected = 403 if caller == "token_without_scope" else 401
        return None if got.status == expected else f"expected {expected}, got {got.status}"
    if rule.kind == "api+session":
        if caller in ("token", *rule.roles):
            allowed = got.status not in (401, 403)
            return None if allowed else f"refused ({got.status}) a caller the table allows"
        expected = 401 if caller in ("anonymous", "second_factor_pending") else 403
        return None if got.status == expected else f"expected {expected}, got {got.status}"
    if rule.kind == "fragment" and caller not in rule.roles and caller not in PERSONS:
        return None if got.status == 401 else f"expected 401, got {got.status} {got.location}"
    # A screen (or a part of one).
    if caller in ("anonymous", "token", "token_without_scope"):
        return None if to_login and got.location != "/login/second-factor" else (
            f"expected a redirect to /login, got {got.status} {got.location}")  # fmt: skip
    if caller == "second_factor_pending":
        ok = got.status in (302, 303, 307) and got.location == "/login/second-factor"
        return None if ok else f"expected a redirect to /login/second-factor, got {got.status}"
    if caller in rule.roles:
        if got.status in (401, 403) or to_login:
            return f"refused ({got.status} {got.location}) a role the table allows"
        return None
    return None if got.status == 403 else f"expected 403, got {got.status} {got.location}"


def test_every_route_answers_every_role_as_the_table_says(web_app: App, live_server: str) -> None:
    fx = prepare(web_app)
    routes = [r for r in app_routes(create_web_app(web_app)) if r in TABLE]
    wrong = []
    with httpx.Client(base_url=live_server, timeout=10) as client:
        for method, path in routes:
            for caller in CALLERS:
                got = call(client, fx, method, path, caller)
                if (why := problem(TABLE[(method, path)], caller, got)) is not None:
                    wrong.append(f"{method:6} {path:48} as {caller:22} {why}")
    assert not wrong, "routes that do not answer as the permission table says:\n" + "\n".join(wrong)


# --- The documentation ----------------------------------------------------------------------

MARK, NO = "✓", "no"
START, END = "<!-- matrix:start -->", "<!-- matrix:end -->"


def _marks(rule: Rule) -> list[str]:
    if rule.kind in ("public", "open"):
        return ["all"] * 6
    if rule.kind == "api":
        return [NO] * 4 + [f"{MARK} `{rule.scope}`", NO]
    if rule.kind == "api+session":
        return [MARK if role in rule.roles else NO for role in PERSONS] + [
            f"{MARK} `{rule.scope}`",
            NO,
        ]
    return [MARK if role in rule.roles else NO for role in PERSONS] + [NO, NO]


def matrix_markdown() -> str:
    """Return the permission matrix as a Markdown table, one row per route."""
    lines = [
        "| Method | Route | call taker | commander | auditor | admin | API token | nobody | Why |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (method, path), rule in sorted(TABLE.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        cells = [method, f"`{path}`", *_marks(rule), rule.why]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_the_documented_matrix_is_the_tested_one() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert START in text, f"{DOCS} lacks the {START} marker"
    assert END in text, f"{DOCS} lacks the {END} marker"
    documented = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert documented == matrix_markdown(), (
        "docs/PERMISSIONS.md's matrix differs from the table in tests/web/test_permissions.py; "
        "run: .venv/bin/python -m tests.web.test_permissions --write-docs"
    )


def _write_docs() -> None:
    text = DOCS.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    DOCS.write_text(f"{head}{START}\n{matrix_markdown()}\n{END}{tail}", encoding="utf-8")


def _main(argv: list[str]) -> Iterator[str]:
    if argv == ["--write-docs"]:
        _write_docs()
        yield f"wrote the matrix into {DOCS}"
    else:
        yield matrix_markdown()


if __name__ == "__main__":
    for line in _main(sys.argv[1:]):
        print(line)
