"""The yearly (or any-period) report: data assembly, HTML and Markdown rendering, exports.

build_report gathers every table and chart; render_html/render_markdown only format it.
HTML is one self-contained file (inline CSS and SVG, no scripts, no network).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import pyarrow as pa
from markupsafe import Markup

from govweibo import labels as lb
from govweibo import model
from govweibo.analyses import growth, rankings, sensitivity
from govweibo.analyses.base import Period, tables_of
from govweibo.analyses.index import Method, compute_index, load_method
from govweibo.report.charts import bar_chart_svg, fmt_number, line_chart_svg

# The report's headings and tile names are label data: the [report] section of
# govweibo/labels/<lang>.toml (TEXT keeps the old name of that table).
TEXT: dict[str, dict[str, str]] = {lang: lb.texts("report", lang) for lang in lb.LANGS}
# Columns shown; the exported tables keep every column and the codes.
RANK_COLS = ["group_rank", "group_rank_change", "screen_name", "kind", "sector", "level",
             "province", "followers", "posts", "score"]  # fmt: skip
SUMMARY_RANK_COLS = ["group_rank", "screen_name", "sector", "province", "score",
                     "group_rank_change"]  # fmt: skip
PROV_COLS = ["power_rank", "province", "region", "accounts", "coverage", "top_mean_score",
             "over_100k", "power"]  # fmt: skip
SUMMARY_PROV_COLS = ["power_rank", "province", "accounts", "coverage", "power"]
RUN_COLS = ["run_id", "source_path", "format", "records_read", "stored", "rejected", "status",
            "finished_at"]  # fmt: skip
# Long tables show this many rows; the rest is in the export (`govweibo report --export`).
SHOWN_ROWS = 10


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
    group_top: int = 1
    government_only: bool = True

    def text(self) -> dict[str, str]:
        return TEXT[self.lang]


def _now(generated_at: datetime | str | None) -> str:
    """When the report was made, in Beijing time (SOURCE_DATE_EPOCH for reproducible
    builds); a string is shown in Beijing time when it parses as a time."""
    if isinstance(generated_at, datetime):
        return lb.beijing(generated_at)
    if generated_at:
        return lb.beijing(str(generated_at))
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return lb.beijing(datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC))


def sector_labels(lang: str, path: str | Path | None = None) -> dict[str, str]:
    """Readable sector names in `lang` ("zh" or "en"): the `label_zh` / `label_en` keys of the
    [[sector]] blocks of the registry's sectors.toml, the one place sectors are defined (read
    only). A sector without a label keeps its code."""
    from govweibo.registry.ruleset import rules_dir

    return lb.block_labels(Path(path or rules_dir() / "sectors.toml"), "sector", lang)


def code_labels(
    lang: str, *, registry_labels: str | Path | None = None
) -> dict[str, dict[str, str]]:
    """Display names, per column, of the coded values the report shows: sectors (above), account
    kinds and levels (the [[kind]] / [[level]] blocks of registry/labels.toml), regions
    (reference/data/regions.csv) and provinces (English names in en). A code without a name is
    shown as the code."""
    from govweibo.registry.ruleset import rules_dir

    path = Path(registry_labels or rules_dir().parent / "labels.toml")
    return {
        "sector": sector_labels(lang),
        "kind": lb.block_labels(path, "kind", lang),
        "level": lb.block_labels(path, "level", lang),
        "region": lb.values("region", lang),
        "province": lb.values("province", lang),
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


def relative_sources(paths: list[str | None]) -> list[str | None]:
    """Source paths relative to the ingest root, the common folder of the runs' sources (a
    report is shared: the analyst's absolute local paths say nothing to its readers)."""
    real = [p for p in paths if p]
    if not real:
        return paths
    try:
        root = os.path.commonpath([os.path.dirname(p) for p in real])
    except ValueError:  # absolute and relative paths mixed
        root = ""
    out: list[str | None] = []
    for p in paths:
        if not p:
            out.append(p)
            continue
        out.append(os.path.relpath(p, root) if root else os.path.basename(p))
    return out


