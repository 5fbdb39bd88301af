"""The influence index: per account and period, four named dimensions, 0-100 score and rank.

All computation is one Ibis expression over the store's tables (so it can run on another
Ibis backend such as Spark); the method (indicators, transforms, weights) is a TOML file.
See docs/methods-index.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from govweibo.analyses.methods import (
    INDICATORS,
    Dimension,
    Indicator,
    Method,
    available_methods,
    load_method,
)
from govweibo.errors import AnalysisError

__all__ = ["INDICATORS", "Dimension", "Indicator", "Method", "Period", "available_methods",
           "compute_index", "index_expr", "load_method", "raw_indicators"]  # fmt: skip

BEIJING_OFFSET_S = 8 * 3600
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PROFILE_COLUMNS = ("kind", "sector", "level", "province", "region")


# Periods -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A span of Beijing-time (UTC+8) calendar days: start inclusive, end exclusive."""

    start: date
    end: date
    label: str
    kind: str = "range"  # year | quarter | month | range

    @classmethod
    def year(cls, y: int) -> Period:
        return cls(date(y, 1, 1), date(y + 1, 1, 1), f"{y}", "year")

    @classmethod
    def quarter(cls, y: int, q: int) -> Period:
        if not 1 <= q <= 4:
            raise AnalysisError(f"quarter must be 1-4, got {q}")
        end = date(y + 1, 1, 1) if q == 4 else date(y, 3 * q + 1, 1)
        return cls(date(y, 3 * q - 2, 1), end, f"{y}Q{q}", "quarter")

    @classmethod
    def month(cls, y: int, m: int) -> Period:
        if not 1 <= m <= 12:
            raise AnalysisError(f"month must be 1-12, got {m}")
        end = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
        return cls(date(y, m, 1), end, f"{y}-{m:02d}", "month")

    @classmethod
    def between(cls, start: date | str, until: date | str) -> Period:
        """From `start` to `until`, both days inclusive."""
        a = date.fromisoformat(start) if isinstance(start, str) else start
        b = date.fromisoformat(until) if isinstance(until, str) else until
        if b < a:
            raise AnalysisError(f"period ends ({b}) before it starts ({a})")
        return cls(a, b + timedelta(days=1), f"{a.isoformat()}..{b.isoformat()}", "range")

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """'2011', '2011Q3', '2011-07', '2011-07-01..2011-09-30' (or '/' between dates)."""
        if isinstance(text, Period):
            return text
        s = str(text).strip()
        try:
            if m := re.fullmatch(r"(\d{4})", s):
                return cls.year(int(m[1]))
            if m := re.fullmatch(r"(\d{4})-?[Qq]([1-4])", s):
                return cls.quarter(int(m[1]), int(m[2]))
            if m := re.fullmatch(r"(\d{4})-(\d{1,2})", s):
                return cls.month(int(m[1]), int(m[2]))
            if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*(?:\.\.|/)\s*(\d{4}-\d{2}-\d{2})", s):
                return cls.between(m[1], m[2])
        except ValueError as exc:
            raise AnalysisError(f"bad period {s!r}: {exc}") from None
        raise AnalysisError(f"bad period {s!r} (try 2011, 2011Q3, 2011-07, 2011-01-01..2011-06-30)")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def start_utc(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC) - timedelta(
            seconds=BEIJING_OFFSET_S
        )

    @property
    def end_utc(self) -> datetime:
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC) - timedelta(
            seconds=BEIJING_OFFSET_S
        )

    def previous(self) -> Period:
        """The preceding period of the same kind (same number of days for ranges)."""
        s = self.start
        if self.kind == "year":
            return Period.year(s.year - 1)
        if self.kind == "quarter":
            q = (s.month - 1) // 3 + 1
            return Period.quarter(s.year - 1, 4) if q == 1 else Period.quarter(s.year, q - 1)
        if self.kind == "month":
            return (
                Period.month(s.year - 1, 12) if s.month == 1 else Period.month(s.year, s.month - 1)
            )
        return Period.between(s - timedelta(days=self.days), s - timedelta(days=1))


# Computation -------------------------------------------------------------------------------

TableGetter = Callable[[str], Any]


def tables_of(source: Any) -> tuple[TableGetter, Callable[[str], bool]]:
    """Accept a Store or a mapping of table name -> Ibis table (e.g. from another backend)."""
    if isinstance(source, Mapping):
        return (lambda n: source[n]), (lambda n: n in source)
    return source.table, source.has_table


def accounts_universe(source: Any, *, government_only: bool = True, platform: str | None = None):
    """Accounts with their profile columns (from table account_profiles when present)."""
    table, has = tables_of(source)
    acc = table("accounts")
    acc = acc.select("platform", "account_id", "screen_name", acc.created_at.name("opened_at"))
    if has("account_profiles"):
        prof = table("account_profiles")
        prof = prof.select("platform", "account_id", "is_government", *PROFILE_COLUMNS)
        if government_only:
            prof = prof.filter(prof.is_government.fill_null(False))
            base = prof.left_join(acc, ["platform", "account_id"])
        else:
            base = acc.left_join(prof, ["platform", "account_id"])
        base = base.select("platform", "account_id", "screen_name", "opened_at", *PROFILE_COLUMNS)
    elif government_only:
        raise AnalysisError(
            "no account_profiles table: run the registry first, or pass government_only=False"
        )
    else:
        base = acc.mutate(**{c: ibis.null("string") for c in PROFILE_COLUMNS})
    if platform:
        base = base.filter(base.platform == platform)
    return base


