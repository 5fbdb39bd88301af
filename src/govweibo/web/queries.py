"""Parameterised read queries for the web app, over a read-only store.

Identifiers that reach SQL come only from the whitelists below; every value is a bound
parameter. Results of whole-store aggregates are cached for the app's life: a read-only
DuckDB file cannot change while it is open (writers need the exclusive lock).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from govweibo import labels
from govweibo.analyses.base import Period
from govweibo.analyses.growth import opening_days
from govweibo.analyses.index import available_methods, compute_index, load_method
from govweibo.analyses.index_periods import INDEX_TABLE
from govweibo.analyses.rankings import group_rank_change
from govweibo.errors import AnalysisError, GovweiboError, NotFoundError
from govweibo.store import Store
from govweibo.store.lock import writer_waiting

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
# group_rank_change: the change within the list or group (rankings.group_rank_change), the
# one the report and `govweibo rank` show too.
BASE_COLUMNS = (
    "group_rank", "group_rank_change", "previous_group_rank", "rank", "platform", "account_id",
    "screen_name", "kind", "sector", "level", "province", "region", "followers", "posts",
)  # fmt: skip
# Coded columns a person may name in either language (公安 or public_security).
NAMED = ("sector", "level", "region", "kind", "province")
MAX_CACHED = 256
MAX_LISTS = 24  # whole ranking lists kept in memory (LRU)
WATCH_S = 0.1  # how often an idle app looks for a writer waiting for the store
WRITE_WAIT_S = 2.0  # longest a write (alert states) waits for reads in progress
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def _file_state(path: str) -> tuple[tuple[int, int], ...]:
    """Size and modification time of the store file and its write-ahead log."""
    out = []
    for name in (path, path + ".wal"):
        try:
            st = os.stat(name)
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((0, 0))
    return tuple(out)


def clean(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """NaN -> None so rows serialise as valid JSON."""
    for row in rows:
        for k, v in row.items():
            if isinstance(v, float) and v != v:
                row[k] = None
    return rows


class Data:
    """The app's view of one store: a thread-local cursor per worker and a result cache.

    The file stays open between requests only while no writer waits for it: once one does
    (store/lock.py), the connection closes as soon as no request is running, and the next
    request reopens it, seeing what the writer committed; caches of whole-store aggregates
    are dropped when the file has changed since they were computed.
    """

    def __init__(self, store: Store):
        self.store = store
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cache: dict[Any, Any] = {}
        self._lru: OrderedDict[Any, Any] = OrderedDict()
        self.compute_lock = threading.Lock()
        # Opening may wait for a writer: not under _lock, which the event loop takes
        # (enter/leave) and must never wait on.
        self._open_lock = threading.Lock()
        self._running = 0  # requests in progress
        self._generation = 0  # connections closed so far: a cursor of an older one is stale
        self._opened_on = _file_state(store.path)
        self._watcher: threading.Thread | None = None

    def view(self) -> Store:
        """A Store sharing the database, with this thread's own DuckDB cursor."""
        v = getattr(self._local, "view", None)
        if v is None or self._local.generation != self._generation:
            with self._open_lock:
                reopened = not self.store.is_open
                con = self.store.con.cursor()  # reopens a released store
                if reopened and _file_state(self.store.path) != self._opened_on:
                    # A writer has been at it: whole-store aggregates are out of date.
                    self._cache.clear()
                    self._lru.clear()
                    self._opened_on = _file_state(self.store.path)
                generation = self._generation
                self._watch()
            v = object.__new__(Store)
            v.path, v.read_only, v.con, v._ibis = self.store.path, True, con, None
            self._local.view, self._local.generation = v, generation
        return v

    def enter(self) -> None:
        """A request begins (the app's middleware calls this and `leave`)."""
        with self._lock:
            self._running += 1

    def leave(self) -> None:
        with self._lock:
            self._running -= 1
        self._let_writer_in()

    def _let_writer_in(self) -> bool:
        """Close the file when no request runs and a writer waits for it."""
        if not self.store.is_open or self._running or not writer_waiting(self.store.path):
            return False
        with self._lock:
            if self._running or not self.store.is_open:
                return False
            self.store.release()
            self._generation += 1
            return True

    def _watch(self) -> None:
        """While the file is open, look for a waiting writer also between requests."""
        if self._watcher is not None and self._watcher.is_alive():
            return

        def run() -> None:
            while self.store.is_open and not self._let_writer_in():
                time.sleep(WATCH_S)

        self._watcher = threading.Thread(target=run, name="govweibo-store-watch", daemon=True)
        self._watcher.start()

    def close(self) -> None:
        with self._lock:
            self.store.close()
            self._generation += 1

    @contextmanager
    def writing(self) -> Iterator[Store]:
        """A short read-write connection for the dashboard's few writes (alert states).

        A process cannot hold a file both read-only and read-write, so the read-only one
        is closed first (its cursors with it), once the other requests in progress are
        done (at most WRITE_WAIT_S: a request waiting to open the file counts too); reads
        wait for the write (`_open_lock`) and reopen the file after it, dropping the
        caches as after any writer."""
        with self._open_lock:
            deadline = time.monotonic() + WRITE_WAIT_S
            while True:
                with self._lock:
                    if self._running <= 1 or time.monotonic() >= deadline:  # 1: this one
                        self.store.release()
                        self._generation += 1
                        break
                time.sleep(0.01)
            with Store(self.store.path, lock_wait=self.store.lock_wait) as store:
                yield store

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
        return bool(self.cached(("has", table), lambda: self.view().has_table(table)))


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


