"""HTML pages (Jinja2, autoescaped): overview, rankings, account, data health."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
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

from govweibo import labels
from govweibo.errors import GovweiboError
from govweibo.reference import provinces
from govweibo.report.charts import line_chart_svg
from govweibo.report.provincemap import choropleth_svg
from govweibo.report.yearly import relative_sources
from govweibo.web import api, detail, queries
from govweibo.web.api import MAX_CSV, DataDep, Filters, RankDep, Text

router = APIRouter(include_in_schema=False)
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(resources.files("govweibo.web") / "templates")),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
templates = Jinja2Templates(env=_env)
HIDDEN = {"platform", "account_id"}
LANG_COOKIE = "govweibo_lang"


class Words:
    """The labels of one language for the templates: `L.t("overview")` (dashboard text),
    `L.h("followers")` (a column header), `L.v("sector", code)` (a code's name),
    `L.cell(column, value)` (a formatted cell), `L.time(ts)` (Beijing time)."""

    def __init__(self, lang: str):
        self.lang = lang
        self.web = labels.texts("web", lang)

    def t(self, key: str, **kw: Any) -> str:
        s = self.web[key]
        return s.format(**kw) if kw else s

    def text(self, key: str, **kw: Any) -> str:
        return labels.text(key, self.lang, **kw)

    def h(self, column: str) -> str:
        return labels.header(column, self.lang)

    def v(self, kind: str, code: Any) -> str:
        return labels.value(kind, code, self.lang)

    def cell(self, column: str, value: Any) -> str:
        return labels.cell(column, value, self.lang)

    def n(self, value: Any) -> str:
        return labels.number(value, self.lang)

    def time(self, value: Any) -> str:
        return labels.beijing(value, self.lang)

    def method(self, name: str) -> str:
        shipped = labels.method_text(name, self.lang)
        return shipped["title"] if shipped else name


def page_lang(request: Request) -> str:
    """?lang= (remembered in a cookie), else the cookie, else the `lang` setting."""
    for given in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if given in labels.LANGS:
            return given
    return _default_lang()


@cache
def _default_lang() -> str:
    from govweibo.settings import load

    try:
        return str(load().lang)
    except GovweiboError:  # a broken config file is reported by the CLI, not the pages
        return "zh"


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
    lang = page_lang(request)
    other = "en" if lang == "zh" else "zh"
    resp = templates.TemplateResponse(
        request,
        template,
        {"qs": lambda **kw: qs(request, **kw), "L": Words(lang), "other_lang": other, **ctx},
        status_code=code,
    )
    if request.query_params.get("lang") in labels.LANGS:
        resp.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="strict", path="/")
    return resp


def error_page(request: Request, status: int, message: str) -> Response:
    title = Words(page_lang(request)).t("error", status=status)
    return render(request, "error.html", status, title=title, status=status, message=message)


# Charts ------------------------------------------------------------------------------------


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    width: int = 420,
    bar: int = 18,
    color: str = "#4292c6",
    links: Sequence[str | None] | None = None,
    empty: str = "–",
) -> str:
    """Horizontal bars, one per (label, value); `links` optionally makes each bar a link;
    `empty` is shown when there are none."""
    label_w, top = 130, 24
    height = top + bar * max(len(items), 1) + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label={quoteattr(title)}>'
        f"<title>{xml_escape(title)}</title>"
        f'<text x="4" y="14" font-size="13" font-weight="bold">{xml_escape(title)}</text>'
    ]
    if not items:
        out.append(f'<text x="4" y="{top + 12}" font-size="11">{xml_escape(empty)}</text></svg>')
        return "".join(out)
    hi = max(v for _, v in items) or 1.0
    for i, (lbl, v) in enumerate(items):
        yy = top + i * bar
        w = (width - label_w - 60) * v / hi
        row = (
            f'<text x="{label_w - 4}" y="{yy + bar * 0.7:.1f}" font-size="11" '
            f'text-anchor="end">{xml_escape(lbl)}</text>'
            f'<rect x="{label_w}" y="{yy + 2}" width="{w:.1f}" height="{bar - 4}" fill="{color}">'
            f"<title>{xml_escape(lbl)}: {xml_escape(f'{v:,.0f}')}</title></rect>"
            f'<text x="{label_w + w + 4:.1f}" y="{yy + bar * 0.7:.1f}" font-size="10">'
            f"{xml_escape(f'{v:,.0f}')}</text>"
        )
        href = links[i] if links else None
        out.append(f"<a href={quoteattr(href)}>{row}</a>" if href else row)
    out.append("</svg>")
    return "".join(out)


# Overview ----------------------------------------------------------------------------------

_PROVINCE = re.compile(
    r'(<(path|circle) class="(?:province|marker)" data-province="([^"]*)".*?</\2>)', re.S
)


def _linked_map(values: dict[str, float | None], selected: str | None, w: Words) -> str:
    known = {p.short_zh for p in provinces()} | {p.name_zh for p in provinces()}
    svg_text = choropleth_svg(
        {k: v for k, v in values.items() if k in known},
        title=w.t("map_title"),
        legend_title=w.t("accounts"),
        lang=w.lang,
        width=720,
        value_format=lambda v: f"{v:,.0f}",
    )

    def link(m: re.Match[str]) -> str:
        name = m.group(3)
        cls = ' class="selected"' if name == selected else ""
        href = escape("/?province=" + quote(name), quote=True)
        label = escape(w.v("province", name))
        return f'<a href="{href}"{cls} aria-label="{label}">{m.group(1)}</a>'

    return _PROVINCE.sub(link, svg_text)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, d: DataDep, province: Text = None) -> Response:
    w = Words(page_lang(request))
    if province:
        province = queries.named("province", province)
    head = queries.headline(d)
    grow = queries.growth(d, province)
    where = f" · {w.v('province', province)}" if province else ""
    months = [g["month"] for g in grow]
    growth_svg = line_chart_svg(
        months,
        {w.t("cumulative"): [g["cumulative"] for g in grow]},
        title=w.t("cumulative") + where,
        width=640,
    )
    opened_svg = line_chart_svg(
        months,
        {w.t("opened"): [g["opened"] for g in grow]},
        title=w.t("opened") + where,
        width=640,
    )
    dists = {}
    for by in ("sector", "level", "region", "kind"):
        rows = queries.distribution(d, by, province)[:15]
        items = [
            (w.v(by, r["group"]) if r["group"] is not None else w.t("unknown"),
             float(r["accounts"]))
            for r in rows
        ]  # fmt: skip
        links = [_dist_link(by, r["group"], province) for r in rows]
        title = w.t("by", name=w.t(f"by_{by}")) + where
        dists[by] = Markup(bar_chart(items, title=title, links=links))
    gov = d.has("account_profiles")
    everyone, government = (
        labels.text("population_all", w.lang),
        labels.text("population_government", w.lang),
    )
    # (value, label, population): every tile says whom it counts (the report counts
    # government accounts only; here the store's totals come first).
    tiles = [(head["accounts"], w.t("accounts"), everyone)]
    if head["government_accounts"] is not None:
        tiles += [
            (head["government_accounts"], w.t("government_accounts"), government),
            (head["agencies"], w.t("agencies"), government),
            (head["officials"], w.t("officials"), government),
            (head["provinces"], w.t("provinces"), government),
        ]
    tiles += [
        (head["posts"], w.t("posts"), everyone),
        (head["over_100000_followers"], w.t("over_100000"), everyone),
        (head["over_1000000_followers"], w.t("over_1000000"), everyone),
    ]
    return render(
        request,
        "overview.html",
        title=w.t("overview"),
        tiles=[(w.n(v), k, who) for v, k, who in tiles],
        province=province,
        growth_svg=Markup(growth_svg),
        opened_svg=Markup(opened_svg),
        map_svg=Markup(
            d.cached(
                ("map", province, w.lang),
                lambda: _linked_map(queries.province_counts(d), province, w),
            )
        ),
        dists=dists,
        has_profiles=gov,
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
    w = Words(page_lang(request))
    result = queries.rankings(d, q)
    cols = [c for c in result["columns"] if c not in HIDDEN]
    by, _kind = queries.LISTS[result["list"]]
    notice = None
    if result["notice"]:
        key, values = result["notice"]
        notice = w.text(key, **values)
    periods = queries.periods(d, q.method)
    if result["period"] not in periods:  # computed on demand: offered in the list too
        periods = [result["period"], *periods]
    return render(
        request,
        "rankings.html",
        title=w.t("rankings"),
        r=result,
        q=q,
        cols=cols,
        group_name=w.v(by, result["group"]) if by and result["group"] else None,
        province_filter=q.filters.get("province", ""),
        notice=notice,
        periods=periods,
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
    w = Words(page_lang(request))
    info = detail.account(d, platform, account_id)
    obs = detail.observations(d, platform, account_id, limit=api.MAX_LIMIT, offset=0)["items"]
    follower_svg = line_chart_svg(
        [w.time(o["observed_at"])[:10] for o in obs],
        {w.t("followers_chart"): [o["followers"] for o in obs]},
        title=w.t("followers_chart"),
        width=560,
    )
    history = detail.index_history(d, platform, account_id, "govweibo")
    index_svg = line_chart_svg(
        [h["period"] for h in history],
        {w.t("index_chart"): [h["score"] for h in history]},
        title=w.t("index_chart"),
        width=560,
    )
    posts = detail.posts(d, platform, account_id, limit=20, offset=offset)
    name = info["account"].get("screen_name") or account_id
    profile = info["profile"]
    return render(
        request,
        "account.html",
        title=f"{name}",
        info=info,
        name=name,
        evidence=[_evidence_line(e, w) for e in profile["evidence"]] if profile else [],
        follower_svg=Markup(follower_svg),
        index_svg=Markup(index_svg),
        history=history,
        posts=posts,
    )


_EVIDENCE = re.compile(r"^\s*([a-z_]+)=(.*?)(?:\s*<-\s*(.*))?$")
EVIDENCE_KINDS = {"sector": "sector", "level": "level", "province": "province",
                  "rule": "rule", "verified_type": "verified_type", "kind": "kind"}  # fmt: skip


def _evidence_line(item: str, w: Words) -> str:
    """One part of the registry's evidence ("sector=public_security <- name:公安") in words:
    the key's header, the code's name, and what it was read from."""
    m = _EVIDENCE.match(item)
    if not m:
        return item
    key, value, source = m.group(1), m.group(2).strip(), m.group(3)
    kind = EVIDENCE_KINDS.get(key)
    shown = w.v(kind, value) if kind else value
    if kind == "rule" and shown == value:  # a rule of its own: readable, not a code
        shown = value.replace("_", " ")
    sep = "：" if w.lang == "zh" else ": "
    return f"{w.h(key)}{sep}{shown}" + (f" ({_source(source, w)})" if source else "")


def _source(source: str, w: Words) -> str:
    """What a classification was read from ("name 云南省", "province_code 11") in words;
    a matched term alone (公安) is shown as it is."""
    tags = labels.values("evidence_source", w.lang)
    for tag in sorted(tags, key=len, reverse=True):
        if source == tag or source.startswith(tag + " "):
            return f"{tags[tag]} {source[len(tag) :].strip()}".strip()
    return source


@router.get("/health", response_class=HTMLResponse)
def health(request: Request, d: DataDep, source: Text = None, offset: api.Offset = 0) -> Response:
    w = Words(page_lang(request))
    runs = detail.runs(d, limit=50, offset=0)
    quarantine = detail.quarantine(d, source=source, limit=100, offset=offset)
    # Sources relative to the ingest root (the common folder of the runs' sources): no
    # server paths on the web.
    paths = [r.get("source_path") for r in runs["items"]]
    paths += [q.get("source_path") for q in quarantine["items"]]
    rel = dict(zip(paths, relative_sources(paths), strict=True))
    return render(
        request,
        "health.html",
        title=w.t("health"),
        status=detail.status(d),
        runs=runs,
        quarantine=quarantine,
        source_name=lambda p: rel.get(p, p) or "",
        source=source,
    )
