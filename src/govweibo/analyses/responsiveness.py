"""Responsiveness: does an account answer the public, how fast, and when?

Addressed items (what the public says to an account), per account and period:

- comments: interactions on the account's posts (`target_account_id`) by other actors, except
  replies addressed to a third person (`reply_to_account_id` set and not the account);
- mentions: others' posts whose own text (before any `//@` repost chain) names the account
  as `@screen_name`, and others' posts that name it in a structured mention (interactions
  kind='mention', from Mastodon and X), counted once per post and account.

An item is answered by the account's earliest response at or after it:

- an interaction kind='reply' by the account whose `reply_to_id` is the comment;
- a later comment/reply by the account on the same post that names the commenter: one of its
  `@name`s (the longest run of letters, digits, `_`, `-` after an `@`) is the commenter's
  whole name, so `@张三丰` does not name 张三;
- for a mention: any comment/reply by the account on the mentioning post.

Per account: `reply_rate` = answered / addressed; time to first reply (median and p90, in
minutes, over answered items); `questions` (items detected as questions by
`govweibo.text.questions`) and `unanswered_questions`; when the account's own comments and
replies in the period were written, in Beijing time: office hours (workdays, `office_hours`
default 09:00-18:00), off hours (workdays outside them), weekends, public holidays, from the
`chinesecalendar` package (official holidays and make-up workdays, years 2004-2026). For a
year it does not cover, days fall back to Mon-Fri workdays and Sat/Sun weekends with no
holidays, and `holidays_known` is false. Also the account's posts and original share.
Items created in the period count; their replies count whenever they came.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from govweibo.analyses.activity import universe
from govweibo.analyses.index import PROFILE_COLUMNS, Period, tables_of

KEYS = ["platform", "account_id"]
# What a screen name is made of where a text names someone (`@name`, `回复@name:`): letters, digits,
# `_` and `-`, as Weibo allows, in a class both DuckDB (RE2) and Spark (Java) read alike.
NAME_CHARS = r"[\p{L}\p{N}_\-]"
DAY_TYPES = ("workday", "weekend", "holiday")


# Calendar ----------------------------------------------------------------------------------


def day_types(days: Iterable[date]) -> tuple[dict[date, str], bool]:
    """Each day -> workday | weekend | holiday (Chinese official calendar), and whether every
    day's year was covered by it (else that day is classed by weekday only)."""
    try:
        import chinese_calendar as cc
    except ImportError:  # pragma: no cover - a declared dependency
        cc = None
    out: dict[date, str] = {}
    known = True
    for d in set(days):
        try:
            if cc is None:
                raise NotImplementedError
            if cc.is_workday(d):
                out[d] = "workday"
            else:
                on_holiday, name = cc.get_holiday_detail(d)
                out[d] = "holiday" if on_holiday and name else "weekend"
        except NotImplementedError:
            known = False
            out[d] = "workday" if d.weekday() < 5 else "weekend"
    return out, known


def classify_times(
    epoch_us: np.ndarray, office_hours: tuple[float, float] = (9.0, 18.0)
) -> tuple[np.ndarray, bool]:
    """UTC epoch microseconds -> office_hours | off_hours | weekend | holiday (Beijing time)."""
    secs = epoch_us // 1_000_000 + 8 * 3600
    day = secs // 86400
    hour = (secs % 86400) / 3600.0
    base = date(1970, 1, 1)
    kinds, known = day_types(base + timedelta(days=int(d)) for d in np.unique(day))
    typ = np.array([kinds[base + timedelta(days=int(d))] for d in day], dtype=object)
    office = (hour >= office_hours[0]) & (hour < office_hours[1])
    out = np.where(typ == "workday", np.where(office, "office_hours", "off_hours"), typ)
    return out, known


# Addressed items ---------------------------------------------------------------------------


def _span(t: Any, col: str, per: Period | None) -> Any:
    if per is None:
        return t
    return t.filter((t[col] >= ibis.literal(per.start_utc)) & (t[col] < ibis.literal(per.end_utc)))


