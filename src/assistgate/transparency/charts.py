"""Monthly trend charts as SVG, drawn on the server: no script, no colour needed to read them.

Pure functions: plain numbers and already-translated words in, SVG markup out. Every chart
has a <title> and a <desc> (read by screen readers, which see the chart as one image), writes
each bar's value on or above the bar, and tells the series of a stacked bar apart by pattern
(solid, diagonal hatching, dots) as well as by shade, each named in a legend. The page shows
the same numbers in a table next to the chart.

Styling is by SVG presentation attributes only (fill, stroke): the service's Content Security
Policy forbids inline style, and attributes are not style.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH_PER_BAR = 44
MIN_WIDTH = 340
HEIGHT = 270
TOP, BOTTOM, LEFT, RIGHT = 28, 48, 12, 12
INK = "#111111"
GRID = "#8a8a8a"
# Fills of the series of a stacked bar, darkest first; each also has its own pattern.
SHADES = ("#1f4e89", "#a33a12", "#4d4d4d")
PATTERNS = ("solid", "hatch", "dots")


class ChartError(ValueError):
    """The data cannot be drawn (mismatched lengths, negative counts); says which."""


@dataclass(frozen=True, slots=True)
class Series:
    """One named row of counts, one per bar."""

    name: str
    values: tuple[int, ...]


def _check(labels: Sequence[str], series: Sequence[Series]) -> None:
    if not series:
        raise ChartError("a chart needs at least one series")
    for s in series:
        if len(s.values) != len(labels):
            raise ChartError(f"series {s.name!r} has {len(s.values)} values for "
                             f"{len(labels)} bars")  # fmt: skip
        if any(v < 0 for v in s.values):
            raise ChartError(f"series {s.name!r} has a negative count")


def _scale_top(largest: int) -> int:
    """Return a round top for the value axis, at least `largest` and at least 1."""
    if largest <= 5:
        return max(largest, 1)
    step = 1
    while step * 10 < largest:
        step *= 10
    for nice in (1, 2, 5, 10):
        if largest <= nice * step:
            return nice * step
    return 10 * step  # unreachable: the loop above always returns


def _defs(chart_id: str) -> str:
    hatch = (f'<pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
             f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
             f'<rect width="3" height="6" fill="{SHADES[1]}"/></pattern>')  # fmt: skip
    dots = (f'<pattern id="{chart_id}-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="#ffffff"/>'
            f'<circle cx="3" cy="3" r="1.6" fill="{SHADES[2]}"/></pattern>')  # fmt: skip
    return f"<defs>{hatch}{dots}</defs>"


def _fill(chart_id: str, index: int) -> str:
    pattern = PATTERNS[index % len(PATTERNS)]
    return SHADES[0] if pattern == "solid" else f"url(#{chart_id}-{pattern})"


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    sublabels: Sequence[str] = (),
) -> str:
    """Return an SVG bar chart: one bar per label, the series stacked, each value written.

    `chart_id` must be unique on the page (it prefixes the ids inside the SVG); `labels` name
    the bars (short: a month), `sublabels` (optional, same length, may be empty strings) go
    under them (a year). Raises ChartError on data it cannot draw.
    """
    _check(labels, series)
    if sublabels and len(sublabels) != len(labels):
        raise ChartError(f"{len(sublabels)} sublabels for {len(labels)} bars")
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = _scale_top(max(totals, default=0))
    width = max(MIN_WIDTH, LEFT + RIGHT + WIDTH_PER_BAR * len(labels))
    plot_h = HEIGHT - TOP - BOTTOM
    step = (width - LEFT - RIGHT) / max(len(labels), 1)
    bar_w = min(step * 0.7, 34.0)
    base = TOP + plot_h

    def y(value: float) -> float:
        return base - plot_h * value / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {HEIGHT}" '
        f'width="{width}" height="{HEIGHT}" role="img" direction="ltr" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}" '
        f'font-family="system-ui, DejaVu Sans, sans-serif" font-size="12" class="chart">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        _defs(chart_id),
        f'<rect x="0" y="0" width="{width}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    for mark in (top / 2, top):
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y(mark):.1f}" '
                     f'y2="{y(mark):.1f}" stroke="{GRID}" stroke-width="0.6" '
                     f'stroke-dasharray="3 3"/>')  # fmt: skip
    for i, label in enumerate(labels):
        centre = LEFT + step * (i + 0.5)
        x = centre - bar_w / 2
        level = 0
        for k, s in enumerate(series):
            value = s.values[i]
            if value == 0:
                continue
            y_top, y_bottom = y(level + value), y(level)
            parts.append(
                f'<rect class="bar" data-series="{escape(s.name)}" data-value="{value}" '
                f'x="{x:.1f}" y="{y_top:.1f}" width="{bar_w:.1f}" '
                f'height="{y_bottom - y_top:.1f}" fill="{_fill(chart_id, k)}" '
                f'stroke="{INK}" stroke-width="0.8"/>'
            )
            # A value inside its segment when it fits (on a white label so the pattern does
            # not hide it), the total above the bar always.
            if len(series) > 1 and y_bottom - y_top >= 15:
                mid = (y_top + y_bottom) / 2
                parts.append(f'<rect x="{centre - 9:.1f}" y="{mid - 7:.1f}" width="18" '
                             f'height="13" fill="#ffffff" rx="2"/>'
                             f'<text x="{centre:.1f}" y="{mid + 4:.1f}" text-anchor="middle" '
                             f'fill="{INK}" font-size="10">{value}</text>')  # fmt: skip
            level += value
        parts.append(f'<text class="total" x="{centre:.1f}" y="{y(totals[i]) - 5:.1f}" '
                     f'text-anchor="middle" fill="{INK}" font-weight="700">'
                     f"{totals[i]}</text>")  # fmt: skip
        parts.append(f'<text x="{centre:.1f}" y="{base + 16}" text-anchor="middle" '
                     f'fill="{INK}">{escape(label)}</text>')  # fmt: skip
        if sublabels and sublabels[i]:
            parts.append(f'<text x="{centre:.1f}" y="{base + 31}" text-anchor="middle" '
                         f'fill="{INK}" font-size="11">{escape(sublabels[i])}</text>')  # fmt: skip
    parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{base}" y2="{base}" '
                 f'stroke="{INK}" stroke-width="1.2"/>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def legend(chart_id: str, series: Sequence[Series]) -> list[tuple[str, str]]:
    """Return (swatch SVG, name) per series, for a legend written in the page's own language."""
    out = []
    for k, s in enumerate(series):
        swatch = (f'<svg xmlns="http://www.w3.org/2000/svg" width="22" height="16" '
                  f'viewBox="0 0 22 16" aria-hidden="true" focusable="false">'
                  f'{_defs(f"{chart_id}-key{k}")}<rect x="1" y="1" width="20" height="14" '
                  f'fill="{_fill(f"{chart_id}-key{k}", k)}" stroke="{INK}"/></svg>')  # fmt: skip
        out.append((swatch, s.name))
    return out