def stamp(data: Data) -> tuple[str, int, int]:
    """The store file's identity for caches of computed results (path, size, mtime): a
    result computed for one state of the file is not served for another."""
    path = str(data.store.path)
    try:
        st = os.stat(path)
    except OSError:
        return (path, 0, 0)
    return (path, st.st_size, st.st_mtime_ns)


def precomputed(data: Data, period: str, method: str) -> bool:
    """Whether the store's index table holds `period` for `method`."""
    return data.has(INDEX_TABLE) and period in periods(data, method)


def period_index(data: Data, period: str, method: str) -> pa.Table:
    """The index of one period: the precomputed rows of the index table, or computed from the
    store now (cached per store state): any period the store can answer is answered."""
    if precomputed(data, period, method):
        return data.cached(
            ("pre", stamp(data), period, method),
            lambda: data.view().arrow(
                f"SELECT * FROM {INDEX_TABLE} WHERE period = ? AND method = ?", [period, method]
            ),
        )

    def run() -> pa.Table:
        gov = data.has("account_profiles")
        return compute_index(data.view(), period=period, method=method, government_only=gov)

    return data.lru(("index", stamp(data), period, method), run)


def ranked_list(data: Data, period: str, method: str, list_name: str) -> pa.Table:
    """A whole ranking list with group ranks and the change within the group against the
    previous period (rankings.group_rank_change), in default order (cached)."""
    prev = Period.parse(period).previous().label
    by, kind = LISTS[list_name]
    cols = rank_columns(method)

    def compute() -> pa.Table:
        cur, before = period_index(data, period, method), period_index(data, prev, method)
        if not cur.num_rows:
            return pa.table({c: pa.array([], pa.string()) for c in cols})
        if "rank" not in before.column_names:
            before = before.append_column("rank", pa.array([], pa.int64()))
        out = group_rank_change(cur, before, by=by, kind=kind, top_n=None)
        return out.select([c for c in cols if c in out.column_names])

    with data.compute_lock:  # one computation per list, however many requests wait for it
        return data.lru(("ranked", stamp(data), period, method, list_name), compute)


def post_span(data: Data) -> tuple[Any, Any]:
    """The first and last post time in the store (None, None when it holds none)."""
    row = data.rows("SELECT min(created_at) AS lo, max(created_at) AS hi FROM posts")[0]
    return row["lo"], row["hi"]


def period_notice(data: Data, period: str) -> tuple[str, dict[str, Any]] | None:
    """Why a period's list says nothing: the store holds no posts, or none in the period
    (with the span it does hold); None when the period has posts."""
    lo, hi = data.cached(("span", stamp(data)), lambda: post_span(data))
    if lo is None:
        return ("empty_store", {})
    p = Period.parse(period)
    first, last = (labels.beijing(t)[:10] for t in (lo, hi))
    if last < p.start.isoformat() or first >= p.end.isoformat():
        return ("no_posts_in_period", {"period": period, "first": first, "last": last})
    return None


def named(name: str, value: str) -> str:
    """The code behind a group or filter value given as a name in either language."""
    if name in NAMED:
        return labels.code_of(name, value) or value
    return value


def _sort_indices(t: pa.Table, keys: list[tuple[str, str]]) -> pa.Array:
    """Sort with nulls last (per-key null placement from pyarrow 25 on)."""
    if int(pa.__version__.split(".")[0]) >= 25:
        return pc.sort_indices(t, sort_keys=[(k, o, "at_end") for k, o in keys])
    return pc.sort_indices(t, sort_keys=keys, null_placement="at_end")


def rankings(data: Data, q: RankQuery) -> dict[str, Any]:
    """One page of a ranking list with rank change against the previous period."""
    period, cols = _check(q, data)
    by, _kind = LISTS[q.list]
    notice = None
    try:
        t = ranked_list(data, period, q.method, q.list)
    except GovweiboError as e:  # a period the store cannot answer here
        t = pa.table({c: pa.array([], pa.string()) for c in cols})
        notice = ("not_precomputed", {"period": period, "reason": str(e)})
    group = named(by, q.group) if by and q.group else None
    mask = None
    conds = sorted((k, named(k, v)) for k, v in q.filters.items())
    conds += [(by, group)] if by and group else []
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
    if notice is None:
        notice = period_notice(data, period)
    return {
        "period": period,
        "previous_period": Period.parse(period).previous().label,
        "precomputed": precomputed(data, period, q.method),
        # Why the list is empty, when the store says why: (label key, its values).
        "notice": notice,
        "method": q.method,
        "list": q.list,
        "group": group,
        "columns": cols,
        "total": t.num_rows,
        "limit": q.limit,
        "offset": q.offset,
        "items": rows,
    }
