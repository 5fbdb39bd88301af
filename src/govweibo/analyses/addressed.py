"""Addressed items: what the public says to an account, and the account's answers.

Ibis expressions only (any backend: DuckDB, Spark), shared by `responsiveness`, `concerns`
and the index's `timeliness` indicator. An item addressed to an account is:

- a comment: an interaction on the account's posts (`target_account_id`) by another actor,
  except a reply addressed to a third person (`reply_to_account_id` set and not the
  account);
- a mention: another account's post whose own text (before any `//@` repost chain) names the
  account as `@screen_name`, or that names it in a structured mention (interactions
  kind='mention', from Mastodon and X), once per post and account.

An item is answered by the account's earliest response at or after it:

- an interaction kind='reply' by the account whose `reply_to_id` is the comment;
- a later comment/reply by the account on the same post that names the commenter: one of its
  `@name`s (the longest run of letters, digits, `_`, `-` after an `@`) is the commenter's
  whole name, so `@张三丰` does not name 张三;
- for a mention: any comment/reply by the account on the mentioning post.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis

from govweibo.analyses.base import Period, tables_of

# What a screen name is made of where a text names someone (`@name`, `回复@name:`): letters,
# digits, `_` and `-`, as Weibo allows, in a class DuckDB (RE2) and Spark (Java) read alike.
NAME_CHARS = r"[\p{L}\p{N}_\-]"


def at_names(t: Any, text: Any, keep: Sequence[str], name: str, most: int | None = None):
    """`t`'s `keep` columns, one row per `@name` in `text` (a string expression on `t`), the
    name in column `name`: the run of `NAME_CHARS` after each `@` (its first `most` when
    given). An `@` followed by none gives no row. The split is unnested in the select list,
    which DuckDB runs as a plain UNNEST (`Table.unnest` became a lateral join, measured 1.9 s
    of the 10M-post index query)."""
    parts = t.select(*keep, at_part=text.split("@")[1:].unnest())
    run = f"{NAME_CHARS}{{1,{most}}}" if most else f"{NAME_CHARS}+"
    named = parts.select(*keep, **{name: parts.at_part.re_extract(ibis.literal(f"^({run})"), 1)})
    return named.filter(named[name] != "")


def in_period(t: Any, col: str, per: Period | None) -> Any:
    if per is None:
        return t
    return t.filter((t[col] >= ibis.literal(per.start_utc)) & (t[col] < ibis.literal(per.end_utc)))


def mentions_expr(source: Any, *, period: Period | None, platform: str | None):
    """Ibis expression: (platform, post_id, actor_id, created_at, text, account_id), once per
    post and account it names, for posts naming an account other than their author.

    A text names `@screen_name` (the first 30 of `NAME_CHARS` after an `@`, before any
    `//@` repost chain); structured mentions (interactions kind='mention') name the account
    by id. Pure Ibis, so the texts stay on the engine.
    """
    table, has = tables_of(source)
    p = table("posts")
    p = in_period(p.filter(p.text.contains("@") & p.author_id.notnull()), "created_at", period)
    if platform:
        p = p.filter(p.platform == platform)
    cols = ("platform", "post_id", "author_id", "created_at", "text")
    own = p.text.split("//@")[0]  # the poster's own words, not the reposts it quotes
    named = at_names(p, own, cols, "name", most=30)
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
        q = in_period(q.filter(q.author_id.notnull()), "created_at", period)
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
    c = in_period(c, "created_at", period).select(
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
    return at_names(r, r.r_text, ("platform", "r_actor", "r_post", "r_at"), "r_name")