def mentions_expr(source: Any, *, period: Period | None, platform: str | None):
    """Ibis expression: (platform, post_id, actor_id, created_at, text, account_id), once per
    post and account it names, for posts naming an account other than their author.

    A text names `@screen_name` (the first 30 of `NAME_CHARS` after an `@`, before any
    `//@` repost chain); structured mentions (interactions
    kind='mention') name the account by id. Pure Ibis, so the texts stay on the engine.
    """
    table, has = tables_of(source)
    p = table("posts")
    p = _span(p.filter(p.text.contains("@") & p.author_id.notnull()), "created_at", period)
    if platform:
        p = p.filter(p.platform == platform)
    cols = ("platform", "post_id", "author_id", "created_at", "text")
    own = p.text.split("//@")[0]  # the poster's own words, not the reposts it quotes
    parts = p.select(*cols, part=own.split("@")[1:].unnest())
    named = parts.select(*cols, name=parts.part.re_extract(f"^({NAME_CHARS}{{1,30}})", 1))
    named = named.filter(named.name != "")
    acc = table("accounts")
    acc = acc.filter(acc.screen_name.notnull())
    # A screen name held by two accounts (a rename) goes to one of them, the same each run.
    acc = acc.group_by(["platform", "screen_name"]).aggregate(account_id=acc.account_id.min())
    by_text = named.inner_join(
        acc, [named.platform == acc.platform, named.name == acc.screen_name]
    ).select(*cols, "account_id")
    out = by_text
    if has("interactions"):
        i = table("interactions")
        i = i.filter((i.kind == "mention") & i.target_account_id.notnull() & i.post_id.notnull())
        if platform:
            i = i.filter(i.platform == platform)
        q = table("posts")
        q = _span(q.filter(q.author_id.notnull()), "created_at", period)
        j = i.inner_join(q, [i.platform == q.platform, i.post_id == q.post_id])
        j = j.select(
            platform=i.platform,
            post_id=i.post_id,
            author_id=q.author_id,
            created_at=q.created_at,
            text=q.text,
            account_id=i.target_account_id,
        )
        out = out.union(j.cast(out.schema()), distinct=False)
    out = out.filter(out.account_id != out.author_id).distinct()
    return out.select(
        "platform", "post_id", actor_id=out.author_id, created_at=out.created_at,
        text=out.text, account_id=out.account_id,
    )  # fmt: skip


def comment_items_expr(source: Any, *, period: Period | None = None, platform: str | None = None):
    """Ibis expression: one row per public comment addressed to an account (no mentions).

    Pure Ibis (any backend); the index's `timeliness` indicator uses it too.
    """
    table, _ = tables_of(source)
    i = table("interactions")
    if platform:
        i = i.filter(i.platform == platform)
    c = i.filter(
        i.target_account_id.notnull()
        & (i.kind != "mention")  # mentions are items of their own (mentions_expr)
        & (i.actor_id.isnull() | (i.actor_id != i.target_account_id))
        & (i.reply_to_account_id.isnull() | (i.reply_to_account_id == i.target_account_id))
    )
    c = _span(c, "created_at", period).select(
        "platform",
        account_id=c.target_account_id,
        item_id=c.interaction_id,
        item_kind=ibis.literal("comment"),
        actor_id=c.actor_id,
        actor_name=c.actor_name,
        post_id=c.post_id,
        created_at=c.created_at,
        text=c.text,
    )
    return c


def items_expr(source: Any, *, period: Period | None = None, platform: str | None = None):
    """Ibis expression: one row per addressed item (comment or mention), without replies."""
    c = comment_items_expr(source, period=period, platform=platform)
    m = mentions_expr(source, period=period, platform=platform)
    m = m.select(
        "platform",
        "account_id",
        item_id=m.post_id,
        item_kind=ibis.literal("mention"),
        actor_id=m.actor_id,
        actor_name=ibis.null("string"),
        post_id=m.post_id,
        created_at=m.created_at.cast("timestamp('UTC', 6)"),
        text=m.text,
    )
    return c.union(m.cast(c.schema()))


def addressed_expr(source: Any, *, period: Period | None = None, platform: str | None = None):
    """Ibis expression: one row per addressed item with `first_reply_at` (null if none)."""
    items = items_expr(source, period=period, platform=platform)
    return first_replies_expr(source, items, platform=platform)