def build_report(
    store: Any,
    *,
    period: Period | str,
    method: str | Path | Method = "govweibo",
    lang: str = "zh",
    top_n: int = SHOWN_ROWS,
    group_top: int = 1,
    government_only: bool = True,
    draws: int = 1000,
    spread: float = 0.25,
    seed: int = 0,
    generated_at: datetime | str | None = None,
) -> ReportData:
    """Compute everything the report shows (see ReportData.tables for the table names).

    The ranking lists are kept whole in `tables` (for the export); the pages show the top
    `top_n` of each list and the top `group_top` of each group of the grouped lists.
    `store` is a Store or any tables source (e.g. `SparkTables`): every read is Ibis."""
    if lang not in TEXT:
        raise ValueError(f"lang must be one of {sorted(TEXT)}")
    per, m, tx = Period.parse(period), load_method(method), TEXT[lang]
    labels = code_labels(lang)
    idx = compute_index(store, period=per, method=m, government_only=government_only)
    prev = compute_index(store, period=per.previous(), method=m, government_only=government_only)
    idx = rankings.rank_change(idx, prev)
    tables: dict[str, pa.Table] = {"index": idx}
    for name, t in rankings.ranking_lists(idx, top_n=None, previous=prev).items():
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
    province_names = labels["province"]
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
    top_prov = prov.slice(0, SHOWN_ROWS)
    charts["provinces"] = bar_chart_svg(
        [province_names.get(p, p) for p in top_prov.column("province").to_pylist()],
        top_prov.column(power_col).to_pylist(), title=tx["provinces_table"], color="#e6550d",
    )  # fmt: skip
    for by in ("region", "sector", "level", "kind"):
        d = tables[f"distribution_{by}"]
        names = labels.get(by, {})
        bars = [names.get(g, g) if g is not None else "–" for g in d.column("group").to_pylist()]
        charts[f"distribution_{by}"] = bar_chart_svg(
            bars, d.column("accounts").to_pylist(),
            title=f"{tx['distribution']}: {tx[f'group_{by}']}",
        )  # fmt: skip
    sens = {"draws": draws, "spread": round(spread * 100), "seed": seed, "weights": m.weights()}
    return ReportData(
        per, m, lang, top_n, _now(generated_at), headline, tables, charts, sens, labels,
        group_top, government_only,
    )  # fmt: skip


# Rendering ---------------------------------------------------------------------------------


def _same(s: str) -> str:
    return s


def _md_escape(v: Any) -> str:
    s = str(v)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("\n", " ")):
        s = s.replace(a, b)
    return s


def _top_per_group(table: pa.Table, n: int) -> pa.Table:
    """The rows of a grouped list within the top `n` of their group."""
    import pyarrow.compute as pc

    return table.filter(pc.less_equal(table["group_rank"], n))


def _statistic(code: str, tx: dict[str, str]) -> str:
    """A row name of the sensitivity summary (kendall_tau, top10_kept) in words."""
    if code.startswith("top") and code.endswith("_kept") and code[3:-5].isdigit():
        return tx["statistic_kept"].format(k=code[3:-5])
    return tx.get(f"statistic_{code}", code)


