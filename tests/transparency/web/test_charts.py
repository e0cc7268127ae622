"""The trend charts: one bar per month, every value written, patterns named, text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from assistgate.transparency.charts import ChartError, Series, bar_chart, legend

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = ["Jan", "Feb", "Mar", "Apr"]


def draw(*series: Series) -> ET.Element:
    svg = bar_chart(chart_id="c", title="Requests <each> month", description="Four months.",
                    labels=MONTHS, series=list(series), sublabels=["2018", "", "", ""])  # fmt: skip
    return ET.fromstring(svg)  # also proves the markup is well-formed XML


def test_a_chart_has_a_bar_per_non_zero_month_and_writes_each_total() -> None:
    root = draw(Series("received", (3, 0, 7, 12)))
    bars = root.findall(f"{SVG}rect[@class='bar']")
    assert [b.get("data-value") for b in bars] == ["3", "7", "12"]
    totals = [t.text for t in root.findall(f"{SVG}text[@class='total']")]
    assert totals == ["3", "0", "7", "12"]
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert all(m in labels for m in MONTHS)
    assert "2018" in labels


def test_the_tallest_bar_is_tallest_and_heights_follow_the_values() -> None:
    bars = draw(Series("received", (3, 0, 6, 12))).findall(f"{SVG}rect[@class='bar']")
    heights = [float(b.get("height", 0)) for b in bars]
    assert heights[0] * 2 == pytest.approx(heights[1], abs=0.2)
    assert heights[1] * 2 == pytest.approx(heights[2], abs=0.2)


def test_a_chart_is_named_for_screen_readers_with_its_text_escaped() -> None:
    root = draw(Series("received", (1, 2, 3, 4)))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(f"{SVG}title").text == "Requests <each> month"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "Four months."  # type: ignore[union-attr]


def test_stacked_series_differ_by_pattern_not_colour_alone() -> None:
    series = [Series("sent", (2, 1, 0, 3)), Series("declined", (1, 1, 2, 0)),
              Series("other", (0, 1, 1, 1))]  # fmt: skip
    root = draw(*series)
    fills = {b.get("data-series"): b.get("fill") for b in root.findall(f"{SVG}rect[@class='bar']")}
    assert fills["declined"] == "url(#c-hatch)"
    assert fills["other"] == "url(#c-dots)"
    assert len(set(fills.values())) == 3
    keys = legend("c", series)
    assert [name for _, name in keys] == ["sent", "declined", "other"]
    assert all('aria-hidden="true"' in swatch for swatch, _ in keys)
    assert "style=" not in ET.tostring(root, encoding="unicode")  # the CSP forbids inline style


def test_data_that_cannot_be_drawn_is_refused_naming_the_series() -> None:
    with pytest.raises(ChartError, match="'received' has 3 values for 4 bars"):
        draw(Series("received", (1, 2, 3)))
    with pytest.raises(ChartError, match="negative"):
        draw(Series("received", (1, -2, 3, 4)))
    with pytest.raises(ChartError, match="at least one series"):
        draw()


def test_an_empty_year_draws_a_flat_chart() -> None:
    root = draw(Series("received", (0, 0, 0, 0)))
    assert root.findall(f"{SVG}rect[@class='bar']") == []
    assert re.fullmatch(r"\d+", root.get("width", ""))
