"""Inline SVG charts for reports: pure functions returning self-contained, escaped SVG strings.

No JavaScript, no external fonts or links; every label is XML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from xml.sax.saxutils import escape

FONT = "font-family=\"'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif\""
COLORS = ("#2171b5", "#e6550d", "#31a354", "#756bb1", "#636363", "#d6616b")
Fmt = Callable[[float], str]


def fmt_number(v: float) -> str:
    """Compact number: 1234567 -> '1.2M', 12345 -> '12k', 12.345 -> '12.3'."""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.1f}M"
    if a >= 1e4:
        return f"{v / 1e3:.0f}k"
    if a == int(a):
        return f"{int(v):,}"
    return f"{v:.1f}"


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    for step in (1, 2, 2.5, 5, 10):
        if step * mag >= v:
            return step * mag
    return 10 * mag


def _open(width: float, height: float, title: str) -> list[str]:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" {FONT} font-size="12">'
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
        parts.append(
            f'<text x="{width / 2:.1f}" y="18" text-anchor="middle" font-size="14" '
            f'font-weight="bold">{escape(title)}</text>'
        )
    return parts


def line_chart_svg(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str = "",
    width: int = 720,
    height: int = 280,
    value_format: Fmt = fmt_number,
    max_ticks: int = 12,
) -> str:
    """Lines over categorical x labels (e.g. months); None values break a line."""
    left, right, top, bottom = 56, 16, 34 if title else 12, 48 + 16 * (len(series) > 1)
    pw, ph = width - left - right, height - top - bottom
    vals = [v for s in series.values() for v in s if v is not None]
    ymax = 4 * _nice_max(max(vals, default=0.0) / 4)  # four gridline steps of a nice size
    n = len(labels)

    def x(i: int) -> float:
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return top + ph - ph * v / ymax

    parts = _open(width, height, title)
    for k in range(5):
        v = ymax * k / 4
        parts.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + pw}" y2="{y(v):.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">'
            f"{escape(value_format(v))}</text>"
        )
    every = max(1, math.ceil(n / max_ticks))
    for i in range(0, n, every):
        parts.append(
            f'<text x="{x(i):.1f}" y="{top + ph + 16}" text-anchor="middle" font-size="10">'
            f"{escape(str(labels[i]))}</text>"
        )
    for k, (name, values) in enumerate(series.items()):
        color = COLORS[k % len(COLORS)]
        segs: list[list[str]] = [[]]
        for i, val in enumerate(values):
            if val is None:
                segs.append([])
            else:
                segs[-1].append(f"{x(i):.1f},{y(val):.1f}")
        for seg in segs:
            if len(seg) > 1:
                parts.append(
                    f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                    f'points="{" ".join(seg)}"/>'
                )
            elif seg:
                cx, cy = seg[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>')
        if len(series) > 1:
            lx = left + k * 160
            parts.append(
                f'<rect x="{lx}" y="{height - 14}" width="12" height="4" fill="{color}"/>'
                f'<text x="{lx + 16}" y="{height - 9}">{escape(str(name))}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart_svg(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str = "",
    width: int = 720,
    bar_height: int = 18,
    label_width: int = 180,
    color: str = COLORS[0],
    value_format: Fmt = fmt_number,
) -> str:
    """Horizontal bars, one per label, in the given order; None is drawn as an empty bar."""
    top = 34 if title else 8
    gap = 6
    height = top + len(labels) * (bar_height + gap) + 8
    vmax = max((v for v in values if v is not None), default=0.0) or 1.0
    plot = width - label_width - 70
    parts = _open(width, height, title)
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        yy = top + i * (bar_height + gap)
        w = 0.0 if v is None else max(0.0, plot * v / vmax)
        text = "–" if v is None else value_format(v)
        parts.append(
            f'<text x="{label_width - 8}" y="{yy + bar_height * 0.72:.1f}" text-anchor="end">'
            f"{escape(str(lab))}</text>"
            f'<rect x="{label_width}" y="{yy}" width="{w:.1f}" height="{bar_height}" '
            f'fill="{color}"/>'
            f'<text x="{label_width + w + 4:.1f}" y="{yy + bar_height * 0.72:.1f}">'
            f"{escape(text)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
