"""The report as PDF, byte for byte the same on every build (ReportLab's invariant mode).

Invariant mode fixes the creation date and derives the document id from the content, so
two builds from the same data give identical files. Only the standard Helvetica font is
used: nothing from the machine's fonts enters the file.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Flowable, LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from assistgate.transparency.report_content import sections, title
from assistgate.transparency.report_data import ReportData

WRAP = 24  # characters: longer cells wrap
_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("LEADING", (0, 0), (-1, -1), 9),
    ]
)


def _widths(rows: list[tuple[str, ...]], total: float) -> list[float]:
    """Share the page width by the longest text of each column (capped at WRAP characters).

    Given widths spare ReportLab from measuring every cell of a long table to size columns.
    """
    longest = [max(4, *(min(len(r[i]), WRAP) for r in rows[:500])) for i in range(len(rows[0]))]
    return [total * n / sum(longest) for n in longest]


def report_pdf(data: ReportData) -> bytes:
    """Render the report as PDF bytes."""
    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=7.5, leading=9)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        invariant=1,
        title=title(data),
        author=data.origin,
        creator="assistgate",
        producer="assistgate",
        subject=f"period {data.period.label}",
        lang="en",
        leftMargin=0.6 * inch,
        rightMargin=0.6 * inch,
        topMargin=0.6 * inch,
        bottomMargin=0.6 * inch,
    )
    story: list[Flowable] = [Paragraph(escape(title(data)), styles["Title"])]
    for section in sections(data):
        story.append(Paragraph(escape(section.title), styles["Heading2"]))
        story.extend(Paragraph(escape(line), styles["BodyText"]) for line in section.lines)
        if section.header:
            rows = [section.header, *section.rows]
            # A plain string is drawn as is; only long cells need a Paragraph to wrap (and a
            # Paragraph per cell of a long public log costs minutes).
            table = LongTable(
                [[Paragraph(escape(c), cell) if len(c) > WRAP else c for c in row] for row in rows],
                colWidths=_widths(rows, doc.width),
                repeatRows=1,
            )
            table.setStyle(_GRID)
            story += [Spacer(1, 4), table]
        story.append(Spacer(1, 8))
    doc.build(story)
    return buffer.getvalue()
