"""Parameterised read queries for the web app, over a read-only store.

Identifiers that reach SQL come only from the whitelists below; every value is a bound
parameter. Results of whole-store aggregates are cached for the app's life: a read-only
DuckDB file cannot change while it is open (writers need the exclusive lock).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from govweibo.analyses.base import Period
from govweibo.analyses.growth import opening_days
from govweibo.analyses.index import available_methods, compute_index, load_method
from govweibo.analyses.index_periods import INDEX_TABLE
from govweibo.errors import AnalysisError, NotFoundError
from govweibo.store import Store

LISTS: dict[str, tuple[str | None, str | None]] = {
    "overall": (None, None),
    "agencies": (None, "agency"),
    "officials": (None, "official"),
    "sector": ("sector", None),
    "level": ("level", None),
    "province": ("province", None),
}
FILTERS = ("province", "sector", "level", "region", "kind")
GROUPINGS = ("sector", "level", "region", "kind", "province")
BASE_COLUMNS = (
    "group_rank", "rank_change", "previous_rank", "rank", "platform", "account_id",
    "screen_name", "kind", "sector", "level", "province", "region", "followers", "posts",
)  # fmt: skip
MAX_CACHED = 256
MAX_LISTS = 24  # whole ranking lists kept in memory (LRU)
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def clean(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """NaN -> None so rows serialise as valid JSON."""
    for row in rows:
        for k, v in row.items():
            if isinstance(v, float) and v != v:
                row[k] = None
    return rows


class Data:
    """The app's view of one store: a thread-local cursor per worker and a result cache."""

    def __init__(self, store: Store):
        self.store = store
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cache: dict[Any, Any] = {}
        self._lru: OrderedDict[Any, Any] = OrderedDict()
        self.compute_lock = threading.Lock()

    def view(self) -> Store:
        """A Store sharing the database, with this thread's own DuckDB cursor."""
        v = getattr(self._local, "view", None)
        if v is None:
            with self._lock:
                con = self.store.con.cursor()
            v = object.__new__(Store)
            v.path, v.read_only, v.con, v._ibis = self.store.path, True, con, None
            self._local.view = v
        return v

    def close(self) -> None:
        self.store.close()

    def cached(self, key: Any, fn: Callable[[], Any]) -> Any:
        if key in self._cache:
            return self._cache[key]
        value = fn()
        if len(self._cache) < MAX_CACHED:  # bounded: keys can come from query parameters
            self._cache[key] = value
        return value

    def lru(self, key: Any, fn: Callable[[], Any]) -> Any:
        """Like cached(), for large values: keeps the MAX_LISTS most recently used."""
        if key in self._lru:
            self._lru.move_to_end(key)
            return self._lru[key]
        value = self._lru[key] = fn()
        while len(self._lru) > MAX_LISTS:
            self._lru.popitem(last=False)
        return value

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        return clean(self.view().arrow(sql, params).to_pylist())

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        row = self.view().con.execute(sql, params or []).fetchone()
        return row[0] if row else None

    def has(self, table: str) -> bool:
        return bool(self.cached(("has", table), lambda: self.store.has_table(table)))


# Overview ----------------------------------------------------------------------------------


# The account_profiles rows counted as government accounts.
GOV = "FROM account_profiles WHERE coalesce(is_government, false)"


def headline(data: Data) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        out: dict[str, Any] = {
            "accounts": data.scalar("SELECT count(*) FROM accounts"),
            "posts": data.scalar("SELECT count(*) FROM posts"),
            "government_accounts": None,
            "agencies": None,
            "officials": None,
            "provinces": None,
        }
        if data.has("account_profiles"):
            row = data.rows(
                "SELECT count(*) AS n, count(*) FILTER (WHERE kind = 'agency') AS agencies, "
                "count(*) FILTER (WHERE kind = 'official') AS officials, "
                f"count(DISTINCT province) AS provinces {GOV}"
            )[0]
            out.update(
                government_accounts=row["n"],
                agencies=row["agencies"],
                officials=row["officials"],
                provinces=row["provinces"],
            )
        latest = (
            "SELECT arg_max(followers, observed_at) AS f FROM account_observations "
            "WHERE followers IS NOT NULL GROUP BY platform, account_id"
        )
        row = data.rows(
            f"SELECT count(*) FILTER (WHERE f >= 100000) AS over_100k, "
            f"count(*) FILTER (WHERE f >= 1000000) AS over_1m FROM ({latest})"
        )[0]
        out.update(over_100000_followers=row["over_100k"], over_1000000_followers=row["over_1m"])
        return out

    return dict(data.cached("headline", compute))


