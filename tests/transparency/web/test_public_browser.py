"""The public section in Debian's Chromium: every language laid out in its direction with no
English left behind, the charts drawn, the downloads opened, and axe-core's accessibility
rules passed. Screenshots go to ASSISTGATE_SCREENSHOT_DIR when set (else a temporary folder)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from axe_playwright_python import sync_playwright as axe_module  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, ViewportSize

from assistgate.transparency import labels
from assistgate.transparency.i18n import CODES, languages, public_messages
from assistgate.transparency.public_log import COLUMNS
from assistgate.web.routes.public import LOG_CODES
from tests.transparency.web.conftest import YEAR

PHONE: ViewportSize = {"width": 390, "height": 844}
AXE_JS = (Path(axe_module.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
# Text whose nearest lang="..." is the page's own language (not the English notice, not the
# language picker's names, not data shown as codes).
OWN_TEXT = """() => {
  const lang = document.documentElement.lang, out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const owner = n.parentElement.closest('[lang]');
    if (owner && owner.lang === lang && !n.parentElement.closest('[translate=no], code'))
      out.push(n.textContent);
  }
  return out.join(' ').replace(/\\s+/g, ' ');
}"""
HEADING_LAYOUT = """() => {
  const h1 = document.querySelector('#language-heading'), range = document.createRange();
  range.selectNodeContents(h1);
  const text = range.getBoundingClientRect(), box = h1.getBoundingClientRect();
  return {direction: getComputedStyle(h1).direction, textLeft: text.left - box.left,
          textRight: box.right - text.right};
}"""


# The public log's cells as shown: per row, per column, each value's code and shown text.
LOG_CELLS = """() => [...document.querySelectorAll('table.log tbody tr')].map(tr =>
  [...tr.children].map(td => [...td.querySelectorAll('data, bdi')].map(e =>
    ({code: e.tagName === 'DATA' ? e.value : e.textContent, text: e.textContent,
      align: getComputedStyle(e.closest('td')).textAlign}))))"""
# Where a table's first column sits: at the start edge of the table, in the page's direction.
TABLE_LAYOUT = """(selector) => {
  const table = document.querySelector(selector), box = table.getBoundingClientRect();
  const first = table.querySelector('thead th').getBoundingClientRect();
  const code = table.querySelector('code.code bdi'), cell = code.closest('td, th');
  const ink = code.getBoundingClientRect();
  const padding = parseFloat(getComputedStyle(cell).paddingRight);
  return {direction: getComputedStyle(table).direction, fromRight: box.right - first.right,
          fromLeft: first.left - box.left, codeDirection: getComputedStyle(code).direction,
          codeFromCellRight: cell.getBoundingClientRect().right - padding - ink.right};
}"""
# Codes of the data (ones a resident could not mistake for a word: with - or _).
DATA_CODES = sorted({code for table in (labels.AGENCIES, labels.ACTIONS, labels.OUTCOMES,
                                        labels.EXCEPTIONS, labels.GROUNDS) for code in table
                     if "_" in code or "-" in code})  # fmt: skip


def whole_word(words: str, text: str) -> bool:
    """Return whether `words` occur in `text` as whole words."""
    return re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text) is not None


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2)
    page = context.new_page()
    yield page
    context.close()


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ASSISTGATE_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_each_language_reads_in_its_direction_with_nothing_left_in_english(
    public_server: str, phone: Page, tmp_path: Path
) -> None:
    english = [m for m in public_messages() if len(m) > 3]
    for code in CODES:
        phone.goto(f"{public_server}/public?lang={code}")
        folder = shots(tmp_path)
        phone.screenshot(path=str(folder / f"public-{code}.png"), full_page=True)
        assert (folder / f"public-{code}.png").stat().st_size > 10_000
        rtl = code == "ar"
        assert phone.evaluate("document.documentElement.lang") == code
        assert phone.evaluate("document.documentElement.dir") == ("rtl" if rtl else "ltr")
        layout = phone.evaluate(HEADING_LAYOUT)
        assert layout["direction"] == ("rtl" if rtl else "ltr")
        # A short heading hugs the right edge in Arabic and the left edge otherwise.
        hugging, free = ("textRight", "textLeft") if rtl else ("textLeft", "textRight")
        assert layout[hugging] < 2, (code, layout)
        assert layout[free] > 10, (code, layout)
        # Usable on a phone: nothing wider than the screen.
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        if code == "en":
            continue
        own = phone.evaluate(OWN_TEXT)
        say = languages()[code].gettext
        left = [m for m in english if say(m) != m and m in own]
        assert not left, f"{code}: English left on the page: {left[:3]}"
        assert say("It is safe to call the police") in own


def test_the_figures_and_the_log_show_the_data_in_words_of_each_language(
    public_server: str, phone: Page, tmp_path: Path
) -> None:
    english = [m for m in public_messages() if len(m) > 3]
    answer = phone.request.get(f"{public_server}/public/log.json?period={YEAR}")
    published = {row["reference"]: row for row in json.loads(answer.text())}
    folder = shots(tmp_path)
    for code in CODES:
        say = languages()[code].gettext
        for page in ("figures", "log"):
            phone.goto(f"{public_server}/public/{page}?period={YEAR}&lang={code}")
            phone.screenshot(path=str(folder / f"{page}-{code}.png"), full_page=True)
            assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            own = phone.evaluate(OWN_TEXT)
            # Every code is in words: none is left among the page's own text.
            assert not [c for c in DATA_CODES if c in own], (code, page)
            if code != "en":
                # Whole words: "Period" is not left over in the Spanish "Periodo".
                left = [m for m in english if say(m) != m and whole_word(m, own)]
                assert not left, f"{code} {page}: English left on the page: {left[:3]}"
        # Each cell of the log says, in the language, what the download holds for that row.
        rows = phone.evaluate(LOG_CELLS)
        assert len(rows) == min(100, len(published))
        for cells in rows:
            row = published[cells[0][0]["code"]]
            for column, values in zip(COLUMNS, cells, strict=True):
                value = row[column]
                codes = value if isinstance(value, list) else [value]
                if isinstance(value, bool):
                    codes = ["yes" if value else "no"]
                    words = [say(labels.YES_NO[value])]
                elif column in LOG_CODES:
                    words = [say(LOG_CODES[column][c]) for c in codes]
                else:  # a reference, month, week or district: shown as it is
                    words = [str(c) for c in codes if c is not None]
                    codes = words
                assert [v["code"] for v in values] == codes, (code, column)
                assert [v["text"] for v in values] == words, (code, column)
                assert {v["align"] for v in values} <= {"start"}


def test_the_arabic_tables_read_from_the_right_with_codes_left_to_right(
    public_server: str, browser: Browser, phone: Page, tmp_path: Path
) -> None:
    wide = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    for page, table in (("log", "table.log"), ("figures", "table.counts")):
        wide.goto(f"{public_server}/public/{page}?period={YEAR}&lang=ar")
        layout = wide.evaluate(TABLE_LAYOUT, table)
        assert layout["direction"] == "rtl"
        assert layout["codeDirection"] == "ltr"
        assert abs(layout["codeFromCellRight"]) < 2, (page, layout)  # under its words
        assert layout["fromRight"] < 2, (page, layout)
        assert layout["fromLeft"] > 20, (page, layout)
    wide.context.close()
    # On a phone each request is a card: the column's name on the right, its value to its left.
    phone.goto(f"{public_server}/public/log?period={YEAR}&lang=ar")
    cells = phone.locator("table.log tbody tr").first.locator("td")
    assert cells.count() == len(COLUMNS)
    for i in range(len(COLUMNS)):
        label = cells.nth(i).locator(".label").bounding_box()
        value = cells.nth(i).locator("data, bdi, .none").first.bounding_box()
        card = cells.nth(i).bounding_box()
        assert label is not None
        assert value is not None
        assert card is not None
        assert card["x"] + card["width"] - (label["x"] + label["width"]) < 2
        assert value["x"] + value["width"] <= label["x"] + 1
        assert value["x"] >= card["x"] - 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=str(shots(tmp_path) / "log-ar.png"))


def test_the_language_picker_remembers_the_choice_and_works_from_the_keyboard(
    public_server: str, phone: Page
) -> None:
    phone.goto(f"{public_server}/public")
    phone.get_by_role("link", name="Español").click()
    assert phone.evaluate("document.documentElement.lang") == "es"
    phone.get_by_role("navigation", name="Páginas").get_by_role("link", name="Cifras").click()
    assert phone.url.endswith("/public/figures")
    assert phone.evaluate("document.documentElement.lang") == "es"
    phone.keyboard.press("Tab")
    focused = phone.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Saltar al contenido"
    phone.keyboard.press("Enter")
    assert phone.evaluate("document.activeElement.id") == "main"


def test_the_charts_draw_a_bar_for_each_month_with_requests(
    public_server: str, phone: Page, tmp_path: Path
) -> None:
    phone.goto(f"{public_server}/public/figures?period={YEAR}&lang=ar")
    answer = phone.request.get(f"{public_server}/public/figures.json?period={YEAR}")
    months = json.loads(answer.text())["figures"]["monthly"]
    assert len(months) == 12
    charts = phone.locator("svg.chart")
    assert charts.count() == 3
    for i in range(3):
        box = charts.nth(i).bounding_box()
        assert box is not None
        assert box["width"] > 300
        assert box["height"] > 150
    received = phone.locator("#chart-received rect.bar")
    assert received.count() == sum(1 for m in months if m["received"] > 0)
    values = [int(v or 0) for v in received.evaluate_all("els => els.map(e => e.dataset.value)")]
    assert values == [m["received"] for m in months if m["received"] > 0]
    phone.locator("#chart-decisions").screenshot(path=str(shots(tmp_path) / "chart-ar.png"))


def test_the_downloads_open_and_parse(public_server: str, phone: Page, tmp_path: Path) -> None:
    phone.goto(f"{public_server}/public/downloads?lang=fr")
    files = {}
    for section in ("log", "figures"):
        for kind in ("csv", "json", "parquet"):
            with phone.expect_download() as info:
                phone.locator(f'a[href="/public/{section}.{kind}"]').click()
            path = tmp_path / info.value.suggested_filename
            info.value.save_as(path)
            files[(section, kind)] = path
    rows = list(csv.DictReader(io.StringIO(files[("log", "csv")].read_text("utf-8"))))
    assert rows
    assert tuple(rows[0]) == COLUMNS
    assert len(json.loads(files[("log", "json")].read_text("utf-8"))) == len(rows)
    count = (
        duckdb.connect().execute(f"SELECT count(*) FROM '{files[('log', 'parquet')]}'").fetchall()
    )
    assert count == [(len(rows),)]
    assert json.loads(files[("figures", "json")].read_text("utf-8"))["figures"]["received"] >= 0
    assert files[("figures", "csv")].read_text("utf-8").startswith("section,item,value\n")
    items = (
        duckdb.connect()
        .execute(f"SELECT count(*) FROM '{files[('figures', 'parquet')]}'")
        .fetchall()
    )
    assert items[0][0] > 20


@pytest.mark.parametrize("path", ["/public?lang=en", "/public?lang=ar", "/public?lang=ne",
                                  f"/public/figures?period={YEAR}", "/public/log",
                                  f"/public/figures?period={YEAR}&lang=ar", "/public/log?lang=es",
                                  "/public/downloads?lang=uk"])  # fmt: skip
def test_axe_core_finds_no_serious_accessibility_problem(public_server: str, phone: Page,
                                                         path: str) -> None:  # fmt: skip
    phone.goto(f"{public_server}{path}")
    # Through the DevTools protocol, which the page's script-src policy does not govern.
    phone.evaluate(AXE_JS)
    results = phone.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert results["testEngine"]["version"].startswith("4.")
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in results["violations"]
               if v["impact"] in ("serious", "critical")]  # fmt: skip
    assert not serious, f"{path}: {serious}"