def first_replies_expr(source: Any, items: Any, *, platform: str | None = None):
    """`items` (rows shaped like comment_items_expr's) with `first_reply_at`: the account's
    earliest answer (see the module docstring), null if none."""
    table, _ = tables_of(source)
    i = table("interactions")
    if platform:
        i = i.filter(i.platform == platform)
    r = i.filter(i.actor_id.notnull() & (i.kind != "mention")).select(
        "platform", r_actor="actor_id", r_post="post_id", r_to="reply_to_id",
        r_at="created_at", r_text="text", r_kind="kind",
    )  # fmt: skip
    # Only an addressed account's own interactions can answer: keeping just those (a
    # semi-join on the few addressed accounts) leaves the official replies, not every
    # public comment with its text, for the joins below to hold in memory (10M posts,
    # 5.5M comments: 2.8 GB and 9 s before).
    who = items.select(t_platform="platform", t_account="account_id").distinct()
    r = r.semi_join(who, [r.platform == who.t_platform, r.r_actor == who.t_account])
    same = [items.platform == r.platform, items.account_id == r.r_actor, r.r_at >= items.created_at]
    direct = items.inner_join(
        r, [*same, items.item_kind == "comment", r.r_kind == "reply", r.r_to == items.item_id]
    ).select(items.platform, items.item_id, items.item_kind, r_at=r.r_at)
    # A reply names a commenter when one of its @names equals the commenter's name. Joining
    # on the name keeps the pairs to those that match; testing each reply's text against
    # each commenter on the post grew with comments x replies per post (6M pairs at 10M
    # posts, 128M at 50M).
    rv = reply_names_expr(r)
    named = items.inner_join(
        rv,
        [
            items.platform == rv.platform,
            items.account_id == rv.r_actor,
            items.post_id == rv.r_post,
            items.actor_name == rv.r_name,
            rv.r_at > items.created_at,
            items.item_kind == "comment",
        ],
    ).select(items.platform, items.item_id, items.item_kind, r_at=rv.r_at)
    rm = r.view()
    on_post = items.inner_join(
        rm,
        [
            items.platform == rm.platform,
            items.account_id == rm.r_actor,
            rm.r_at >= items.created_at,
            items.item_kind == "mention",
            items.post_id == rm.r_post,
        ],
    ).select(items.platform, items.item_id, items.item_kind, r_at=rm.r_at)
    resp = direct.union(named).union(on_post)
    first = resp.group_by(["platform", "item_id", "item_kind"]).aggregate(
        first_reply_at=resp.r_at.min()
    )
    out = items.left_join(first, ["platform", "item_id", "item_kind"])
    return out.select(*items.columns, "first_reply_at")


def reply_names_expr(replies: Any):
    """`replies` (platform, r_actor, r_post, r_at, r_text, ...) -> one row per @name in each
    text: (platform, r_actor, r_post, r_at, r_name). A name is the longest run of
    `NAME_CHARS` after an `@`; pure Ibis, so DuckDB and Spark split and match alike."""
    r = replies.filter(replies.r_text.contains("@") & replies.r_post.notnull())
    parts = r.select(
        "platform", "r_actor", "r_post", "r_at", r_part=r.r_text.split("@")[1:].unnest()
    )
    named = parts.select(
        "platform", "r_actor", "r_post", "r_at",
        r_name=parts.r_part.re_extract(ibis.literal(f"^({NAME_CHARS}+)"), 1),
    )  # fmt: skip
    return named.filter(named.r_name != "")


def addressed_items(
    source: Any,
    *,
    period: Period | str | None = None,
    platform: str | None = None,
    question_rules: str | None = None,
) -> pa.Table:
    """One row per addressed item: account, kind (comment|mention), actor, text,
    `first_reply_at`, `reply_minutes`, `answered`, `is_question` and `question_rule`."""
    from govweibo.text.questions import load_rules

    per = Period.parse(period) if period is not None else None
    t = addressed_expr(source, period=per, platform=platform).to_pyarrow()
    rules = load_rules(question_rules)
    reasons = [rules.reason(x) for x in t.column("text").to_pylist()]
    first = t.column("first_reply_at")
    answered = first.is_valid()
    delta = pc.subtract(first.cast(pa.int64()), t.column("created_at").cast(pa.int64()))
    mins = pc.divide(delta.cast(pa.float64()), 60e6)
    t = t.append_column("reply_minutes", mins).append_column("answered", answered)
    t = t.append_column("is_question", pa.array([r is not None for r in reasons]))
    t = t.append_column("question_rule", pa.array(reasons, pa.string()))
    return t.sort_by([("platform", "ascending"), ("account_id", "ascending"),
                      ("created_at", "ascending"), ("item_id", "ascending")])  # fmt: skip


def _reply_times(source: Any, per: Period, platform: str | None) -> pa.Table:
    table, _ = tables_of(source)
    i = table("interactions")
    i = _span(i.filter(i.actor_id.notnull() & (i.kind != "mention")), "created_at", per)
    # All its comments and replies, except replies to itself.
    i = i.filter(i.reply_to_account_id.isnull() | (i.reply_to_account_id != i.actor_id))
    if platform:
        i = i.filter(i.platform == platform)
    return i.select("platform", account_id=i.actor_id, at=i.created_at).to_pyarrow()


def _p(values: pd.Series, q: float) -> float | None:
    v = values.dropna().to_numpy()
    return float(np.percentile(v, q)) if len(v) else None


