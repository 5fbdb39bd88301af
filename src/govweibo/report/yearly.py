"""The yearly (or any-period) report: data assembly, HTML and Markdown rendering, exports.

build_report gathers every table and chart; render_html/render_markdown only format it.
HTML is one self-contained file (inline CSS and SVG, no scripts, no network).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import pyarrow as pa
from markupsafe import Markup

from govweibo import model
from govweibo.analyses import growth, rankings, sensitivity
from govweibo.analyses.base import Period, tables_of
from govweibo.analyses.index import Method, compute_index, load_method
from govweibo.report.charts import bar_chart_svg, fmt_number, line_chart_svg

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "政务微博年度报告", "period": "统计周期", "method": "指数方法",
        "generated": "生成时间", "headline": "概览", "accounts": "政务账号",
        "agencies": "机构账号", "officials": "公务人员账号", "active": "本期活跃账号",
        "posts": "本期发帖", "over_100000": "粉丝超过10万", "over_1000000": "粉丝超过100万",
        "provinces": "覆盖省份", "top_account": "指数第一", "top_province": "传播力最强省份",
        "growth": "账号增长", "growth_chart": "政务账号累计数量（按开通月份）",
        "map": "省域分布", "map_accounts": "各省政务账号数量", "map_index": "各省传播力",
        "rankings": "排行榜", "overall": "总榜", "by_sector": "分行业",
        "by_level": "分级别", "by_province": "分省份", "provinces_table": "省域传播力",
        "distribution": "分布", "thresholds": "粉丝数门槛",
        "sensitivity": "方法与权重敏感性", "provenance": "数据来源", "no_map": "（地图模块不可用）",
        "sens_text": "各维度权重在±{spread}%范围内随机抽取{draws}次（种子{seed}）。",
        "weights": "维度权重", "none": "无",
    },
    "en": {
        "title": "Government Microblog Report", "period": "Period", "method": "Index method",
        "generated": "Generated", "headline": "Headline numbers", "accounts": "Government accounts",
        "agencies": "Agency accounts", "officials": "Officials' accounts",
        "active": "Active in period", "posts": "Posts in period",
        "over_100000": "Over 100,000 followers", "over_1000000": "Over 1,000,000 followers",
        "provinces": "Provinces covered", "top_account": "Top account",
        "top_province": "Strongest province", "growth": "Growth",
        "growth_chart": "Government accounts, cumulative (by month opened)",
        "map": "Province map", "map_accounts": "Government accounts per province",
        "map_index": "Province communication power", "rankings": "Rankings",
        "overall": "Overall", "by_sector": "By sector",
        "by_level": "By level", "by_province": "By province",
        "provinces_table": "Province communication power", "distribution": "Distribution",
        "thresholds": "Follower thresholds", "sensitivity": "Method and weight sensitivity",
        "provenance": "Data provenance", "no_map": "(province map module not available)",
        "sens_text": "Each dimension weight drawn {draws} times within ±{spread}% (seed {seed}).",
        "weights": "Dimension weights", "none": "none",
    },
}  # fmt: skip
TEXT["zh"].update(agencies_list="机构榜", officials_list="个人榜")
TEXT["en"].update(agencies_list="Agencies", officials_list="Officials")
# Headings of the distribution tables (the groupings of analyses.rankings).
TEXT["zh"].update(group_province="省份", group_region="地区", group_sector="行业",
                  group_level="级别", group_kind="类型")  # fmt: skip
TEXT["en"].update(group_province="Province", group_region="Region", group_sector="Sector",
                  group_level="Level", group_kind="Kind")  # fmt: skip
RANK_COLS = ["group_rank", "screen_name", "kind", "sector", "level", "province", "followers",
             "posts", "score", "rank_change"]  # fmt: skip
PROV_COLS = ["power_rank", "province", "name_en", "region", "accounts", "coverage",
             "top_mean_score", "over_100k", "power"]  # fmt: skip
RUN_COLS = ["run_id", "source_path", "format", "records_read", "stored", "rejected", "status",
            "finished_at"]  # fmt: skip


@dataclass
class ReportData:
    period: Period
    method: Method
    lang: str
    top_n: int
    generated_at: str
    headline: dict[str, Any]
    tables: dict[str, pa.Table]
    charts: dict[str, str]
    sensitivity: dict[str, Any] = field(default_factory=dict)
    # Display names of coded values per column (e.g. sector code -> 公安); tables keep codes.
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def text(self) -> dict[str, str]:
        return TEXT[self.lang]


def _now(generated_at: datetime | str | None) -> str:
    if isinstance(generated_at, datetime):
        return generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if generated_at:
        return str(generated_at)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _block_labels(path: Path, block: str, lang: str) -> dict[str, str]:
    """code -> `label_<lang>` of the [[block]] tables of a TOML file (first label wins)."""
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for b in doc.get(block, []):  # a code may have several blocks (sectors do)
        label = b.get(f"label_{lang}")
        if label and b.get("name") and b["name"] not in out:
            out[b["name"]] = str(label)
    return out


def sector_labels(lang: str, path: str | Path | None = None) -> dict[str, str]:
    """Readable sector names in `lang` ("zh" or "en"): the `label_zh` / `label_en` keys of the
    [[sector]] blocks of the registry's sectors.toml, the one place sectors are defined (read
    only). A sector without a label keeps its code."""
    from govweibo.registry.ruleset import rules_dir

    return _block_labels(Path(path or rules_dir() / "sectors.toml"), "sector", lang)


def code_labels(
    lang: str, *, registry_labels: str | Path | None = None
) -> dict[str, dict[str, str]]:
    """Display names, per column, of the coded values the report shows: sectors (above), account
    kinds and levels (the [[kind]] / [[level]] blocks of registry/labels.toml) and regions
    (reference/data/regions.csv). A code without a name is shown as the code."""
    from govweibo.reference import regions
    from govweibo.registry.ruleset import rules_dir

    path = Path(registry_labels or rules_dir().parent / "labels.toml")
    name = "name_zh" if lang == "zh" else "name_en"
    return {
        "sector": sector_labels(lang),
        "kind": _block_labels(path, "kind", lang),
        "level": _block_labels(path, "level", lang),
        "region": {r.region: getattr(r, name) for r in regions()},
    }


def _map(values: dict[str, float | None], **kw: Any) -> str:
    try:
        from govweibo.report.provincemap import choropleth_svg
    except ImportError:
        return ""
    return choropleth_svg(values, **kw)


def provenance(source: Any) -> pa.Table:
    """The ingest runs behind the data (RUN_COLS, by run id), through Ibis so that the
    report reads the Parquet layout on Spark as it reads the store on DuckDB."""
    table, has = tables_of(source)
    full = model.schema_of("ingest_runs")
    # The model's schema, not the engine's: DuckDB says `run_id not null`, Parquet does not.
    schema = pa.schema([full.field(c) for c in RUN_COLS])
    if not has("ingest_runs"):
        return schema.empty_table()
    return table("ingest_runs").select(*RUN_COLS).order_by("run_id").to_pyarrow().cast(schema)


def build_report(
    store: Any,
    *,
    period: Period | str,
    method: str | Path | Method = "govweibo",
    lang: str = "zh",
    top_n: int = 20,
    government_only: bool = True,
    draws: int = 1000,
    spread: float = 0.25,
    seed: int = 0,
    generated_at: datetime | str | None = None,
) -> ReportData:
    """Compute everything the report shows (see ReportData.tables for the table names).

    `store` is a Store or any tables source (e.g. `SparkTables`): every read is Ibis."""
    if lang not in TEXT:
        raise ValueError(f"lang must be one of {sorted(TEXT)}")
    per, m, tx = Period.parse(period), load_method(method), TEXT[lang]
    labels = code_labels(lang)
    idx = compute_index(store, period=per, method=m, government_only=government_only)
    prev = compute_index(store, period=per.previous(), method=m, government_only=government_only)
    idx = rankings.rank_change(idx, prev)
    tables: dict[str, pa.Table] = {"index": idx}
    for name, t in rankings.ranking_lists(idx, top_n=top_n).items():
        tables[f"ranking_{name}"] = t
    prov = rankings.province_aggregates(idx)
    tables["provinces"] = prov
    tables["thresholds"] = rankings.threshold_counts(idx, by="kind")
    thr_all = rankings.threshold_counts(idx).to_pylist()
    for by, t in rankings.all_distributions(idx).items():
        tables[f"distribution_{by}"] = t
    monthly = growth.account_growth(store, government_only=government_only, until=per)
    tables["growth_monthly"] = monthly
    tables["growth_yearly"] = growth.yearly_growth(monthly)
    per_draw = sensitivity.weight_sensitivity(idx, method=m, draws=draws, spread=spread, seed=seed)
    tables["sensitivity_draws"] = per_draw
    tables["sensitivity"] = sensitivity.summarise_sensitivity(per_draw)
    tables["provenance"] = provenance(store)

    rows = idx.to_pylist()
    top_p = prov.to_pylist()[0] if len(prov) else None
    headline = {
        "accounts": len(rows),
        "agencies": sum(r["kind"] == "agency" for r in rows),
        "officials": sum(r["kind"] == "official" for r in rows),
        "active": sum(r["posts"] > 0 for r in rows),
        "posts": sum(r["posts"] for r in rows),
        "over_100000": thr_all[0]["over_100000"] if thr_all else 0,
        "over_1000000": thr_all[0]["over_1000000"] if thr_all else 0,
        "provinces": len({r["province"] for r in rows if r["province"]}),
        "top_account": rows[0]["screen_name"] if rows else None,
        "top_province": top_p["province"] if top_p else None,
    }
    # `power` mixes the score with coverage on a 0-100 scale; unbounded scores (bci) map the
    # top-N mean instead.
    power_col = "power" if m.normalisation != "none" else "top_mean_score"
    charts = {
        "growth": line_chart_svg(
            monthly.column("month").to_pylist(),
            {tx["accounts"]: monthly.column("cumulative").to_pylist()},
            title=tx["growth_chart"],
        ),
        "map_accounts": _map(
            dict(zip(prov.column("province").to_pylist(), prov.column("accounts").to_pylist(),
                     strict=True)),
            title=tx["map_accounts"], lang=lang, legend_title=tx["accounts"],
            value_format=lambda v: f"{v:,.0f}",
        ),
        "map_index": _map(
            dict(zip(prov.column("province").to_pylist(), prov.column(power_col).to_pylist(),
                     strict=True)),
            title=tx["map_index"], lang=lang, legend_title=tx["map_index"], palette="oranges",
        ),
    }  # fmt: skip
    top_prov = prov.slice(0, 15)
    charts["provinces"] = bar_chart_svg(
        top_prov.column("province").to_pylist(), top_prov.column(power_col).to_pylist(),
        title=tx["provinces_table"], color="#e6550d",
    )  # fmt: skip
    for by in ("region", "sector", "level", "kind"):
        d = tables[f"distribution_{by}"]
        names = labels.get(by, {})
        bars = [names.get(g, g) if g is not None else "?" for g in d.column("group").to_pylist()]
        charts[f"distribution_{by}"] = bar_chart_svg(
            bars, d.column("accounts").to_pylist(),
            title=f"{tx['distribution']}: {tx[f'group_{by}']}",
        )  # fmt: skip
    sens = {"draws": draws, "spread": round(spread * 100), "seed": seed, "weights": m.weights()}
    return ReportData(
        per, m, lang, top_n, _now(generated_at), headline, tables, charts, sens, labels
    )


# Rendering ---------------------------------------------------------------------------------


def _cell(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return "0" if v == 0 else (f"{v:.3f}" if abs(v) < 1 else f"{v:,.1f}")
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return str(v)


def _same(s: str) -> str:
    return s


def _md_escape(v: Any) -> str:
    s = str(v)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("\n", " ")):
        s = s.replace(a, b)
    return s


def _view(data: ReportData, esc: Callable[[str], str] = _same) -> dict[str, Any]:
    """Everything the templates show, as strings; `esc` escapes data text (for Markdown;
    HTML relies on Jinja2 autoescape)."""
    t, tx = data.tables, {k: esc(v) for k, v in data.text().items()}

    def _grid(
        table: pa.Table, cols: list[str] | None = None, group: str | None = None
    ) -> dict[str, Any]:
        """`group`: the grouping the table's `group` column holds (its values get labels)."""
        cols = [c for c in (cols or table.column_names) if c in table.column_names]
        names = {c: data.labels.get(c, {}) for c in cols}
        if group is not None:
            names["group"] = data.labels.get(group, {})

        def cell(c: str, v: Any) -> str:
            return esc(names[c].get(v, v) if isinstance(v, str) and names[c] else _cell(v))

        body = [[cell(c, r[c]) for c in cols] for r in table.select(cols).to_pylist()]
        return {"header": [esc(c) for c in cols], "rows": body}

    lists = [("overall", "ranking_overall", None), ("agencies_list", "ranking_agencies", None),
             ("officials_list", "ranking_officials", None),
             ("by_sector", "ranking_by_sector", "sector"), ("by_level", "ranking_by_level", "level"),
             ("by_province", "ranking_by_province", "province")]  # fmt: skip
    rank_tables = [
        (tx[label], _grid(t[key], (["group"] if by else []) + RANK_COLS, group=by))
        for label, key, by in lists
    ]
    headline = [
        (tx[k], esc(_cell(v)) if v is not None else tx["none"]) for k, v in data.headline.items()
    ]
    dims = [
        (esc(d.name), esc(d.label_zh if data.lang == "zh" else d.label_en), f"{w:.3f}",
         esc(", ".join(f"{i.name} ({i.transform}, {i.weight:g})" for i in d.indicators)))
        for d, w in zip(data.method.dimensions, data.method.weights().values(), strict=True)
    ]  # fmt: skip
    return {
        "d": data,
        "tx": tx,
        "label": esc(data.period.label),
        "start": data.period.start.isoformat(),
        "end": (data.period.end - timedelta(days=1)).isoformat(),
        "method_title": esc(data.method.title or data.method.name),
        "method_description": esc(data.method.description),
        "method_source": esc(data.method.source),
        "generated_at": esc(data.generated_at),
        "headline": headline,
        "rank_tables": rank_tables,
        "provinces": _grid(t["provinces"], PROV_COLS),
        "thresholds": _grid(t["thresholds"], group="kind"),
        "distributions": [(by, tx[f"group_{by}"], _grid(t[f"distribution_{by}"], group=by))
                          for by in ("province", "region", "sector", "level", "kind")],
        "growth_yearly": _grid(t["growth_yearly"]),
        "sensitivity": _grid(t["sensitivity"]),
        "sens_text": esc(data.text()["sens_text"].format(**data.sensitivity)),
        "dims": dims,
        "provenance": _grid(t["provenance"]),
        "charts": {k: Markup(v) for k, v in data.charts.items()},  # already-escaped SVG
    }  # fmt: skip