def distribution(data: Data, by: str, province: str | None = None) -> list[dict[str, Any]]:
    """Government accounts per value of `by` (optionally within one province)."""
    if by not in GROUPINGS:
        raise AnalysisError(f"cannot group by {by!r}; choose from {', '.join(GROUPINGS)}")
    if not data.has("account_profiles"):
        return []
    where, params = ("AND province = ?", [province]) if province else ("", [])
    return data.cached(
        ("dist", by, province),
        lambda: data.rows(
            f'SELECT "{by}" AS "group", count(*) AS accounts {GOV} {where} '
            f'GROUP BY "{by}" ORDER BY accounts DESC, "group" NULLS LAST',
            params,
        ),
    )


def province_counts(data: Data) -> dict[str, float | None]:
    return {
        r["group"]: float(r["accounts"])
        for r in distribution(data, "province")
        if r["group"] is not None
    }


def growth(data: Data, province: str | None = None) -> list[dict[str, Any]]:
    """Accounts opened per month and cumulative (growth.opening_days, per province)."""
    return data.cached(("growth", province), lambda: _growth(data, province))


def _growth(data: Data, province: str | None) -> list[dict[str, Any]]:

    def days() -> pa.Table:
        gov = data.has("account_profiles")
        by = "province" if gov else None
        return opening_days(data.view(), government_only=gov, by=by).to_pyarrow()

    t = data.cached("opening_days", days)
    per: dict[str, int] = {}
    provs = t["province"].to_pylist() if "province" in t.column_names else [None] * t.num_rows
    for day, n, prov in zip(t["day"].to_pylist(), t["n"].to_pylist(), provs, strict=True):
        if province and prov != province:
            continue
        d = date(1970, 1, 1) + timedelta(days=int(day))
        key = f"{d.year}-{d.month:02d}"
        per[key] = per.get(key, 0) + int(n)
    if not per:
        return []
    months, (y, m) = [], map(int, min(per).split("-"))
    last = max(per)
    while f"{y}-{m:02d}" <= last:
        months.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    out, run = [], 0
    for key in months:
        run += per.get(key, 0)
        out.append({"month": key, "opened": per.get(key, 0), "cumulative": run})
    return out


# Rankings ----------------------------------------------------------------------------------


@dataclass
class RankQuery:
    period: str | None = None
    method: str = "govweibo"
    list: str = "overall"
    group: str | None = None
    filters: dict[str, str] = field(default_factory=dict)
    sort: str | None = None
    limit: int = 50
    offset: int = 0


@cache
def _methods() -> tuple[str, ...]:
    return tuple(available_methods())


def methods() -> list[str]:
    return list(_methods())


def periods(data: Data, method: str = "govweibo") -> list[str]:
    """Periods that can be ranked, newest first."""
    if data.has(INDEX_TABLE):
        return data.cached(
            ("periods", method),
            lambda: [
                r["period"]
                for r in data.rows(
                    f"SELECT DISTINCT period FROM {INDEX_TABLE} WHERE method = ? "
                    "ORDER BY period DESC",
                    [method],
                )
            ],
        )
    sql = (
        "SELECT DISTINCT CAST(year(CAST(created_at AS TIMESTAMP) + INTERVAL 8 HOUR) AS VARCHAR)"
        " AS y FROM posts WHERE created_at IS NOT NULL ORDER BY y DESC"
    )
    return data.cached("years", lambda: [r["y"] for r in data.rows(sql)])


def rank_columns(method: str) -> list[str]:
    dims = [d.name for d in load_method(method).dimensions]
    bad = [d for d in dims if not _IDENT.match(d)]
    if bad:
        raise AnalysisError(f"method {method!r} has dimension names unusable as columns: {bad}")
    return [*BASE_COLUMNS, *dims, "score"]


def _check(q: RankQuery, data: Data) -> tuple[str, list[str]]:
    if q.method not in methods():
        raise AnalysisError(f"unknown method {q.method!r}; presets: {', '.join(methods())}")
    if q.list not in LISTS:
        raise AnalysisError(f"unknown list {q.list!r}; choose from {', '.join(LISTS)}")
    cols = rank_columns(q.method)
    if q.sort and q.sort.lstrip("-") not in cols:
        raise AnalysisError(f"cannot sort by {q.sort!r}; choose from {', '.join(cols)}")
    unknown = set(q.filters) - set(FILTERS)
    if unknown:
        raise AnalysisError(f"unknown filter(s) {sorted(unknown)}; choose from {FILTERS}")
    if q.period:
        period = Period.parse(q.period).label
    else:
        avail = periods(data, q.method)
        if not avail:
            raise NotFoundError("nothing to rank: the store has no posts or index")
        period = avail[0]
    return period, cols


