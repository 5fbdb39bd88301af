"""HTML pages (Jinja2, autoescaped): overview, rankings, account, data health."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import jinja2
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from govweibo.reference import provinces
from govweibo.report.charts import fmt_number, line_chart_svg
from govweibo.report.provincemap import choropleth_svg
from govweibo.web import api, detail, queries
from govweibo.web.api import MAX_CSV, DataDep, Filters, RankDep, Text

router = APIRouter(include_in_schema=False)
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(resources.files("govweibo.web") / "templates")),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
templates = Jinja2Templates(env=_env)
LABELS = {
    "group_rank": "Rank",
    "rank_change": "Change",
    "previous_rank": "Prev.",
    "rank": "Overall",
    "screen_name": "Account",
}
HIDDEN = {"platform", "account_id"}


def qs(request: Request, **changes: Any) -> str:
    """The current query string with `changes` applied (None removes a key)."""
    params = {k: v for k, v in request.query_params.items() if k != "token"}
    for k, v in changes.items():
        key = "list" if k == "list_" else k
        if v is None:
            params.pop(key, None)
        else:
            params[key] = str(v)
    return "?" + urlencode(params) if params else "?"


def render(request: Request, template: str, code: int = 200, **ctx: Any) -> HTMLResponse:
    ctx.setdefault("title", "govweibo")
    return templates.TemplateResponse(
        request, template, {"qs": lambda **kw: qs(request, **kw), **ctx}, status_code=code
    )


def error_page(request: Request, status: int, message: str) -> Response:
    return render(request, "error.html", status, title=f"Error {status}", status=status,
                  message=message)  # fmt: skip


# Charts ------------------------------------------------------------------------------------


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    width: int = 420,
    bar: int = 18,
    color: str = "#4292c6",
    links: Sequence[str | None] | None = None,
) -> str:
    """Horizontal bars, one per (label, value); `links` optionally makes each bar a link."""
    label_w, top = 130, 24
    height = top + bar * max(len(items), 1) + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label={quoteattr(title)}>'
        f"<title>{xml_escape(title)}</title>"
        f'<text x="4" y="14" font-size="13" font-weight="bold">{xml_escape(title)}</text>'
    ]
    if not items:
        out.append(f'<text x="4" y="{top + 12}" font-size="11">no data</text></svg>')
        return "".join(out)
    hi = max(v for _, v in items) or 1.0
    for i, (lbl, v) in enumerate(items):
        yy = top + i * bar
        w = (width - label_w - 60) * v / hi
        row = (
            f'<text x="{label_w - 4}" y="{yy + bar * 0.7:.1f}" font-size="11" '
            f'text-anchor="end">{xml_escape(lbl)}</text>'
            f'<rect x="{label_w}" y="{yy + 2}" width="{w:.1f}" height="{bar - 4}" fill="{color}">'
            f"<title>{xml_escape(lbl)}: {xml_escape(fmt_number(v))}</title></rect>"
            f'<text x="{label_w + w + 4:.1f}" y="{yy + bar * 0.7:.1f}" font-size="10">'
            f"{xml_escape(fmt_number(v))}</text>"
        )
        href = links[i] if links else None
        out.append(f"<a href={quoteattr(href)}>{row}</a>" if href else row)
    out.append("</svg>")
    return "".join(out)


# Overview ----------------------------------------------------------------------------------

_PROVINCE = re.compile(
    r'(<(path|circle) class="(?:province|marker)" data-province="([^"]*)".*?</\2>)', re.S
)


def _linked_map(values: dict[str, float | None], selected: str | None) -> str:
    known = {p.short_zh for p in provinces()} | {p.name_zh for p in provinces()}
    svg_text = choropleth_svg(
        {k: v for k, v in values.items() if k in known},
        title="政务微博分布 Government accounts by province",
        legend_title="accounts",
        width=720,
    )

    def link(m: re.Match[str]) -> str:
        name = m.group(3)
        cls = ' class="selected"' if name == selected else ""
        href = escape("/?province=" + quote(name), quote=True)
        return f'<a href="{href}"{cls} aria-label="{escape(name)}">{m.group(1)}</a>'

    return _PROVINCE.sub(link, svg_text)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, d: DataDep, province: Text = None) -> Response:
    head = queries.headline(d)
    grow = queries.growth(d, province)
    where = f" — {province}" if province else ""
    months = [g["month"] for g in grow]
    growth_svg = line_chart_svg(
        months,
        {"cumulative": [g["cumulative"] for g in grow]},
        title=f"Accounts (cumulative){where}",
        width=640,
    )
    opened_svg = line_chart_svg(
        months,
        {"opened": [g["opened"] for g in grow]},
        title=f"Accounts opened per month{where}",
        width=640,
    )
    dists = {}
    for by in ("sector", "level", "region", "kind"):
        rows = queries.distribution(d, by, province)[:15]
        items = [(str(r["group"] or "—"), float(r["accounts"])) for r in rows]
        links = [_dist_link(by, r["group"], province) for r in rows]
        dists[by] = Markup(bar_chart(items, title=f"By {by}{where}", links=links))
    return render(
        request,
        "overview.html",
        title="Overview",
        head=head,
        province=province,
        growth_svg=Markup(growth_svg),
        opened_svg=Markup(opened_svg),
        map_svg=Markup(
            d.cached(("map", province), lambda: _linked_map(queries.province_counts(d), province))
        ),
        dists=dists,
        has_profiles=d.has("account_profiles"),
    )


def _dist_link(by: str, value: str | None, province: str | None) -> str | None:
    if value is None:
        return None
    params: dict[str, str] = {"province": province} if province else {}
    if by in ("sector", "level"):
        params.update({"list": by, "group": value})
    else:
        params[by] = value
    return "/rankings?" + urlencode(params)


# Rankings ----------------------------------------------------------------------------------


@router.get("/rankings", response_class=HTMLResponse)
def rankings(request: Request, d: DataDep, q: RankDep) -> Response:
    result = queries.rankings(d, q)
    cols = [c for c in result["columns"] if c not in HIDDEN]
    return render(
        request,
        "rankings.html",
        title="Rankings",
        r=result,
        q=q,
        cols=cols,
        labels=LABELS,
        periods=queries.periods(d, q.method),
        methods=queries.methods(),
        lists=list(queries.LISTS),
    )


@router.get("/rankings.csv")
def rankings_csv(
    d: DataDep,
    f: Filters,
    period: Annotated[str | None, Query(max_length=40)] = None,
    method: Annotated[str, Query(max_length=40)] = "govweibo",
    list_: Annotated[api.ListName, Query(alias="list")] = "overall",
    group: Annotated[str | None, Query(max_length=200)] = None,
    sort: api.Sort = None,
    limit: Annotated[int, Query(ge=1, le=MAX_CSV)] = MAX_CSV,
    offset: api.Offset = 0,
) -> Response:
    q = api.rank_query(f, period, method, list_, group, sort, 1, offset)
    q.limit = limit
    return api.rankings_csv(d, q)


# Account and health ------------------------------------------------------------------------


@router.get("/accounts/{platform}/{account_id}", response_class=HTMLResponse)
def account(
    request: Request,
    d: DataDep,
    platform: str,
    account_id: str,
    offset: api.Offset = 0,
) -> Response:
    info = detail.account(d, platform, account_id)
    obs = detail.observations(d, platform, account_id, limit=api.MAX_LIMIT, offset=0)["items"]
    follower_svg = line_chart_svg(
        [str(o["observed_at"])[:10] for o in obs],
        {"followers": [o["followers"] for o in obs]},
        title="Followers",
        width=560,
    )
    history = detail.index_history(d, platform, account_id, "govweibo")
    index_svg = line_chart_svg(
        [h["period"] for h in history],
        {"score": [h["score"] for h in history]},
        title="Index score",
        width=560,
    )
    posts = detail.posts(d, platform, account_id, limit=20, offset=offset)
    name = info["account"].get("screen_name") or account_id
    return render(
        request,
        "account.html",
        title=f"{name}",
        info=info,
        name=name,
        follower_svg=Markup(follower_svg),
        index_svg=Markup(index_svg),
        history=history,
        posts=posts,
    )


@router.get("/health", response_class=HTMLResponse)
def health(request: Request, d: DataDep, source: Text = None, offset: api.Offset = 0) -> Response:
    return render(
        request,
        "health.html",
        title="Data health",
        status=detail.status(d),
        runs=detail.runs(d, limit=50, offset=0),
        quarantine=detail.quarantine(d, source=source, limit=100, offset=offset),
        source=source,
    )
