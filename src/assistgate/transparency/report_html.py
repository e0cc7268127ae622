"""The report as one self-contained HTML page: no script, no external file, no build time."""

from __future__ import annotations

from html import escape

from assistgate.transparency.report_content import sections, title
from assistgate.transparency.report_data import ReportData

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;"
    "line-height:1.45;color:#111}table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
    "th,td{border:1px solid #999;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#eee}code{word-break:break-all}"
)


def report_html(data: ReportData) -> bytes:
    """Render the report as HTML (UTF-8 bytes)."""
    heading = escape(title(data))
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{heading}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{heading}</h1>",
        f"<p>{escape(data.origin)}</p>",
    ]
    for section in sections(data):
        out.append(f"<section><h2>{escape(section.title)}</h2>")
        out.extend(f"<p>{escape(line)}</p>" for line in section.lines)
        if section.header:
            out.append(f"<table><caption>{escape(section.title)}</caption><thead><tr>")
            out.extend(f'<th scope="col">{escape(h)}</th>' for h in section.header)
            out.append("</tr></thead><tbody>")
            for row in section.rows:
                out.append("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>")
            out.append("</tbody></table>")
        out.append("</section>")
    out += ["</main>", "</body>", "</html>", ""]
    return "\n".join(out).encode("utf-8")