def _computed(data: Data, period: str, method: str) -> pa.Table:
    def run() -> pa.Table:
        gov = data.has("account_profiles")
        return compute_index(data.view(), period=period, method=method, government_only=gov)

    return data.cached(("index", period, method), run)


def ranked_list(data: Data, period: str, method: str, list_name: str) -> pa.Table:
    """A whole ranking list with group ranks and rank change, in default order (cached)."""
    prev = Period.parse(period).previous().label
    by, kind = LISTS[list_name]
    cols = rank_columns(method)

    def compute() -> pa.Table:
        if data.has(INDEX_TABLE):
            con: Any = data.view().con
            src = f"(SELECT * FROM {INDEX_TABLE} WHERE period = ? AND method = ?)"
            cur_src, cur_p, prev_src, prev_p = src, [period, method], src, [prev, method]
        else:
            con = duckdb.connect()
            con.register("_cur", _computed(data, period, method))
            con.register("_prev", _computed(data, prev, method))
            cur_src, cur_p, prev_src, prev_p = "_cur", [], "_prev", []
        part = f'PARTITION BY "{by}"' if by else ""
        cond = " AND ".join(
            ["TRUE", *(["kind = ?"] if kind else []), *([f'"{by}" IS NOT NULL'] if by else [])]
        )
        kp = [kind] if kind else []

        def ranked(s: str) -> str:
            return (
                f"SELECT *, rank() OVER ({part} ORDER BY score DESC) AS group_rank "
                f"FROM {s} AS s WHERE {cond}"
            )

        select = ", ".join(
            'p.group_rank AS "previous_rank"'
            if c == "previous_rank"
            else 'p.group_rank - c.group_rank AS "rank_change"'
            if c == "rank_change"
            else f'c."{c}"'
            for c in cols
        )
        order = ([f'c."{by}"'] if by else []) + ['c."group_rank"', "c.platform", "c.account_id"]
        sql = (
            f"WITH cur AS ({ranked(cur_src)}), prev AS ({ranked(prev_src)}) "
            f"SELECT {select} FROM cur c LEFT JOIN prev p "
            f"ON p.platform = c.platform AND p.account_id = c.account_id "
            f"ORDER BY {', '.join(order)}"
        )
        return con.execute(sql, [*cur_p, *kp, *prev_p, *kp]).to_arrow_table()

    with data.compute_lock:  # one computation per list, however many requests wait for it
        return data.lru(("ranked", period, method, list_name), compute)


def _sort_indices(t: pa.Table, keys: list[tuple[str, str]]) -> pa.Array:
    """Sort with nulls last (per-key null placement from pyarrow 25 on)."""
    if int(pa.__version__.split(".")[0]) >= 25:
        return pc.sort_indices(t, sort_keys=[(k, o, "at_end") for k, o in keys])
    return pc.sort_indices(t, sort_keys=keys, null_placement="at_end")


def rankings(data: Data, q: RankQuery) -> dict[str, Any]:
    """One page of a ranking list with rank change against the previous period."""
    period, cols = _check(q, data)
    by, _kind = LISTS[q.list]
    t = ranked_list(data, period, q.method, q.list)
    mask = None
    conds = sorted(q.filters.items()) + ([(by, q.group)] if by and q.group else [])
    for name, value in conds:
        m = pc.fill_null(pc.equal(t[name], pa.scalar(value, pa.string())), False)
        mask = m if mask is None else pc.and_(mask, m)
    if mask is not None:
        t = t.filter(mask)
    if q.sort:
        name = q.sort.lstrip("-")
        keys = [(name, "descending" if q.sort.startswith("-") else "ascending")]
        keys += [(k, "ascending") for k in ("group_rank", "platform", "account_id")]
        t = t.take(_sort_indices(t, keys))
    rows = clean(t.slice(q.offset, q.limit).to_pylist())
    return {
        "period": period,
        "previous_period": Period.parse(period).previous().label,
        "method": q.method,
        "list": q.list,
        "group": q.group,
        "columns": cols,
        "total": t.num_rows,
        "limit": q.limit,
        "offset": q.offset,
        "items": rows,
    }