def _env(autoescape: bool) -> jinja2.Environment:
    loader = jinja2.PackageLoader("govweibo.report", "templates")
    return jinja2.Environment(loader=loader, autoescape=autoescape, keep_trailing_newline=True)


def render_html(data: ReportData) -> str:
    """One self-contained HTML document (inline CSS and SVG; print CSS for PDF)."""
    return _env(True).get_template("report.html.j2").render(**_view(data))


def render_markdown(data: ReportData) -> str:
    """The same report as Markdown (no charts; maps and charts are in the HTML)."""
    return _env(False).get_template("report.md.j2").render(**_view(data, _md_escape))


def export_tables(data: ReportData, out_dir: str | Path, fmt: str = "csv") -> list[Path]:
    """Write every report table to out_dir as CSV or Parquet; returns the paths written."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    if fmt not in ("csv", "parquet"):
        raise ValueError("fmt must be 'csv' or 'parquet'")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in data.tables.items():
        p = out / f"{name}.{fmt}"
        if fmt == "csv":
            pcsv.write_csv(table, p)
        else:
            pq.write_table(table, p)
        paths.append(p)
    return paths


__all__ = ["ReportData", "build_report", "render_html", "render_markdown", "export_tables",
           "fmt_number", "sector_labels", "code_labels"]  # fmt: skip
