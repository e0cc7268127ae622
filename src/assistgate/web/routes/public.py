"""The public section (/public): the policy in plain words in the city's languages, the
figures, the public log of requests and the downloads. No sign-in, no personal data.

`?lang=CODE` (ISO 639-1) picks the language and a cookie remembers it; without either, the
browser's Accept-Language decides, then English. The data shown here comes only from the
transparency domain's public functions, which never read a name, a number or free text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from assistgate.app import App
from assistgate.db.base import utcnow
from assistgate.policy import default_registry
from assistgate.policy.profiles import Source
from assistgate.settings import LOUISVILLE
from assistgate.transparency import labels
from assistgate.transparency.charts import Series, bar_chart, legend
from assistgate.transparency.figures import Counts, Figures, compute_figures, percent_text
from assistgate.transparency.i18n import CODES, Language, choose, coded, languages
from assistgate.transparency.periods import FORMS, Period, PeriodError, parse_period
from assistgate.transparency.public_log import COLUMNS, PublicRow, load_public_log
from assistgate.web.app import templates
from assistgate.web.deps import AppDep, DbSession

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


# --- The figures and the public log ---------------------------------------------------------

LOG_PAGE_SIZE = 100


def default_period(zone: ZoneInfo, today: dt.date) -> Period:
    """Return the twelve months up to today: this month so far and the eleven before it."""
    year, month = today.year, today.month - 11
    if month < 1:
        year, month = year - 1, month + 12
    return parse_period(f"{dt.date(year, month, 1)}..{today}", zone)


def trend_of(period: Period) -> Period:
    """Return the months the trend charts show: the period, or the year up to its end."""
    if len(period.months()) >= 12:
        return period
    return default_period(period.zone, period.last)


def asked_period(request: Request, app: App) -> tuple[Period, str]:
    """Return the period asked for in `?period=` (or the default) and the error, if any."""
    zone = app.settings.zone
    text = request.query_params.get("period", "").strip()
    today = utcnow().astimezone(zone).date()
    if not text:
        return default_period(zone, today), ""
    try:
        return parse_period(text, zone), ""
    except PeriodError:
        return default_period(zone, today), text[:40]


@router.get("/public/figures", response_class=HTMLResponse)
def figures_page(request: Request, app: AppDep, db: DbSession) -> Response:
    period, bad = asked_period(request, app)
    trend = trend_of(period)
    figures = compute_figures(db, period, trend=trend)
    try:
        language, _asked = page_language(request)
    except UnknownLanguage as exc:
        return unknown_language(request, str(exc))
    context = {"figures": figures, "period": period, "bad_period": bad, "forms": FORMS,
               "charts": trend_charts(figures, language), "query": period_query(period),
               "details": detail_tables(figures, language), "percent": percent_text}  # fmt: skip
    return render(request, "public/figures.html", context, current="/public/figures",
                  status_code=400 if bad else 200)  # fmt: skip


@router.get("/public/log", response_class=HTMLResponse)
def log_page(request: Request, app: AppDep, db: DbSession, page: int = 1) -> Response:
    text = request.query_params.get("period", "").strip()
    period: Period | None = None
    bad = ""
    if text:
        try:
            period = parse_period(text, app.settings.zone)
        except PeriodError:
            bad = text[:40]
    try:
        language, _asked = page_language(request)
    except UnknownLanguage as exc:
        return unknown_language(request, str(exc))
    rows = load_public_log(db, app.settings.zone, period)
    rows.reverse()  # newest first on screen; the downloads keep the reference order
    pages = max(1, -(-len(rows) // LOG_PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = rows[(page - 1) * LOG_PAGE_SIZE : page * LOG_PAGE_SIZE]
    context = {"rows": [log_cells(row, language) for row in shown], "total": len(rows),
               "page": page, "pages": pages, "period": period, "bad_period": bad,
               "columns": [(c, language.gettext(labels.LOG_COLUMNS[c])) for c in COLUMNS],
               "query": period_query(period),
               "pager_query": period_query(period)[1:] + "&" if period else ""}  # fmt: skip
    return render(request, "public/log.html", context, current="/public/log",
                  status_code=400 if bad else 200)  # fmt: skip


def period_query(period: Period | None) -> str:
    """Return `?period=...` for links to the downloads of the same period ("" for all)."""
    return f"?{urlencode({'period': period.label})}" if period is not None else ""


def trend_charts(figures: Figures, language: Language) -> list[dict[str, Any]]:
    """Return the monthly charts of `figures`, with their words in `language`."""
    _ = language.gettext
    points = figures.monthly
    months = [dt.date(int(p.month[:4]), int(p.month[5:]), 1) for p in points]
    labels = [format_date(m, "MMM", locale=language.code) for m in months]
    years = [str(m.year) if i == 0 or m.month == 1 else "" for i, m in enumerate(months)]
    span = f"{points[0].month} \N{EN DASH} {points[-1].month}" if points else ""

    def chart(chart_id: str, title: str, series: list[Series]) -> dict[str, Any]:
        totals = [sum(s.values[i] for s in series) for i in range(len(points))]
        description = _("Bar chart, one bar per month from %(first)s to %(last)s. "
                        "In all: %(total)s. Most in one month: %(most)s.") % {
            "first": points[0].month if points else "", "last": points[-1].month if points else "",
            "total": sum(totals), "most": max(totals, default=0)}  # fmt: skip
        return {"id": chart_id, "title": title, "span": span,
                "svg": bar_chart(chart_id=chart_id, title=title, description=description,
                                 labels=labels, series=series, sublabels=years),
                "legend": legend(chart_id, series) if len(series) > 1 else [],
                "series": series, "months": [p.month for p in points]}  # fmt: skip

    received = Series(_("Requests received"), tuple(p.received for p in points))
    decided = [
        Series(_("Officers sent"), tuple(p.dispatched for p in points)),
        Series(_("Declined"), tuple(p.declined for p in points)),
        Series(_("Withdrawn or not decided yet"),
               tuple(p.received - p.dispatched - p.declined for p in points)),
    ]  # fmt: skip
    prohibited = Series(_("Requests asking for a forbidden action"),
                        tuple(p.asking_prohibited for p in points))  # fmt: skip
    return [
        chart("chart-received", _("Requests received each month"), [received]),
        chart("chart-decisions", _("What was decided, each month"), decided),
        chart("chart-prohibited", _("Requests asking for a forbidden action, each month"),
              [prohibited]),
    ]  # fmt: skip


# --- The data's codes in the page's language -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shown:
    """One value of the data as a page shows it: its words in the page's language, its code."""

    words: str  # "" for a value that is not a code (a reference, a month) or an unlisted code
    code: str  # as the downloads have it


