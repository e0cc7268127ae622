"""The public section (/public): the policy in plain words in the city's languages, the
figures, the public log of requests and the downloads. No sign-in, no personal data.

`?lang=CODE` (ISO 639-1) picks the language and a cookie remembers it; without either, the
browser's Accept-Language decides, then English. The data shown here comes only from the
transparency domain's public functions, which never read a name, a number or free text.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from assistgate.policy import default_registry
from assistgate.policy.profiles import Source
from assistgate.settings import LOUISVILLE
from assistgate.transparency.i18n import CODES, Language, choose, languages
from assistgate.web.app import templates

router = APIRouter(include_in_schema=False)
LANGUAGE_COOKIE = "ag_lang"
REMEMBER_FOR = 365 * 24 * 3600


class UnknownLanguage(Exception):
    """`?lang=` names a language the public pages are not in."""


def page_language(request: Request) -> tuple[Language, bool]:
    """Return the visitor's language and whether the address asked for it (to remember it)."""
    asked = request.query_params.get("lang")
    if asked is not None and asked not in CODES:
        raise UnknownLanguage(asked)
    remembered = request.cookies.get(LANGUAGE_COOKIE)
    code = choose(asked, remembered, request.headers.get("accept-language", ""))
    return languages()[code], asked is not None


def language_links(request: Request) -> dict[str, str]:
    """Return this page's address in each language, keeping its other parameters."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return {code: f"{request.url.path}?{urlencode([*kept, ('lang', code)])}" for code in CODES}


def render(request: Request, name: str, context: dict[str, Any], *, current: str,
           status_code: int = 200) -> Response:  # fmt: skip
    """Render a public page in the visitor's language; remember a language asked for."""
    try:
        language, asked = page_language(request)
    except UnknownLanguage as exc:
        return unknown_language(request, str(exc))
    response = templates.TemplateResponse(
        request,
        name,
        {**context, "_": language.gettext, "language": language, "current": current,
         "languages": list(languages().values()), "lang_links": language_links(request)},
        status_code=status_code,
    )  # fmt: skip
    if asked:
        response.set_cookie(LANGUAGE_COOKIE, language.code, max_age=REMEMBER_FOR,
                            samesite="lax", path="/public")  # fmt: skip
    response.headers["Content-Language"] = language.code
    response.headers["Vary"] = "Cookie, Accept-Language"
    return response


def unknown_language(request: Request, asked: str) -> Response:
    """Answer 400 to an unknown `?lang=`, listing the languages there are."""
    links = language_links(request)
    return templates.TemplateResponse(
        request, "public/unknown_language.html",
        {"asked": asked[:20], "languages": list(languages().values()), "lang_links": links},
        status_code=400,
    )  # fmt: skip


def policy_sources() -> list[Source]:
    """Return the official texts the policy page restates, newest version of each."""
    registry = default_registry()
    return [s for pid in LOUISVILLE for s in registry.versions(pid)[-1].sources if s.official]


@router.get("/public", response_class=HTMLResponse)
def policy_page(request: Request) -> Response:
    return render(request, "public/policy.html", {"sources": policy_sources()}, current="/public")
