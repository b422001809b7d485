"""Charts as inline SVG text: no script, no stylesheet, no external reference.

Coordinates are rounded to 0.1 px so the same figures always give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 36
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
GAIN, LOSS = "#2ca02c", "#d62728"


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def _label(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.2f} %"
    if unit == "$":
        return f"{value:,.2f} $"
    return f"{value:.4g}"


def _bounds(values: Sequence[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    low, high = min([0.0, *finite]), max([0.0, *finite])
    if high - low < 1e-12:
        high, low = high + 1.0, low - 1.0
    pad = (high - low) * 0.05
    return low - pad, high + pad


def _frame(title: str, low: float, high: float, unit: str, plot_h: float) -> list[str]:
    def y_of(value: float) -> float:
        return TOP + (high - value) / (high - low) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="18" font-family="sans-serif" font-size="13" '
        f'font-weight="bold">{escape(title)}</text>',
    ]
    for value in (low, (low + high) / 2, high):
        y = _fmt(y_of(value))
        parts.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#dddddd"/>'
            f'<text x="{LEFT - 4}" y="{y}" font-family="sans-serif" font-size="10" '
            f'text-anchor="end">{escape(_label(value, unit))}</text>'
        )
    zero = _fmt(y_of(0.0))
    parts.append(
        f'<line x1="{LEFT}" y1="{zero}" x2="{WIDTH - RIGHT}" y2="{zero}" stroke="#888888"/>'
    )
    return parts


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    unit: str = "%",
) -> str:
    """Return an SVG line chart of ``series`` (name, values) over ``x_labels``."""
    n = len(x_labels)
    values = [v for _, vs in series for v in vs if v is not None]
    low, high = _bounds(values)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = _frame(title, low, high, unit, plot_h)

    def x_of(i: int) -> float:
        return LEFT + (i / (n - 1) if n > 1 else 0.5) * plot_w

    for i, (name, points) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        coords = [
            f"{_fmt(x_of(j))},{_fmt(TOP + (high - v) / (high - low) * plot_h)}"
            for j, v in enumerate(points)
            if v is not None and math.isfinite(v)
        ]
        if coords:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                f'points="{" ".join(coords)}"/>'
            )
        parts.append(
            f'<rect x="{WIDTH - RIGHT - 150}" y="{8 + 14 * i}" width="10" height="10" '
            f'fill="{colour}"/><text x="{WIDTH - RIGHT - 136}" y="{17 + 14 * i}" '
            f'font-family="sans-serif" font-size="11">{escape(name)}</text>'
        )
    if n:
        for j in sorted({0, n // 2, n - 1}):
            parts.append(
                f'<text x="{_fmt(x_of(j))}" y="{HEIGHT - 14}" font-family="sans-serif" '
                f'font-size="10" text-anchor="middle">{escape(x_labels[j])}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    title: str, labels: Sequence[str], values: Sequence[float], *, unit: str = "$"
) -> str:
    """Return an SVG bar chart: one bar per label, gains green and losses red."""
    low, high = _bounds(values)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = _frame(title, low, high, unit, plot_h)

    def y_of(value: float) -> float:
        return TOP + (high - value) / (high - low) * plot_h

    n = max(len(values), 1)
    slot = plot_w / n
    width = max(slot * 0.7, 1.0)
    for i, value in enumerate(values):
        top, bottom = sorted((y_of(value), y_of(0.0)))
        x = LEFT + i * slot + (slot - width) / 2
        parts.append(
            f'<rect x="{_fmt(x)}" y="{_fmt(top)}" width="{_fmt(width)}" '
            f'height="{_fmt(max(bottom - top, 0.5))}" fill="{GAIN if value >= 0 else LOSS}">'
            f"<title>{escape(labels[i])}: {escape(_label(value, unit))}</title></rect>"
        )
        if n <= 12:
            parts.append(
                f'<text x="{_fmt(x + width / 2)}" y="{HEIGHT - 14}" font-family="sans-serif" '
                f'font-size="10" text-anchor="middle">{escape(labels[i])}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