def _view(data: ReportData, esc: Callable[[str], str] = _same) -> dict[str, Any]:
    """Everything the templates show, as strings in the report's language; `esc` escapes data
    text (for Markdown; HTML relies on Jinja2 autoescape)."""
    t, lang = data.tables, data.lang
    tx = {k: esc(v) for k, v in data.text().items()}

    def _grid(
        table: pa.Table,
        cols: list[str] | None = None,
        group: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """`group`: the grouping the table's `group` column holds (its values get labels and
        its header the grouping's name); `limit`: rows shown, the rest counted."""
        cols = [c for c in (cols or table.column_names) if c in table.column_names]
        names = {c: data.labels.get(c, {}) for c in cols}
        if group is not None:
            names["group"] = data.labels.get(group, {})

        def cell(c: str, v: Any) -> str:
            if isinstance(v, str) and names[c]:
                return esc(names[c].get(v, v))
            if c == "statistic" and isinstance(v, str):
                return esc(_statistic(v, data.text()))
            return esc(lb.cell(c, v, lang))

        shown = table if limit is None else table.slice(0, limit)
        body = [[cell(c, r[c]) for c in cols] for r in shown.select(cols).to_pylist()]
        head = [
            tx[f"group_{group}"] if c == "group" and group else esc(lb.header(c, lang))
            for c in cols
        ]
        more = table.num_rows - shown.num_rows
        note = tx["more_rows"].format(n=f"{more:,}") if more > 0 else ""
        return {"header": head, "rows": body, "more": note}

    lists = [("overall", "ranking_overall", None), ("agencies_list", "ranking_agencies", None),
             ("officials_list", "ranking_officials", None),
             ("by_sector", "ranking_by_sector", "sector"), ("by_level", "ranking_by_level", "level"),
             ("by_province", "ranking_by_province", "province")]  # fmt: skip
    rank_tables = []
    for label, key, by in lists:
        table = t[key]
        if by:
            table = _top_per_group(table, data.group_top)
        rank_tables.append(
            # A grouped list shows the group first, not again as a column.
            (tx[label], _grid(table, ["group", *(c for c in RANK_COLS if c != by)] if by
                              else RANK_COLS, group=by,
                              limit=None if by else data.top_n))
        )  # fmt: skip
    population = esc(
        lb.text("population_government" if data.government_only else "population_all", lang)
    )
    shown_names = {"top_province": data.labels["province"]}
    tiles = []
    for k, v in data.headline.items():
        if v is None:
            value = tx["none"]
        elif isinstance(v, str):
            value = esc(shown_names.get(k, {}).get(v, v))
        else:
            value = esc(lb.number(v, lang))
        tiles.append((tx[k], value, population))
    ind_names = lb.texts("indicators", lang)
    transforms = lb.texts("transforms", lang)
    weight_word = lb.header("weight", lang)
    sep, open_, close = ("，", "（", "）") if lang == "zh" else (", ", " (", ")")

    def indicator(i: Any) -> str:
        name = ind_names.get(i.name, i.name.replace("_", " "))
        how = transforms.get(i.transform, i.transform)
        return f"{name}{open_}{how}{sep}{weight_word} {i.weight:g}{close}"

    dims = [
        (esc(d.label_zh if lang == "zh" else d.label_en), f"{w:.3f}",
         esc(("、" if lang == "zh" else "; ").join(indicator(i) for i in d.indicators)))
        for d, w in zip(data.method.dimensions, data.method.weights().values(), strict=True)
    ]  # fmt: skip
    shipped = lb.method_text(data.method.name, lang)
    method = shipped or {
        "title": data.method.title or data.method.name,
        "description": data.method.description,
        "source": data.method.source,
    }
    runs = t["provenance"]
    if runs.num_rows:
        runs = runs.set_column(
            runs.column_names.index("source_path"),
            "source_path",
            pa.array(relative_sources(runs["source_path"].to_pylist()), pa.string()),
        )
    overall = t["ranking_overall"]
    return {
        "d": data,
        "tx": tx,
        "label": esc(data.period.label),
        "start": data.period.start.isoformat(),
        "end": (data.period.end - timedelta(days=1)).isoformat(),
        "method_title": esc(method["title"]),
        "method_description": esc(method["description"]),
        "method_source": esc(method["source"]),
        "generated_at": esc(data.generated_at),
        "times_note": esc(lb.text("times_note", lang)),
        "population_note": esc(lb.text(
            "population_note_government" if data.government_only else "population_note_all",
            lang)),
        "lists_note": tx["lists_note"].format(
            n=data.top_n, g=data.group_top, previous=esc(data.period.previous().label)),
        "headline": tiles,
        "counts": tx["counts"],
        # The summary's tables: the top 10 only, no "more rows" note (it must fit one page).
        "top_accounts": _grid(overall, SUMMARY_RANK_COLS, limit=SHOWN_ROWS) | {"more": ""},
        "top_provinces": _grid(t["provinces"], SUMMARY_PROV_COLS, limit=SHOWN_ROWS)
        | {"more": ""},
        "rank_tables": rank_tables,
        "provinces": _grid(t["provinces"], PROV_COLS, limit=SHOWN_ROWS),
        "thresholds": _grid(t["thresholds"], group="kind"),
        "distributions": [(by, tx[f"group_{by}"],
                           _grid(t[f"distribution_{by}"], group=by,
                                 limit=SHOWN_ROWS if by == "province" else None))
                          for by in ("province", "region", "sector", "level", "kind")],
        "growth_yearly": _grid(t["growth_yearly"]),
        "sensitivity": _grid(t["sensitivity"]),
        "sens_text": esc(data.text()["sens_text"].format(**data.sensitivity)),
        "dims_header": [esc(lb.header(c, lang)) for c in ("dimension", "weight", "indicators")],
        "dims": dims,
        "provenance": _grid(runs, RUN_COLS),
        "charts": {k: Markup(v) for k, v in data.charts.items()},  # already-escaped SVG
    }  # fmt: skip


def _env(autoescape: bool) -> jinja2.Environment:
    loader = jinja2.PackageLoader("govweibo.report", "templates")
    return jinja2.Environment(loader=loader, autoescape=autoescape, keep_trailing_newline=True)


def render_html(data: ReportData) -> str:
    """One self-contained HTML document (inline CSS and SVG; print CSS for PDF: the summary
    prints on one A4 page)."""
    return _env(True).get_template("report.html.j2").render(**_view(data))


def render_markdown(data: ReportData) -> str:
    """The same report as Markdown (no charts; maps and charts are in the HTML)."""
    return _env(False).get_template("report.md.j2").render(**_view(data, _md_escape))


def export_tables(data: ReportData, out_dir: str | Path, fmt: str = "csv") -> list[Path]:
    """Write every report table to out_dir as CSV or Parquet (the ranking lists whole, with
    codes); returns the paths written."""
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
           "fmt_number", "sector_labels", "code_labels", "relative_sources"]  # fmt: skip
