"""JSON API under /api/: every table the pages show, paginated and filterable."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from govweibo.errors import AnalysisError
from govweibo.web import detail, queries
from govweibo.web.queries import Data, RankQuery

MAX_LIMIT = 500
MAX_CSV = 100_000


def _default(o: Any) -> Any:
    if isinstance(o, datetime | date):
        return o.isoformat()
    if isinstance(o, Decimal):
        return float(o)
    return str(o)


class JSON(JSONResponse):
    """Plain json.dumps: skips FastAPI's slow jsonable_encoder on large pages."""

    def render(self, content: Any) -> bytes:
        return json.dumps(
            content, ensure_ascii=False, default=_default, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")


router = APIRouter(prefix="/api", tags=["api"], default_response_class=JSON)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Rows per page (max {MAX_LIMIT}).")]
Offset = Annotated[int, Query(ge=0, le=100_000_000, description="Rows to skip.")]
Text = Annotated[str | None, Query(max_length=200)]
ListName = Literal["overall", "agencies", "officials", "sector", "level", "province"]
Grouping = Literal["sector", "level", "region", "kind", "province"]
Sort = Annotated[
    str | None,
    Query(
        max_length=40,
        pattern=r"^-?[a-z_]+$",
        description="Column to sort by; prefix '-' for descending.",
    ),
]


def data(request: Request) -> Data:
    return request.app.state.data  # type: ignore[no-any-return]


DataDep = Annotated[Data, Depends(data)]


def filters(
    province: Text = None,
    sector: Text = None,
    level: Text = None,
    region: Text = None,
    kind: Text = None,
) -> dict[str, str]:
    given = {"province": province, "sector": sector, "level": level, "region": region}
    given["kind"] = kind
    return {k: v for k, v in given.items() if v}


Filters = Annotated[dict[str, str], Depends(filters)]


def check_period(period: str | None) -> str | None:
    if not period:
        return None
    p = queries.Period.parse(period)
    if p.start < date(1971, 1, 1) or p.end > date(2100, 1, 1):
        raise AnalysisError(f"period {period!r} is out of range (1971-2099)")
    return p.label


def rank_query(
    filters: Filters,
    period: Annotated[
        str | None, Query(max_length=40, description="2011, 2011Q3, 2011-07 or a..b dates")
    ] = None,
    method: Annotated[str, Query(max_length=40, description="Index preset")] = "govweibo",
    list_: Annotated[ListName, Query(alias="list")] = "overall",
    group: Annotated[
        str | None, Query(max_length=200, description="Group value for sector/level/province")
    ] = None,
    sort: Sort = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RankQuery:
    return RankQuery(
        period=check_period(period),
        method=method,
        list=list_,
        group=group,
        filters=filters,
        sort=sort,
        limit=limit,
        offset=offset,
    )


RankDep = Annotated[RankQuery, Depends(rank_query)]


@router.get("/overview", summary="Headline counts")
def overview(d: DataDep) -> Response:
    return JSON(queries.headline(d))


@router.get("/growth", summary="Government accounts opened per month")
def growth(d: DataDep, province: Text = None) -> Response:
    items = queries.growth(d, province)
    return JSON({"province": province, "items": items})


@router.get("/distribution", summary="Government accounts per sector/level/region/kind/province")
def distribution(d: DataDep, by: Grouping = "sector", province: Text = None) -> Response:
    return JSON({"by": by, "province": province, "items": queries.distribution(d, by, province)})


@router.get("/rankings", summary="A ranking list, paginated and sortable")
def rankings(d: DataDep, q: RankDep) -> Response:
    return JSON(queries.rankings(d, q))


@router.get("/rankings/meta", summary="Periods, methods, lists and sortable columns")
def rankings_meta(
    d: DataDep, method: Annotated[str, Query(max_length=40)] = "govweibo"
) -> Response:
    if method not in queries.methods():
        raise AnalysisError(f"unknown method {method!r}; presets: {', '.join(queries.methods())}")
    return JSON(
        {
            "periods": queries.periods(d, method),
            "methods": queries.methods(),
            "lists": list(queries.LISTS),
            "columns": queries.rank_columns(method),
        }
    )


def csv_safe(v: Any) -> Any:
    """Neutralise spreadsheet formulas in text cells."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def rankings_csv(d: Data, q: RankQuery) -> Response:
    result = queries.rankings(d, q)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["period", *result["columns"]])
    for row in result["items"]:
        w.writerow([result["period"], *(csv_safe(row.get(c)) for c in result["columns"])])
    name = f"govweibo-rankings-{result['period']}-{q.list}.csv".replace("..", "_")
    return Response(
        buf.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/accounts", summary="Accounts with their classification")
def accounts(
    d: DataDep, f: Filters, q: Text = None, limit: Limit = 50, offset: Offset = 0
) -> Response:
    return JSON(detail.accounts(d, filters=f, q=q, limit=limit, offset=offset))


@router.get("/accounts/{platform}/{account_id}", summary="One account and its classification")
def account(d: DataDep, platform: str, account_id: str) -> Response:
    return JSON(detail.account(d, platform, account_id))


@router.get("/accounts/{platform}/{account_id}/observations", summary="Follower counts over time")
def observations(
    d: DataDep, platform: str, account_id: str, limit: Limit = 100, offset: Offset = 0
) -> Response:
    return JSON(detail.observations(d, platform, account_id, limit=limit, offset=offset))


@router.get("/accounts/{platform}/{account_id}/posts", summary="The account's posts, newest first")
def posts(
    d: DataDep, platform: str, account_id: str, limit: Limit = 20, offset: Offset = 0
) -> Response:
    return JSON(detail.posts(d, platform, account_id, limit=limit, offset=offset))


@router.get("/accounts/{platform}/{account_id}/index", summary="Index score per period")
def account_index(
    d: DataDep,
    platform: str,
    account_id: str,
    method: Annotated[str, Query(max_length=40)] = "govweibo",
) -> Response:
    return JSON({"method": method, "items": detail.index_history(d, platform, account_id, method)})


@router.get("/status", summary="Store path, table counts, post span, platforms")
def status(d: DataDep) -> Response:
    return JSON(detail.status(d))


@router.get("/runs", summary="Ingest runs, newest first")
def runs(d: DataDep, limit: Limit = 50, offset: Offset = 0) -> Response:
    return JSON(detail.runs(d, limit=limit, offset=offset))


@router.get("/quarantine", summary="Quarantined records with their reasons")
def quarantine(d: DataDep, source: Text = None, limit: Limit = 100, offset: Offset = 0) -> Response:
    return JSON(detail.quarantine(d, source=source, limit=limit, offset=offset))