@ibis.udf.scalar.builtin(name="epoch_us")
def _epoch_us(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type]
    """DuckDB's epoch_us: microseconds since the epoch of the instant (time-zone free)."""


def beijing_day(ts: Any) -> Any:
    """Days since 1970-01-01 in Beijing time, independent of the session time zone."""
    try:
        backend = ts._find_backend().name
    except Exception:  # an unbound expression
        backend = ""
    if backend == "duckdb":  # fast path; the generic one below goes through ICU per row
        return (_epoch_us(ts) + BEIJING_OFFSET_S * 1_000_000) // 86_400_000_000
    secs = ts.delta(ibis.literal(EPOCH), unit="second")
    return ((secs + BEIJING_OFFSET_S) / 86400).floor()


def raw_indicators(
    source: Any,
    period: Period,
    *,
    government_only: bool = True,
    platform: str | None = None,
    needed: set[str] | None = None,
):
    """Ibis expression: one row per account with every raw indicator of INDICATORS.

    With `needed`, the costly ones not in it (active_days/regularity, the interaction
    indicators) are left null instead of computed.
    """
    table, has = tables_of(source)
    want = set(INDICATORS) if needed is None else set(needed)
    days_needed = bool(want & {"active_days", "regularity"})
    inter_needed = bool(want & {"replies", "public_comments", "reply_rate"})
    orig_needed = bool(want & {"original_posts", "original_share"})
    lo, hi = ibis.literal(period.start_utc), ibis.literal(period.end_utc)
    base = accounts_universe(source, government_only=government_only, platform=platform)
    base = base.filter(base.opened_at.isnull() | (base.opened_at < hi)).drop("opened_at")
    keys = ["platform", "account_id"]

    zero = ibis.literal(0)
    p = table("posts")
    p = p.filter((p.created_at >= lo) & (p.created_at < hi) & p.author_id.notnull())
    if platform:  # one platform: group by the author alone (markedly faster)
        p = p.filter(p.platform == platform)
    by = (
        [p.author_id.name("account_id")]
        if platform
        else [p.platform, p.author_id.name("account_id")]
    )
    pa_ = p.group_by(by).aggregate(
        posts=p.count(),
        original_posts=(
            p.count(where=p.retweeted_post_id.isnull()) if orig_needed else ibis.null("int64")
        ),
        reposts=p.reposts.sum(),
        comments=p.comments.sum(),
        likes=p.likes.sum(),
        **({"active_days": beijing_day(p.created_at).nunique()} if days_needed else {}),
    )
    if platform:
        pa_ = pa_.mutate(platform=ibis.literal(platform))
    o = table("account_observations").filter(lambda t: t.followers.notnull())
    o = o.mutate(
        _k=ibis.row_number().over(
            group_by=keys, order_by=[ibis.desc(o.observed_at <= hi), ibis.desc(o.observed_at)]
        )
    )
    fol = o.filter(o._k == 0).select(*keys, "followers")

    out = base.left_join(pa_, keys).drop("platform_right", "account_id_right")
    out = out.left_join(fol, keys).drop("platform_right", "account_id_right")
    if "repost_depth" in want:
        out = out.left_join(_repost_depth(table("posts"), p), keys).drop(
            "platform_right", "account_id_right"
        )
    else:
        out = out.mutate(repost_depth=ibis.null("float64"))
    nulls = ["active_days"] * (not days_needed) + ["replies", "public_comments"] * (
        not inter_needed
    )
    out = out.mutate(**{c: ibis.null("int64") for c in nulls})
    if inter_needed and has("interactions"):
        i = table("interactions")
        i = i.filter((i.created_at >= lo) & (i.created_at < hi))
        own = i.filter(
            (i.kind == "reply") & i.actor_id.notnull()
            & (i.reply_to_account_id.isnull() | (i.reply_to_account_id != i.actor_id))
        )  # fmt: skip
        rep = own.group_by([own.platform, own.actor_id.name("account_id")]).aggregate(
            replies=own.count()
        )
        pub = i.filter(
            i.target_account_id.notnull()
            & (i.actor_id.isnull() | (i.actor_id != i.target_account_id))
        )
        pubc = pub.group_by([pub.platform, pub.target_account_id.name("account_id")]).aggregate(
            public_comments=pub.count()
        )
        out = out.left_join(rep, keys).drop("platform_right", "account_id_right")
        out = out.left_join(pubc, keys).drop("platform_right", "account_id_right")
    elif inter_needed:
        out = out.mutate(replies=ibis.literal(0), public_comments=ibis.literal(0))

    counts = ["followers", "posts", "reposts", "comments", "likes"]
    counts += ["original_posts"] * orig_needed + ["active_days"] * days_needed
    counts += ["replies", "public_comments"] * inter_needed
    out = out.mutate(**{c: out[c].fill_null(0).cast("int64") for c in counts})
    n = out.posts.cast("float64")
    has_posts = out.posts > zero
    per_post = {
        c: ibis.ifelse(has_posts, out[src].cast("float64") / n, ibis.null("float64"))
        for c, src in [("original_share", "original_posts"), ("reposts_per_post", "reposts"),
                       ("comments_per_post", "comments"), ("likes_per_post", "likes")]
    }  # fmt: skip
    rate = out.replies.cast("float64") / out.public_comments.cast("float64")
    return out.mutate(
        posts_per_day=n / period.days,
        regularity=out.active_days.cast("float64") / period.days,
        reply_rate=ibis.ifelse(
            out.public_comments > zero, ibis.least(rate, 1.0), ibis.null("float64")
        ),
        **per_post,
    )


