"""The public section without a browser: languages, the policy page, figures, the log, and
every download parsed in its own format, over the demo register on both databases."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path

import duckdb
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from assistgate.app import App
from assistgate.requests.models import Request
from assistgate.transparency.i18n import CODES, languages
from assistgate.transparency.public_log import COLUMNS
from tests.transparency.web.conftest import YEAR, personal_strings

HTML_TAG = re.compile(r"<html lang=\"([a-z]+)\" dir=\"(ltr|rtl)\">")


def register_count(app: App) -> int:
    with app.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(Request)) or 0)


def test_the_policy_page_is_in_each_language_with_its_direction(client: TestClient) -> None:
    for code in CODES:
        response = client.get(f"/public?lang={code}")
        assert response.status_code == 200
        assert response.headers["content-language"] == code
        tag = HTML_TAG.search(response.text)
        assert tag is not None
        lang, direction = tag.groups()
        assert (lang, direction) == (code, "rtl" if code == "ar" else "ltr")
        text, say = html.unescape(response.text), languages()[code].gettext
        assert say("It is safe to call the police") in text
        assert say("Officers will not ask about your immigration status.") in text
        assert say("Louisville police do not enforce federal immigration law.") in text


def test_every_page_says_until_review_that_the_translation_is_unchecked(client: TestClient) -> None:
    english = "This translation has not yet been checked by a qualified translator."
    for code in CODES:
        text = html.unescape(client.get(f"/public?lang={code}").text)
        if code == "en":
            assert english not in text
            continue
        assert not languages()[code].reviewed
        assert english in text, f"{code}: the English notice is missing"
        assert languages()[code].gettext(english) in text, f"{code}: the notice is untranslated"


def test_a_language_asked_for_is_remembered_and_the_browser_decides_otherwise(
    client: TestClient,
) -> None:
    first = client.get("/public?lang=so")
    assert "ag_lang=so" in first.headers["set-cookie"]
    again = client.get("/public/figures", params={"period": YEAR})
    assert again.headers["content-language"] == "so"
    client.cookies.clear()
    by_browser = client.get("/public", headers={"Accept-Language": "de-DE,uk;q=0.8,en;q=0.5"})
    assert by_browser.headers["content-language"] == "uk"
    assert client.get("/public", headers={"Accept-Language": "de"}).headers[
        "content-language"] == "en"  # fmt: skip


def test_an_unknown_language_is_refused_with_the_list_of_languages(client: TestClient) -> None:
    response = client.get("/public?lang=xx")
    assert response.status_code == 400
    assert "xx" in response.text
    for code in CODES:
        assert f'hreflang="{code}"' in response.text


def test_public_pages_need_no_sign_in_and_set_the_strict_csp(client: TestClient) -> None:
    for url in ("/public", "/public/figures", "/public/log", "/public/downloads"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 200, url
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "<script" not in response.text, url
        assert " style=" not in response.text, url


def test_the_figures_page_counts_the_register(client: TestClient, web_app: App) -> None:
    everything = client.get("/public/figures", params={"period": "2017-01-01..2019-06-30"})
    received = re.search(r"<dd>(\d+)</dd>", everything.text)
    assert received is not None
    assert int(received.group(1)) == register_count(web_app)
    assert everything.text.count('<svg xmlns="http://www.w3.org/2000/svg" viewBox') == 3


def test_a_period_that_cannot_be_read_is_an_error_naming_it(client: TestClient) -> None:
    response = client.get("/public/figures", params={"period": "next tuesday"})
    assert response.status_code == 400
    assert "next tuesday" in response.text
    download = client.get("/public/log.csv", params={"period": "2018-13"})
    assert download.status_code == 400
    assert "2018-13" in download.json()["detail"]
    assert client.get("/public/log.xml").status_code == 404


def test_the_downloads_open_in_their_formats_with_one_row_per_request(
    client: TestClient, web_app: App, tmp_path: Path
) -> None:
    count = register_count(web_app)
    assert count > 20
    rows = list(csv.DictReader(io.StringIO(client.get("/public/log.csv").text)))
    assert len(rows) == count
    assert tuple(rows[0]) == COLUMNS
    log = client.get("/public/log.json").json()
    assert [r["reference"] for r in log] == [r["reference"] for r in rows]
    parquet = tmp_path / "log.parquet"
    parquet.write_bytes(client.get("/public/log.parquet").content)
    refs = [
        r[0]
        for r in duckdb.connect()
        .execute(f"SELECT reference FROM '{parquet}' ORDER BY 1")
        .fetchall()
    ]
    assert refs == sorted(r["reference"] for r in rows)

    figures = client.get("/public/figures.json", params={"period": YEAR}).json()
    in_year = sum(1 for r in rows if r["month"].startswith(YEAR))
    assert figures["figures"]["received"] == in_year
    assert figures["built_from"]["checkpoint"]["size"] > 0
    table = csv.reader(io.StringIO(client.get("/public/figures.csv", params={"period": YEAR}).text))
    assert ["received", "", str(in_year)] in list(table)
    fig_parquet = tmp_path / "figures.parquet"
    fig_parquet.write_bytes(client.get("/public/figures.parquet", params={"period": YEAR}).content)
    value = (
        duckdb.connect()
        .execute(f"SELECT value FROM '{fig_parquet}' WHERE section = 'received'")
        .fetchall()
    )
    assert value == [(str(in_year),)]
    dictionary = client.get("/public/data-dictionary.json").json()
    assert [c["name"] for c in dictionary["columns"]] == list(COLUMNS)


def test_no_public_page_or_download_shows_anything_personal(client: TestClient,
                                                           web_app: App) -> None:  # fmt: skip
    secrets = personal_strings(web_app)
    assert len(secrets) > 10
    urls = ["/public/log.csv", "/public/log.json", "/public/data-dictionary.json",
            f"/public/figures.csv?period={YEAR}", f"/public/figures.json?period={YEAR}",
            "/public/downloads"]  # fmt: skip
    pages = max(1, -(-register_count(web_app) // 100))
    urls += [f"/public/log?page={n}" for n in range(1, pages + 1)]
    urls += [f"/public?lang={c}" for c in CODES] + [f"/public/figures?period={YEAR}&lang=ar"]
    for url in urls:
        text = html.unescape(client.get(url).text)
        leaked = sorted(s for s in secrets if s in text)
        assert not leaked, f"{url} shows {leaked[:3]}"
    parquet = client.get("/public/log.parquet").content
    assert not [s for s in secrets if s.encode() in parquet]
    assert json.loads(client.get("/public/log.json").text)