def responsiveness(
    source: Any,
    *,
    period: Period | str,
    office_hours: tuple[float, float] = (9.0, 18.0),
    government_only: bool | None = None,
    platform: str | None = None,
    question_rules: str | None = None,
) -> pa.Table:
    """One row per account: addressed items, reply rate, median/p90 minutes to first reply,
    questions and unanswered questions, reply timing shares, posts and original share."""
    per = Period.parse(period)
    table, _ = tables_of(source)
    lo, hi = ibis.literal(per.start_utc), ibis.literal(per.end_utc)
    base = universe(source, government_only=government_only, platform=platform).drop("opened_at")
    p = table("posts")
    p = p.filter((p.created_at >= lo) & (p.created_at < hi) & p.author_id.notnull())
    pcount = p.group_by([p.platform, p.author_id.name("account_id")]).aggregate(
        posts=p.count(), original_posts=p.retweeted_post_id.isnull().cast("int64").sum()
    )
    acc = base.left_join(pcount, KEYS).drop("platform_right", "account_id_right")
    df = acc.to_pyarrow().to_pandas()
    df["posts"] = df["posts"].fillna(0).astype("int64")
    df["original_posts"] = df["original_posts"].fillna(0).astype("int64")

    items = addressed_items(source, period=per, platform=platform, question_rules=question_rules)
    it = items.select(["platform", "account_id", "item_kind", "answered", "reply_minutes",
                       "is_question"]).to_pandas()  # fmt: skip
    it["comment"] = it["item_kind"] == "comment"
    it["unanswered_q"] = it["is_question"] & ~it["answered"]
    g = it.groupby(KEYS)
    agg = pd.DataFrame(
        {
            "addressed": g.size(),
            "comments_received": g["comment"].sum(),
            "answered": g["answered"].sum(),
            "questions": g["is_question"].sum(),
            "unanswered_questions": g["unanswered_q"].sum(),
            "median_reply_minutes": g["reply_minutes"].agg(lambda s: _p(s, 50)),
            "p90_reply_minutes": g["reply_minutes"].agg(lambda s: _p(s, 90)),
        }
    ).reset_index()

    rt = _reply_times(source, per, platform)
    us = rt.column("at").cast(pa.int64()).to_numpy(zero_copy_only=False)
    kinds, known = classify_times(us, office_hours)
    tdf = pd.DataFrame({"platform": rt.column("platform").to_pylist(),
                        "account_id": rt.column("account_id").to_pylist(), "when": kinds})  # fmt: skip
    classes = ("office_hours", "off_hours", "weekend", "holiday")
    if len(tdf):
        counts = pd.crosstab([tdf.platform, tdf.account_id], tdf["when"])
        counts = counts.reindex(columns=list(classes), fill_value=0)
        shares = counts.div(counts.sum(axis=1), axis=0).add_prefix("share_")
        shares["replies"] = counts.sum(axis=1)
        shares = shares.reset_index()
    else:
        shares = pd.DataFrame(columns=[*KEYS, *(f"share_{c}" for c in classes), "replies"])

    out = df.merge(agg, on=KEYS, how="left").merge(shares, on=KEYS, how="left")
    for col in ("addressed", "comments_received", "answered", "questions",
                "unanswered_questions", "replies"):  # fmt: skip
        out[col] = out[col].fillna(0).astype("int64")
    out["mentions_received"] = out["addressed"] - out["comments_received"]
    out["reply_rate"] = (out["answered"] / out["addressed"]).where(out["addressed"] > 0)
    out["original_share"] = (out["original_posts"] / out["posts"]).where(out["posts"] > 0)
    out["holidays_known"] = known
    out["period"] = per.label
    cols = [*KEYS, "screen_name", *PROFILE_COLUMNS, "period", "addressed", "comments_received",
            "mentions_received", "answered", "reply_rate", "median_reply_minutes",
            "p90_reply_minutes", "questions", "unanswered_questions", "replies",
            *(f"share_{c}" for c in classes), "holidays_known", "posts", "original_posts",
            "original_share"]  # fmt: skip
    out = out[cols].sort_values(KEYS).reset_index(drop=True)
    return pa.Table.from_pandas(out, preserve_index=False, schema=_schema(cols))


def _schema(cols: list[str]) -> pa.Schema:
    f64, i64 = pa.float64(), pa.int64()
    types: dict[str, pa.DataType] = {
        c: pa.string() for c in [*KEYS, "screen_name", *PROFILE_COLUMNS, "period"]
    }
    types.update(
        {
            c: i64
            for c in (
                "addressed",
                "comments_received",
                "mentions_received",
                "answered",
                "questions",
                "unanswered_questions",
                "replies",
                "posts",
                "original_posts",
            )
        }
    )
    types["holidays_known"] = pa.bool_()
    return pa.schema([(c, types.get(c, f64)) for c in cols])