def _repost_depth(all_posts: Any, period_posts: Any) -> Any:
    """Per author: mean over its period originals that were reposted (in the store) of the
    deepest repost's chain length, 1 + len(repost_chain)."""
    r = all_posts.filter(all_posts.retweeted_post_id.notnull())
    depth = (r.repost_chain.length().fill_null(0) + 1).cast("float64")
    casc = r.group_by([r.platform, r.retweeted_post_id.name("post_id")]).aggregate(
        depth=depth.max()
    )
    o = period_posts.filter(period_posts.retweeted_post_id.isnull())
    j = o.join(casc, ["platform", "post_id"])
    return j.group_by([j.platform, j.author_id.name("account_id")]).aggregate(
        repost_depth=j.depth.mean()
    )


def _normalised(x: Any, transform: str, how: str) -> Any:
    v = x.cast("float64")
    if transform == "log1p":
        v = (v + 1.0).ln()
    if how == "none":
        return v
    if how == "minmax":
        lo, hi = v.min().over(), v.max().over()
        return ibis.ifelse(hi > lo, (v - lo) / (hi - lo), 0.0)
    # Percentile: share of the other (non-null) accounts strictly below, in [0, 1].
    cnt = v.count().over()
    below = ibis.rank().over(order_by=v).cast("float64")
    pct = ibis.ifelse(cnt > 1, below / (cnt - 1).cast("float64"), 0.5)  # a lone account: 0.5
    return ibis.ifelse(v.isnull(), ibis.null("float64"), pct)


def index_expr(
    source: Any,
    *,
    period: Period | str,
    method: str | Path | Method = "govweibo",
    government_only: bool = True,
    platform: str | None = None,
    all_indicators: bool = True,
):
    """The index as an Ibis expression (see compute_index)."""
    per = Period.parse(period)
    m = load_method(method)
    needed = None if all_indicators else {i.name for d in m.dimensions for i in d.indicators}
    t = raw_indicators(
        source, per, government_only=government_only, platform=platform, needed=needed
    )
    dims: dict[str, Any] = {}
    for d in m.dimensions:
        total = sum(i.weight for i in d.indicators) or 1.0
        num, den = ibis.literal(0.0), ibis.literal(0.0)
        for i in d.indicators:
            v = _normalised(t[i.name], i.transform, m.normalisation)
            w = i.weight / total
            num = num + v.fill_null(0.0) * w
            den = den + ibis.ifelse(v.isnull(), 0.0, w)
        # Missing indicators (null) drop out and the others' weights are renormalised.
        dims[d.name] = ibis.ifelse(den > 0, num / den, 0.0) * m.scale
    t = t.mutate(**dims)
    score = sum((t[name] * w for name, w in m.weights().items()), ibis.literal(0.0))
    t = t.mutate(score=score)
    t = t.mutate(rank=ibis.rank().over(order_by=ibis.desc(t.score)) + 1)
    cols = ["platform", "account_id", "screen_name", *PROFILE_COLUMNS, *INDICATORS, *dims]
    return t.select(*cols, "score", "rank", period=ibis.literal(per.label)).order_by(
        ["rank", "platform", "account_id"]
    )


def compute_index(
    source: Any,
    *,
    period: Period | str,
    method: str | Path | Method = "govweibo",
    government_only: bool = True,
    platform: str | None = None,
    all_indicators: bool = True,
) -> pa.Table:
    """One row per account: profile, raw indicators, dimension scores, score and rank.

    `source` is a Store or a mapping of table name -> Ibis table. `method` is a preset name
    or a TOML path. Government accounts only (from account_profiles) unless told otherwise.
    all_indicators=False skips the costly indicators the method does not use (left null).
    """
    out = index_expr(
        source, period=period, method=method, government_only=government_only,
        platform=platform, all_indicators=all_indicators,
    ).to_pyarrow()  # fmt: skip
    return out.replace_schema_metadata(
        {"period": Period.parse(period).label, "method": load_method(method).name}
    )
