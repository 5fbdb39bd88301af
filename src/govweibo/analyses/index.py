"""The influence index: per account and period, four named dimensions, 0-100 score and rank.

The raw counts are one Ibis expression over the store's tables (so they can run on another
Ibis backend such as Spark): one grouped pass over the period's posts, joined to the accounts
and, when the method needs them, to interactions and repost cascades (indicator_counts). The
ratios derived from the counts (derive_indicators), normalising and scoring the one row per
account (score_index) are Arrow and numpy, the same whatever the engine. The method
(indicators, transforms, weights) is a TOML file. See docs/methods-index.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govweibo.analyses.base import (
    BEIJING_OFFSET_S,
    EPOCH,
    PROFILE_COLUMNS,
    Period,
    TableGetter,
    accounts_universe,
    tables_of,
)
from govweibo.analyses.methods import (
    INDICATORS,
    TIMELINESS_HOURS,
    Dimension,
    Indicator,
    Method,
    available_methods,
    load_method,
)
from govweibo.analyses.rankings import desc_order

__all__ = ["INDICATORS", "Dimension", "Indicator", "Method", "Period", "available_methods",
           "compute_index", "derive_indicators", "indicator_counts", "load_method",
           "raw_indicators", "score_index"]  # fmt: skip

# Computation -------------------------------------------------------------------------------

KEYS = ["platform", "account_id"]
# What the one grouped pass over the period's posts (and the small follower table) gives is
# always computed. Everything else costs more and is computed only when the method weighs it
# (or all_indicators=True): another column or per-day state in that pass (original posts,
# active days), another table (interactions) or a second pass over all posts (cascades).
ONE_PASS = frozenset(
    {"followers", "posts", "reposts", "comments", "likes", "posts_per_day", "reposts_per_post",
     "comments_per_post", "likes_per_post"}
)  # fmt: skip
# Same pass, but they read one more column (original posts: retweeted_post_id) or keep
# per-day state (active days), which measured 10-20 % and 60 % more time at 10M posts.
ORIGINAL_INDICATORS = frozenset({"original_posts", "original_share"})
DAY_INDICATORS = frozenset({"active_days", "regularity"})
INTERACTION_INDICATORS = frozenset({"replies", "public_comments", "reply_rate", "timeliness"})
# Active days are counted from per-author bitmasks: the period is cut into blocks of 63 days,
# each OR-ed into one BIGINT (63 bits, so never the sign bit). That keeps the posts
# aggregation at one group per author; count(DISTINCT day) needs a second hash table keyed
# by (author, day) and measured 2-3x the time of the plain aggregation, the masks about
# 1.6x (10M posts), so active days are still only computed when wanted. Periods longer
# than MAX_MASK_BLOCKS blocks (about 4 years) fall back to count(DISTINCT).
MASK_BITS = 63
MAX_MASK_BLOCKS = 24


@ibis.udf.scalar.builtin(name="epoch_us")
def _epoch_us(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type]
    """DuckDB's epoch_us: microseconds since the epoch of the instant (time-zone free)."""


@ibis.udf.agg.builtin(name="bit_or")
def _bit_or(x: dt.int64) -> dt.int64:  # type: ignore[empty-body]
    """Bitwise OR of the values (the same name on DuckDB and Spark)."""


@ibis.udf.scalar.builtin(name="bit_count")
def _bit_count(x: dt.int64) -> dt.int32:  # type: ignore[empty-body]
    """Set bits (DuckDB returns TINYINT, Spark INT: callers cast before adding)."""


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


