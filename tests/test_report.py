"""Report tests. Regenerate the golden files with GOVWEIBO_REGEN_GOLDEN=1 pytest tests/test_report.py"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from test_index import build_store

from govweibo.report.charts import bar_chart_svg, fmt_number, line_chart_svg
from govweibo.report.yearly import build_report, export_tables, render_html, render_markdown
from govweibo.store import Store

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("GOVWEIBO_REGEN_GOLDEN") == "1"
EVIL = "<script>alert(1)</script>"


def add_run(store: Store) -> None:
    t = datetime(2012, 1, 5, tzinfo=UTC)
    store.con.execute(
        "INSERT INTO ingest_runs (run_id, source_path, format, records_read, stored, duplicate,"
        " rejected, empty, status, started_at, finished_at) VALUES (1, 'data/<x>.json',"
        " 'weibo-api', 20, 19, 0, 1, 0, 'done', ?, ?)",
        [t, t],
    )


@pytest.fixture
def report_store(store: Store) -> Store:
    build_store(store)
    add_run(store)
    return store


def make(store: Store, lang: str = "zh"):
    return build_report(
        store, period="2011", lang=lang, top_n=3, draws=200, generated_at="2026-01-01 00:00 UTC"
    )


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGEN or not path.exists():
        path.write_text(text, encoding="utf-8")
        if not REGEN:
            pytest.fail(f"golden {name} was missing and has been written; re-run")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs (GOVWEIBO_REGEN_GOLDEN=1)"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_golden_html_and_markdown(report_store: Store, lang: str) -> None:
    data = make(report_store, lang)
    # The maps come from report.provincemap (tested there); stub them to keep goldens stable.
    data.charts["map_accounts"] = '<svg data-stub="map_accounts"></svg>'
    data.charts["map_index"] = '<svg data-stub="map_index"></svg>'
    check_golden(f"report_2011_{lang}.html", render_html(data))
    check_golden(f"report_2011_{lang}.md", render_markdown(data))


def test_report_escapes_data_text(report_store: Store) -> None:
    data = make(report_store)
    html, md = render_html(data), render_markdown(data)
    assert EVIL not in html and "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert EVIL not in md and "&lt;script&gt;" in md
    assert "&lt;x&gt;.json" in html  # provenance text escaped too
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "@media print" in html


def test_report_contents(report_store: Store) -> None:
    data = make(report_store)
    h = data.headline
    assert (h["accounts"], h["over_100000"], h["over_1000000"]) == (4, 2, 1)
    assert h["top_account"] == "平安北京" and h["top_province"] == "北京"
    # The lists are kept whole for the export; the page shows the top_n.
    assert len(data.tables["ranking_overall"]) == 4
    assert "group_rank_change" in data.tables["ranking_by_sector"].column_names
    assert data.tables["provenance"].num_rows == 1
    html = render_html(data)
    assert 'data-province="浙江"' in html  # the real map is embedded
    assert html.count("<svg") >= 6


def test_export_tables(report_store: Store, tmp_path: Path) -> None:
    data = make(report_store)
    paths = export_tables(data, tmp_path / "csv")
    assert {p.stem for p in paths} == set(data.tables)
    assert "平安北京" in (tmp_path / "csv" / "index.csv").read_text(encoding="utf-8")
    paths = export_tables(data, tmp_path / "pq", fmt="parquet")
    assert pq.read_table(tmp_path / "pq" / "provinces.parquet").num_rows == 3


def test_charts_escape_and_shape() -> None:
    svg = bar_chart_svg(["<b>&", "x"], [3.0, None], title="t<")
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg and "t&lt;" in svg
    assert svg.startswith("<svg") and svg.endswith("</svg>") and svg.count("<rect") == 2
    line = line_chart_svg(["2011-01", "2011-02", "2011-03"], {"a<": [1, None, 3], "b": [2, 2, 2]})
    assert "a&lt;" in line and line.count("<polyline") == 1 and line.count("<circle") == 2
    assert re.search(r"<script", line) is None
    assert fmt_number(1_234_567) == "1.2M" and fmt_number(12_345) == "12k" and fmt_number(3) == "3"


def test_sector_labels(
    report_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govweibo.registry import SECTORS
    from govweibo.report import yearly

    rules = tmp_path / "sectors.toml"
    rules.write_text(
        '[[sector]]\nname = "public_security"\nlabel_zh = "公安"\nlabel_en = "Public security"\n'
        'keywords = ["公安"]\n[[sector]]\nname = "public_security"\nlabel_zh = "not this"\n'
        '[[sector]]\nname = "health"\nkeywords = ["卫生"]\n',
        encoding="utf-8",
    )
    assert yearly.sector_labels("zh", rules) == {"public_security": "公安"}
    assert yearly.sector_labels("en", rules) == {"public_security": "Public security"}
    assert set(yearly.sector_labels("zh")) <= set(SECTORS)  # the registry's own file
    shipped = yearly.sector_labels
    monkeypatch.setattr(yearly, "sector_labels", lambda lang: shipped(lang, rules))
    data = make(report_store, "zh")
    md = render_markdown(data)
    # Labels in the sector column, the by-sector list's groups and the sector distribution.
    assert "| 公安 | 1 | 0 | 平安北京 | 机构 | 省级 |" in md  # the by-sector list
    assert "| 1 | 平安北京 | 公安 | 北京 |" in md  # the summary's top 10
    assert "| 公安 | 1 | 25.0% |" in md and "public_security" not in md
    assert "| health | 1 | 25.0% |" in md  # no label: the code
    assert "公安" in data.charts["distribution_sector"]
    # The exported tables keep the codes.
    export_tables(data, tmp_path / "csv")
    assert "public_security" in (tmp_path / "csv" / "index.csv").read_text(encoding="utf-8")
    en = render_markdown(make(report_store, "en"))
    assert "| Public security | 1 | 0 | 平安北京 |" in en and "### Sector" in en


def test_code_labels(report_store: Store, tmp_path: Path) -> None:
    """Kinds, levels and regions are shown by name (data files), sectors as before; codes
    without a name stay codes; the exported tables keep the codes."""
    from govweibo.reference import provinces
    from govweibo.registry import KINDS, LEVELS
    from govweibo.report.yearly import code_labels

    for lang in ("zh", "en"):
        labels = code_labels(lang)
        assert set(labels["kind"]) == set(KINDS) and set(labels["level"]) == set(LEVELS)
        assert set(labels["region"]) == {p.region for p in provinces()}
        assert all(
            v and v not in KINDS + LEVELS for k in ("kind", "level") for v in labels[k].values()
        )
    zh, en = code_labels("zh"), code_labels("en")
    assert (zh["kind"]["agency"], zh["level"]["provincial"], zh["region"]["north-east"]) == (
        "机构", "省级", "东北")  # fmt: skip
    assert (en["kind"]["official"], en["level"]["county"], en["region"]["west"]) == (
        "Official", "County", "West")  # fmt: skip
    other = tmp_path / "labels.toml"
    other.write_text('[[kind]]\nname = "agency"\nlabel_en = "Organ"\n[[level]]\nname = "county"\n',
                     encoding="utf-8")  # fmt: skip
    mine = code_labels("en", registry_labels=other)
    assert mine["kind"] == {"agency": "Organ"} and mine["level"] == {}

    data = make(report_store, "zh")
    md = render_markdown(data)
    assert "| 1 | 0 | 平安北京 | 机构 | 公安 | 省级 | 北京 |" in md  # rank lists: kind and level
    assert "| 1 | 北京 | 东部 |" in md  # the province table's region
    assert "| 公务人员 | 1 | 1 | 0 |" in md  # threshold counts by kind
    assert "| 东部 | 3 | 75.0% |" in md and "| 县级 | 1 | 25.0% |" in md  # distributions
    assert "| city | 1 | 25.0% |" in md  # a level outside the registry's: its code
    assert "| agency |" not in md and "| provincial |" not in md and "| east |" not in md
    for by, name in (("kind", "机构"), ("level", "省级"), ("region", "东部")):
        assert f">{name}</text>" in data.charts[f"distribution_{by}"]
    en_md = render_markdown(make(report_store, "en"))
    assert "| 1 | 0 | 平安北京 | Agency | Public security | Provincial | Beijing |" in en_md
    assert "| East | 3 | 75.0% |" in en_md
    export_tables(data, tmp_path / "csv")
    exported = (tmp_path / "csv" / "distribution_kind.csv").read_text(encoding="utf-8")
    assert "agency" in exported and "机构" not in exported


def test_report_is_in_its_language(report_store: Store) -> None:
    """The zh report's headers, method text and units are Chinese; times are Beijing time;
    every tile says whom it counts; the provenance shows no absolute path."""
    md = render_markdown(make(report_store, "zh"))
    assert "生成时间: 2026-01-01 08:00" in md and "UTC" not in md and "北京时间" in md
    assert "四个维度" in md and "Four dimensions" not in md
    assert "粉丝数（对数，权重 0.3）" in md
    assert "| 2011 | 3 | 4 | 4.0× |" in md  # a ratio with its unit
    assert md.count("(政务账号)") == len(make(report_store, "zh").headline)
    for raw in ("group_rank", "rank_change", "cumulative_yoy", "power_rank", "over_100000",
                "kendall_tau", "weibo-api", "| done |"):  # fmt: skip
        assert raw not in md, raw
    en = render_markdown(make(report_store, "en"))
    assert "Counts are of the government accounts" in en and "All times are Beijing time." in en


def test_relative_sources() -> None:
    from govweibo.report.yearly import relative_sources

    assert relative_sources(["/home/a/data/2011/x.json", "/home/a/data/2012/y.json", None]) == [
        "2011/x.json", "2012/y.json", None]  # fmt: skip
    assert relative_sources(["/srv/in/one.json"]) == ["one.json"]
    assert relative_sources(["rel/x.json", "/abs/y.json"]) == ["x.json", "y.json"]


def test_export_holds_the_full_lists(report_store: Store, tmp_path: Path) -> None:
    """The page shows the top_n; the export (govweibo report --export) holds every row."""
    data = build_report(report_store, period="2011", top_n=1, draws=20)
    export_tables(data, tmp_path)
    full = (tmp_path / "ranking_overall.csv").read_text(encoding="utf-8").strip().splitlines()
    assert len(full) == 1 + 4 and "group_rank_change" in full[0]
    md = render_markdown(data)
    assert "另有3行" in md
