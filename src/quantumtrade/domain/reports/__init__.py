"""Daily reports, pure parts: the day's figures from ledger events and prices, and rendering.

A report is a list of sections; each section carries sentences, tables and chart specs, and
the Markdown and HTML renderers draw any section from those alone (charts as inline SVG), so a
new section needs only the function that builds it.
"""

from quantumtrade.domain.reports.figures import (
    DayFigures,
    Holdings,
    average_costs,
    day_figures,
    equity_path,
    holdings_at,
    valuation,
)
from quantumtrade.domain.reports.render import content_hash, to_html, to_markdown
from quantumtrade.domain.reports.svg import bar_chart, line_chart

__all__ = [
    "DayFigures",
    "Holdings",
    "average_costs",
    "bar_chart",
    "content_hash",
    "day_figures",
    "equity_path",
    "holdings_at",
    "line_chart",
    "to_html",
    "to_markdown",
    "valuation",
]