def _day_masks(p: Any, period: Period) -> tuple[dict[str, Any], Callable[[Any], Any]]:
    """Aggregates over the period's posts `p` for the distinct Beijing days with a post, and
    the function that turns the aggregated row into `active_days`."""
    day = (beijing_day(p.created_at) - (period.start - EPOCH.date()).days).cast("int64")
    blocks = -(-period.days // MASK_BITS)
    if blocks > MAX_MASK_BLOCKS:
        return {"_days": day.nunique()}, lambda t: t._days
    bit = ibis.literal(1).cast("int64") << (day % MASK_BITS).cast("int32")
    aggs = {f"_m{k}": _bit_or(bit, where=(day // MASK_BITS) == k) for k in range(blocks)}
    return aggs, lambda t: sum(
        (_bit_count(t[m]).cast("int64").fill_null(0) for m in aggs), ibis.literal(0)
    )


# The per-account counts the one query returns (null = not computed or nothing found);
# everything else is derived from them in Arrow (derive_indicators).
COUNTS = ("followers", "posts", "original_posts", "reposts", "comments", "likes", "active_days",
          "replies", "public_comments", "_addressed", "_timely")  # fmt: skip


def indicator_counts(
    source: Any,
    period: Period,
    *,
    government_only: bool = True,
    platform: str | None = None,
    needed: set[str] | None = None,
    timeliness_hours: float = TIMELINESS_HOURS,
) -> tuple[Any, set[str]]:
    """Ibis expression: one row per ranked account with its profile and the raw counts it
    needs (COUNTS and repost_depth; null where the account has none), and the set of counts
    computed. Nothing else is in the query: each further column or layer costs Ibis build and
    compile time (measured 120 ms for the former expression that also computed the ratios,
    75 ms for this one), so the ratios are derived in Arrow (derive_indicators).

    With `needed`, the indicators outside ONE_PASS that are not in it (original posts, active
    days, interactions, timeliness, repost depth) are not computed.
    """
    table, has = tables_of(source)
    want = set(INDICATORS) if needed is None else set(needed) | ONE_PASS
    orig_needed = bool(want & ORIGINAL_INDICATORS)
    days_needed = bool(want & DAY_INDICATORS)
    inter_needed = bool(want & INTERACTION_INDICATORS)
    lo, hi = ibis.literal(period.start_utc), ibis.literal(period.end_utc)
    base = accounts_universe(source, government_only=government_only, platform=platform)
    base = base.filter(base.opened_at.isnull() | (base.opened_at < hi))

    # The one pass over the period's posts: every per-author count in one aggregation,
    # by the store's integer author key where every post has one (it encodes the
    # platform too), else by the author's id.
    p = table("posts")
    p = p.filter((p.created_at >= lo) & (p.created_at < hi) & p.author_id.notnull())
    keys = _author_keys(table, has)
    # By key no platform filter is needed (the key names the platform and the join to the
    # universe keeps the accounts wanted; the filter costs 0.05-0.1 s at 10M posts).
    g = p
    if platform:  # one platform: by id, group by the author alone
        p = p.filter(p.platform == platform)
        g = p if keys is None else g
    if keys is not None:
        by = [g.author_key]
    elif platform:
        by = [g.author_id.name("account_id")]
    else:
        by = [g.platform, g.author_id.name("account_id")]
    masks, active_days = _day_masks(g, period) if days_needed else ({}, None)
    aggs: dict[str, Any] = {"posts": g.count()}
    if orig_needed:
        aggs["original_posts"] = g.count(where=g.retweeted_post_id.isnull())
    aggs |= {"reposts": g.reposts.sum(), "comments": g.comments.sum(), "likes": g.likes.sum()}
    pa_ = g.group_by(by).aggregate(**aggs, **masks)
    if active_days is not None:
        pa_ = pa_.mutate(active_days=active_days(pa_)).drop(*masks)
    if keys is not None:
        pa_ = pa_.join(keys, pa_.author_key == keys.account_key).drop("author_key", "account_key")
    elif platform:
        pa_ = pa_.mutate(platform=ibis.literal(platform))
    o = table("account_observations").filter(lambda t: t.followers.notnull())
    if platform:
        o = o.filter(o.platform == platform)
    o = o.mutate(
        _k=ibis.row_number().over(
            group_by=KEYS, order_by=[ibis.desc(o.observed_at <= hi), ibis.desc(o.observed_at)]
        )
    )
    fol = o.filter(o._k == 0).select(*KEYS, "followers")

    parts: list[tuple[Any, list[str]]] = [
        (pa_, [c for c in pa_.columns if c not in KEYS]),
        (fol, ["followers"]),
    ]
    if "repost_depth" in want:
        parts.append((_repost_depth(table("posts"), p, lo, platform), ["repost_depth"]))
    if inter_needed and has("interactions"):
        parts += _interaction_parts(source, period, platform, timeliness_hours)
    j = base
    for t, _ in parts:
        j = j.left_join(t, [base.platform == t.platform, base.account_id == t.account_id])
    got = {c: t[c] for t, names in parts for c in names}
    expr = j.select(**{c: base[c] for c in base.columns if c != "opened_at"}, **got)
    computed = {c for c in COUNTS if c in got}
    if inter_needed:  # no interactions table: none recorded (0)
        computed |= {"replies", "public_comments", "_addressed", "_timely"}
    return expr, computed


def derive_indicators(counts: pa.Table, period: Period, computed: set[str]) -> pa.Table:
    """The raw indicators of INDICATORS from indicator_counts' result (Arrow, any engine):
    counts computed but absent for an account are 0, those not computed are null."""
    n = counts.num_rows
    f64, i64 = pa.float64(), pa.int64()

    def count(name: str) -> pa.Array:
        if name not in computed:
            return pa.nulls(n, i64)
        if name not in counts.column_names:
            return pa.array(np.zeros(n, dtype=np.int64))
        return pc.fill_null(pc.cast(counts[name], i64), 0).combine_chunks()

    def ratio(num: pa.Array, den: pa.Array, ok: pa.Array) -> pa.Array:
        """num / den where `ok`, else null."""
        q = pc.divide(pc.cast(num, f64), pc.cast(pc.if_else(ok, den, 1), f64))
        return pc.if_else(ok, q, pa.nulls(n, f64))

    v = {c: count(c) for c in COUNTS}
    posts, days = v["posts"], float(period.days)
    has_posts = pc.greater(posts, 0)
    rate = ratio(v["replies"], v["public_comments"], pc.greater(v["public_comments"], 0))
    out = {c: counts[c] for c in ("platform", "account_id", "screen_name", *PROFILE_COLUMNS)}
    out |= {c: v[c] for c in COUNTS if not c.startswith("_")}
    depth = counts["repost_depth"] if "repost_depth" in counts.column_names else pa.nulls(n, f64)
    out |= {
        "repost_depth": pc.cast(depth, f64),
        "posts_per_day": pc.divide(pc.cast(posts, f64), days),
        "regularity": pc.divide(pc.cast(v["active_days"], f64), days),
        # Null without a recorded public comment (nothing to answer); capped at 1.
        "reply_rate": pc.min_element_wise(rate, pa.scalar(1.0), skip_nulls=False),
        # No public comment recorded: nothing to be timely about (null, neutral); comments
        # but no timely answer: 0, the worst value.
        "timeliness": ratio(v["_timely"], v["_addressed"], pc.greater(v["_addressed"], 0)),
        "original_share": ratio(v["original_posts"], posts, has_posts),
        "reposts_per_post": ratio(v["reposts"], posts, has_posts),
        "comments_per_post": ratio(v["comments"], posts, has_posts),
        "likes_per_post": ratio(v["likes"], posts, has_posts),
    }
    return pa.table(out)


def raw_indicators(
    source: Any,
    period: Period,
    *,
    government_only: bool = True,
    platform: str | None = None,
    needed: set[str] | None = None,
    timeliness_hours: float = TIMELINESS_HOURS,
) -> pa.Table:
    """One row per account with the raw indicators of INDICATORS (Arrow): one query
    (indicator_counts), then the ratios in Arrow (derive_indicators).

    With `needed`, the indicators outside ONE_PASS that are not in it (original posts, active
    days, interactions, timeliness, repost depth) are left null instead of computed.
    """
    expr, computed = indicator_counts(
        source, period, government_only=government_only, platform=platform, needed=needed,
        timeliness_hours=timeliness_hours,
    )  # fmt: skip
    return derive_indicators(expr.to_pyarrow(), period, computed)


def _interaction_parts(
    source: Any, period: Period, platform: str | None, hours: float
) -> list[tuple[Any, list[str]]]:
    """Per account from interactions: own replies, public comments received, and the public
    comments addressed to it (`_addressed`) answered within `hours` (`_timely`)."""
    # Imported here: responsiveness imports this module.
    from govweibo.analyses.addressed import comment_items_expr, first_replies_expr

    table, _ = tables_of(source)
    lo, hi = ibis.literal(period.start_utc), ibis.literal(period.end_utc)
    i = table("interactions")
    if platform:
        i = i.filter(i.platform == platform)
    # Comments and replies only: a mention row (Mastodon, X) is not a comment.
    i = i.filter((i.created_at >= lo) & (i.created_at < hi) & (i.kind != "mention"))
    own = i.filter(
        (i.kind == "reply") & i.actor_id.notnull()
        & (i.reply_to_account_id.isnull() | (i.reply_to_account_id != i.actor_id))
    )  # fmt: skip
    rep = own.group_by([own.platform, own.actor_id.name("account_id")]).aggregate(
        replies=own.count()
    )
    pub = i.filter(
        i.target_account_id.notnull() & (i.actor_id.isnull() | (i.actor_id != i.target_account_id))
    )
    pubc = pub.group_by([pub.platform, pub.target_account_id.name("account_id")]).aggregate(
        public_comments=pub.count()
    )
    items = first_replies_expr(
        source, comment_items_expr(source, period=period, platform=platform), platform=platform
    )
    limit = items.created_at + ibis.interval(seconds=round(hours * 3600))
    tl = items.group_by(["platform", "account_id"]).aggregate(
        _addressed=items.count(),
        _timely=items.count(where=items.first_reply_at.notnull() & (items.first_reply_at <= limit)),
    )
    return [(rep, ["replies"]), (pubc, ["public_comments"]), (tl, ["_addressed", "_timely"])]


def _repost_depth(all_posts: Any, period_posts: Any, lo: Any, platform: str | None) -> Any:
    """Per author: mean over its period originals that were reposted (in the store) of the
    deepest repost's chain length, 1 + len(repost_chain)."""
    # A repost cannot precede its original, so reposts from before the period are skipped.
    r = all_posts.filter(all_posts.retweeted_post_id.notnull() & (all_posts.created_at >= lo))
    if platform:
        r = r.filter(r.platform == platform)
    depth = (r.repost_chain.length().fill_null(0) + 1).cast("float64")
    casc = r.group_by([r.platform, r.retweeted_post_id.name("post_id")]).aggregate(
        depth=depth.max()
    )
    o = period_posts.filter(period_posts.retweeted_post_id.isnull())
    j = o.join(casc, [o.platform == casc.platform, o.post_id == casc.post_id])
    j = j.select(platform=o.platform, account_id=o.author_id, depth=casc.depth)
    return j.group_by(["platform", "account_id"]).aggregate(repost_depth=j.depth.mean())


def _author_keys(table: TableGetter, has: Callable[[str], bool]) -> Any | None:
    """The store's account_keys (store/keys.py), when every post with an author carries its
    author's key, so that the posts can be grouped by that integer (about half the cost of
    grouping by the id string at 10M posts). The check is a filter that DuckDB answers from
    the column's statistics when no key is missing (a few ms). DuckDB only: on Spark the
    check would be a job of its own."""
    if not has("account_keys"):
        return None
    posts = table("posts")
    if "author_key" not in posts.columns:
        return None
    try:
        if posts._find_backend().name != "duckdb":
            return None
    except Exception:  # tables of no single backend
        return None
    keyless = posts.filter(posts.author_key.isnull() & posts.author_id.notnull()).limit(1)
    if keyless.count().to_pyarrow().as_py():
        return None
    return table("account_keys")


def _only_platform(source: Any, government_only: bool) -> str | None:
    """The one platform of the accounts to rank, if there is one (the usual store) and the
    engine is DuckDB: the posts are then filtered on it and grouped by author alone (grouping
    by platform and author measured no cheaper than the filter at 10M posts, grouping by
    author alone without the filter 15-20 % cheaper, but that is right only when the posts
    hold one platform, which costs a scan to know). Read from the one table that decides the
    universe's platforms (account_profiles, or accounts): about 25 ms, against 0.1 s for the
    former look-up over the joined universe (nearly all Ibis). On Spark the look-up would be
    a job of its own, so not there."""
    table, has = tables_of(source)
    if government_only and has("account_profiles"):
        t = table("account_profiles")
        t = t.filter(t.is_government.fill_null(False))
    elif government_only:
        return None  # accounts_universe says what is missing
    else:
        t = table("accounts")
    try:
        if t._find_backend().name != "duckdb":
            return None
    except Exception:  # tables of no single backend
        return None
    found = t.select("platform").distinct().limit(2).to_pyarrow().column(0).to_pylist()
    return found[0] if len(found) == 1 and found[0] else None


class _Tables:
    """A source's tables, each looked up once per computation: the DuckDB backend describes
    a table on every look-up (about 6 ms each, 10 ms for has_table)."""

    def __init__(self, source: Any):
        self._table, self._has = tables_of(source)
        self._tables: dict[str, Any] = {}
        self._found: dict[str, bool] = {}

    def table(self, name: str) -> Any:
        if name not in self._tables:
            self._tables[name] = self._table(name)
        return self._tables[name]

    def has_table(self, name: str) -> bool:
        if name not in self._found:
            self._found[name] = bool(self._has(name))
        return self._found[name]


# Scoring: numpy on the one row per account (any engine's result), no SQL windows -------------


def _normalised(values: np.ndarray, transform: str, how: str) -> np.ndarray:
    """One indicator across the ranked accounts (NaN = null, stays null)."""
    v = np.log(values + 1.0) if transform == "log1p" else values
    if how == "none":
        return v
    ok = ~np.isnan(v)
    out = np.full(len(v), np.nan)
    n = int(ok.sum())
    if n == 0:
        return out
    if how == "minmax":
        lo, hi = v[ok].min(), v[ok].max()
        out[ok] = (v[ok] - lo) / (hi - lo) if hi > lo else 0.0
        return out
    # Percentile: share of the other (non-null) accounts strictly below, in [0, 1]; ties
    # share the lower rank; a lone account gets 0.5.
    out[ok] = _below(v[ok]) / (n - 1) if n > 1 else 0.5
    return out


def _below(v: np.ndarray) -> np.ndarray:
    """For each value, how many values are strictly lower (one sort; ties share)."""
    order = np.argsort(v)  # equal values form one run whatever their order
    s = v[order]
    pos = np.arange(len(v))
    first = np.r_[True, s[1:] != s[:-1]] if len(v) else np.zeros(0, bool)
    out = np.empty(len(v), dtype=np.int64)
    out[order] = np.maximum.accumulate(np.where(first, pos, 0))
    return out


def score_index(raw: pa.Table, method: str | Path | Method, *, period: str = "") -> pa.Table:
    """Dimension scores, score and rank from raw indicators (one row per account, as
    raw_indicators gives them); sorted by rank, platform, account_id.

    A pure function of the table, so the scores are the same whichever engine computed the
    indicators; on DuckDB it measured several times faster than window functions (each
    percentile is a sort of the whole table there).
    """
    m = load_method(method)
    cols = ["platform", "account_id", "screen_name", *PROFILE_COLUMNS, *INDICATORS]
    t = raw.select(cols)
    dims: dict[str, np.ndarray] = {}
    for d in m.dimensions:
        total = sum(i.weight for i in d.indicators) or 1.0
        num, den = np.zeros(t.num_rows), np.zeros(t.num_rows)
        for i in d.indicators:
            x = pc.cast(t[i.name], pa.float64()).to_numpy(zero_copy_only=False)
            v = _normalised(x, i.transform, m.normalisation)
            w = i.weight / total
            missing = np.isnan(v)
            num = num + np.where(missing, 0.0, v) * w
            den = den + np.where(missing, 0.0, w)
        # Missing indicators (null) drop out and the others' weights are renormalised.
        with np.errstate(invalid="ignore", divide="ignore"):
            dims[d.name] = np.where(den > 0, num / den, 0.0) * m.scale
    score = np.zeros(t.num_rows)
    for name, w in m.weights().items():
        score = score + dims[name] * w
    # Rows by score descending, equal scores by platform and account: that is the order by
    # rank, platform, account_id, and rank = 1 + accounts with a strictly higher score (ties
    # share a rank) is read off it.
    order = desc_order(score, [t["platform"], t["account_id"]])
    s = score[order]
    pos = np.arange(len(s))
    first = np.r_[True, s[1:] != s[:-1]] if len(s) else np.zeros(0, bool)
    rank = np.empty(len(s), dtype=np.int64)
    rank[order] = np.maximum.accumulate(np.where(first, pos, 0)) + 1
    for name, values in [*dims.items(), ("score", score)]:
        t = t.append_column(name, pa.array(values, pa.float64()))
    t = t.append_column("rank", pa.array(rank, pa.int64()))
    t = t.append_column("period", pa.repeat(pa.scalar(period, pa.string()), t.num_rows))
    t = t.take(order)  # one chunk per column; no combine_chunks first (a copy of it all)
    return t.replace_schema_metadata({"period": period, "method": m.name})


def compute_index(
    source: Any,
    *,
    period: Period | str,
    method: str | Path | Method = "govweibo",
    government_only: bool = True,
    platform: str | None = None,
    all_indicators: bool = False,
) -> pa.Table:
    """One row per account: profile, raw indicators, dimension scores, score and rank.

    `source` is a Store or a mapping of table name -> Ibis table. `method` is a preset name
    or a TOML path. Government accounts only (from account_profiles) unless told otherwise.
    The indicators of ONE_PASS are always there; the costlier ones (original posts, active
    days, interactions, timeliness, repost depth) only when the method weighs them or
    all_indicators=True (else null).
    """
    per, m = Period.parse(period), load_method(method)
    needed = None if all_indicators else {i.name for d in m.dimensions for i in d.indicators}
    tables = _Tables(source)
    if platform is None:
        platform = _only_platform(tables, government_only)
    raw = raw_indicators(
        tables, per, government_only=government_only, platform=platform, needed=needed,
        timeliness_hours=m.timeliness_hours,
    )  # fmt: skip
    return score_index(raw, m, period=per.label)