# The table of plain words each coded column of the public log takes its words from.
LOG_CODES: Mapping[str, Mapping[str, str]] = {
    "agency": labels.AGENCIES,
    "requested_actions": labels.ACTIONS,
    "decision": labels.DECISIONS,
    "grounds": labels.GROUNDS,
    "prohibited_actions_asked": labels.ACTIONS,
    "outcome": labels.OUTCOMES,
}


def log_cells(row: PublicRow, language: Language) -> list[list[Shown]]:
    """Return the cells of one public log row, each a list of values (none when empty)."""
    cells: list[list[Shown]] = []
    for column, value in zip(COLUMNS, row.to_json().values(), strict=True):
        table = LOG_CODES.get(column, {})
        if value is None:
            cells.append([])
        elif isinstance(value, bool):
            # The downloads' CSV writes booleans as yes/no: the same words, translated.
            cells.append([Shown(language.gettext(labels.YES_NO[value]), "yes" if value else "no")])
        elif isinstance(value, list):
            cells.append([Shown(coded(language, table, v), v) for v in value])
        else:
            cells.append([Shown(coded(language, table, str(value)), str(value))])
    return cells


def detail_tables(figures: Figures, language: Language) -> list[dict[str, Any]]:
    """Return the figures' tables of counts by code, with the codes in `language`."""
    _ = language.gettext

    def table(caption: str, heading: str, counts: Counts,
              words: Mapping[str, str] | None) -> dict[str, Any]:  # fmt: skip
        rows = [(Shown(coded(language, words or {}, code), code), n) for code, n in counts]
        return {"caption": caption, "heading": heading, "rows": rows, "recorded": words is None}

    d, c, o = figures.decisions, figures.compliance, figures.outcomes
    return [
        table(_("Requests by agency"), _("Agency"), figures.by_agency, labels.AGENCIES),
        table(_("Actions asked for"), _("Action"), figures.by_action, labels.ACTIONS),
        table(_("Grounds that held"), _("Ground"), d.grounds, labels.GROUNDS),
        table(_("Forbidden actions asked for"), _("Action"), d.prohibited_asked, labels.ACTIONS),
        table(_("Exceptions to the procedure"), _("Exception"), c.exceptions, labels.EXCEPTIONS),
        # Offences are the words officers recorded, not codes: shown as recorded.
        table(_("Arrests by the police, by offence"), _("Offence"), o.police_arrests_by_offence,
              None),
    ]  # fmt: skip
