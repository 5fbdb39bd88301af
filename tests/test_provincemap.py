from __future__ import annotations

import importlib.util
import io
import math
import warnings
import xml.etree.ElementTree as ET

import pytest

from govweibo.reference import provinces
from govweibo.report import provincemap
from govweibo.report.provincemap import choropleth_png, choropleth_svg, class_edges, load_geometry

SVG = "{http://www.w3.org/2000/svg}"
SHORTS = [p.short_zh for p in provinces()]


def _paths(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {
        el.get("data-province", ""): el
        for el in root.iter(f"{SVG}path")
        if el.get("data-province") is not None
    }


def _ranked() -> dict[str, float | None]:
    return {s: float(i) for i, s in enumerate(SHORTS)}


def test_every_province_has_geometry() -> None:
    geo = load_geometry()
    assert len(SHORTS) == 34
    assert set(geo["provinces"]) == set(SHORTS)
    for short in SHORTS:
        entry = geo["provinces"][short]
        assert entry["rings"], short
        assert all(len(ring) >= 3 for ring in entry["rings"]), short
        x0, y0, x1, y1 = geo["bbox"]
        assert x0 <= entry["label"][0] <= x1 and y0 <= entry["label"][1] <= y1, short


def test_svg_parses_with_one_path_per_province() -> None:
    svg = choropleth_svg(_ranked(), title="t")
    paths = _paths(svg)
    assert sorted(paths) == sorted(SHORTS)
    assert all(p.get("d", "").startswith("M") for p in paths.values())
    assert 'data-province="浙江"' in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # self-contained


def test_fills_differ_between_low_and_high() -> None:
    values: dict[str, float | None] = {s: 1.0 for s in SHORTS}
    values["浙江"], values["新疆"] = 0.0, 1000.0
    paths = _paths(choropleth_svg(values, scheme="nice"))
    assert paths["浙江"].get("fill") != paths["新疆"].get("fill")
    ranked = _paths(choropleth_svg(_ranked()))
    assert ranked[SHORTS[0]].get("fill") != ranked[SHORTS[-1]].get("fill")


def test_none_and_missing_are_grey_and_in_legend() -> None:
    values: dict[str, float | None] = {s: 5.0 for s in SHORTS}
    values["西藏"] = None
    values["青海"] = math.nan
    del values["台湾"]
    svg = choropleth_svg(values, lang="en")
    paths = _paths(svg)
    for short in ("西藏", "青海", "台湾"):
        assert paths[short].get("fill") == "#d9d9d9"
    assert paths["北京"].get("fill") != "#d9d9d9"
    assert "no data" in svg
    assert "无数据" in choropleth_svg(values, lang="zh")


def test_user_text_is_escaped() -> None:
    evil = '<script>alert(1)</script>"&'
    svg = choropleth_svg(_ranked(), title=evil, legend_title=evil)
    assert evil not in svg
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "&amp;" in svg
    root = ET.fromstring(svg)  # still well-formed, and the text round-trips
    assert root.findtext(f"{SVG}title") == evil


def test_hover_titles_show_name_and_value() -> None:
    paths = _paths(choropleth_svg({"浙江": 1234.0, "北京": 5.0}, lang="en"))
    hover = {k: p.findtext(f"{SVG}title") for k, p in paths.items()}
    assert hover["浙江"] == "Zhejiang: 1,234"
    assert hover["上海"] == "Shanghai: no data"
    zh = {k: p.findtext(f"{SVG}title") for k, p in _paths(choropleth_svg({"浙江": 2.5})).items()}
    assert zh["浙江"] == "浙江：2.50"


def test_lang_en_uses_english_names() -> None:
    svg_en = choropleth_svg(_ranked(), lang="en")
    texts = {t.text for t in ET.fromstring(svg_en).iter(f"{SVG}text")}
    assert {"Zhejiang", "Inner Mongolia", "Hong Kong", "Tibet"} <= texts
    assert "浙江" not in texts
    texts_zh = {t.text for t in ET.fromstring(choropleth_svg(_ranked())).iter(f"{SVG}text")}
    assert {"浙江", "内蒙古", "香港"} <= texts_zh


def test_keys_accept_full_and_english_names_and_reject_unknown() -> None:
    paths = _paths(choropleth_svg({"浙江省": 1.0, "Xinjiang": 9.0, "110000": 5.0}))
    assert paths["浙江"].get("data-value") == "1.0"
    assert paths["新疆"].get("data-value") == "9.0"
    assert paths["北京"].get("data-value") == "5.0"
    with pytest.raises(ValueError, match="unknown province"):
        choropleth_svg({"Atlantis": 1.0})
    with pytest.raises(ValueError, match="palette"):
        choropleth_svg(_ranked(), palette="nope")


def test_class_edges() -> None:
    assert class_edges([]) == []
    assert class_edges([3.0, 3.0]) == [3.0, 3.0]
    assert class_edges([0.0, 7.0, 93.0], bins=5, scheme="nice") == [0, 20, 40, 60, 80, 100]
    q = class_edges([float(i) for i in range(101)], bins=4)
    assert q == [0.0, 25.0, 50.0, 75.0, 100.0]
    # all-equal and all-missing inputs still render
    ET.fromstring(choropleth_svg({s: 1.0 for s in SHORTS}))
    ET.fromstring(choropleth_svg({}))


def _need_matplotlib() -> None:
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib not installed (optional extra `report`); PNG output not tested")


def test_png_is_written() -> None:
    _need_matplotlib()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing CJK font / glyph warnings are expected here
        choropleth_png(_ranked(), path_or_buffer=buf, title="$x$ <t>", width=400, dpi=100)
        choropleth_png({"浙江": 1.0}, path_or_buffer=io.BytesIO(), lang="zh", width=300, dpi=100)
    data = buf.getvalue()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 1000


def test_png_zh_without_cjk_font_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    _need_matplotlib()
    monkeypatch.setattr(provincemap, "find_cjk_font", lambda: None)
    buf = io.BytesIO()
    with pytest.warns(RuntimeWarning, match="no CJK font"):
        choropleth_png(_ranked(), path_or_buffer=buf, lang="zh", width=300, dpi=100)
    assert buf.getvalue()[:4] == b"\x89PNG"
