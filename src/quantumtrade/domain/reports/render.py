"""A stored report as Markdown or as one self-contained HTML page, and its content hash.

Both renderers draw any section from its ``text`` (sentences), ``tables`` (columns and rows of
text) and ``charts`` (line or bar specs, drawn as inline SVG in HTML and listed in Markdown);
``data`` holds the same figures for programs and is not rendered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from quantumtrade.domain.reports.svg import bar_chart, line_chart

# Fields that say when and as what a report was stored, not what it says.
VOLATILE_FIELDS = ("id", "generated_at", "content_hash")

_STYLE = (
    "body{font-family:sans-serif;max-width:960px;margin:24px auto;padding:0 16px;color:#222}"
    "table{border-collapse:collapse;margin:8px 0 16px}"
    "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:13px}"
    "th{background:#f3f3f3}h2{border-bottom:1px solid #ddd;padding-bottom:4px}"
    "figure{margin:8px 0}.muted{color:#777;font-size:12px}"
)


def content_hash(report: Mapping[str, Any]) -> str:
    """Return the SHA-256 of the report's content (canonical JSON, volatile fields left out)."""
    body = {k: v for k, v in report.items() if k not in VOLATILE_FIELDS}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _md_cell(value: Any) -> str:
    return _cell(value).replace("|", "\\|").replace("\n", " ")


def _md_table(table: Mapping[str, Any]) -> list[str]:
    columns: Sequence[str] = table["columns"]
    lines = []
    if table.get("title"):
        lines += [f"**{table['title']}**", ""]
    if not table["rows"]:
        return [*lines, "_None._", ""]
    lines.append("| " + " | ".join(_md_cell(c) for c in columns) + " |")
    lines.append("|" + "---|" * len(columns))
    for row in table["rows"]:
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    return [*lines, ""]


def to_markdown(report: Mapping[str, Any]) -> str:
    """Return the report as Markdown (charts are summarised: Markdown has no drawing)."""
    lines = [f"# {report['title']}", ""]
    session = report.get("session") or {}
    if session.get("close"):
        lines += [f"Session close: {session['close']}", ""]
    for section in report["sections"]:
        lines += [f"## {section['title']}", ""]
        lines += [f"- {sentence}" for sentence in section.get("text", [])]
        if section.get("text"):
            lines.append("")
        for table in section.get("tables", []):
            lines += _md_table(table)
        for chart in section.get("charts", []):
            points = len(chart.get("x") or chart.get("labels") or [])
            lines += [f"_Chart: {chart['title']} ({points} points; see the HTML report)._", ""]
    lines.append(f"_Generated at {report.get('generated_at', '')}._")
    return "\n".join(lines) + "\n"


def _svg(chart: Mapping[str, Any]) -> str:
    if chart["kind"] == "line":
        series = [(s["name"], s["values"]) for s in chart["series"]]
        return line_chart(chart["title"], chart["x"], series, unit=chart.get("unit", "%"))
    return bar_chart(chart["title"], chart["labels"], chart["values"], unit=chart.get("unit", "$"))


def _html_table(table: Mapping[str, Any]) -> str:
    head = "".join(f"<th>{escape(_cell(c))}</th>" for c in table["columns"])
    caption = f"<caption>{escape(table['title'])}</caption>" if table.get("title") else ""
    if not table["rows"]:
        return f"<p>{escape(table.get('title') or '')}: none.</p>"
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in table["rows"]
    )
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(report: Mapping[str, Any]) -> str:
    """Return the report as one HTML page: inline style and SVG, nothing fetched from outside."""
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(report['title'])}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(report['title'])}</h1>",
    ]
    session = report.get("session") or {}
    if session.get("close"):
        parts.append(f'<p class="muted">Session close: {escape(session["close"])}</p>')
    for section in report["sections"]:
        parts.append(f'<section id="{escape(section["id"])}"><h2>{escape(section["title"])}</h2>')
        if section.get("text"):
            items = "".join(f"<li>{escape(s)}</li>" for s in section["text"])
            parts.append(f"<ul>{items}</ul>")
        for chart in section.get("charts", []):
            parts.append(f"<figure>{_svg(chart)}</figure>")
        parts += [_html_table(table) for table in section.get("tables", [])]
        parts.append("</section>")
    parts.append(
        f'<p class="muted">Generated at {escape(str(report.get("generated_at", "")))}.</p>'
    )
    parts.append("</body></html>")
    return "".join(parts)
