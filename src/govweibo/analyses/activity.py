"""Activity audit: dormant accounts, "for show" accounts, original vs. repost share.

Per account and period (Beijing calendar days, see `Period`):

- `dormant`: no post in the `dormant_days` (default 180) before the period end; an account
  never seen posting is dormant too. `days_since_last_post` counts from the period end to
  the last post at or before it.
- `for_show`: not dormant, few posts and almost no interaction. All three must hold:
  posts in the period <= `show_max_posts_per_30d` x days/30 (default 2 per 30 days);
  engagement per post (reposts + comments + likes received, summed over the period's posts,
  divided by posts; 0 without posts) <= `show_max_engagement_per_post` (default 1.0);
  the account's own comments/replies to others in the period <= `show_max_replies` (0).
- `original_share`: posts that are not reposts (`retweeted_post_id` is null) / posts.

Government accounts only when `account_profiles` exists (unless `government_only` says
otherwise); profile columns are null without it. One Ibis expression.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import ibis
import pyarrow as pa

from govweibo.analyses.base import PROFILE_COLUMNS, Period, accounts_universe, tables_of

KEYS = ["platform", "account_id"]


def universe(source: Any, *, government_only: bool | None = None, platform: str | None = None):
    """accounts_universe; `government_only=None` means: only when account_profiles exists."""
    _, has = tables_of(source)
    gov = has("account_profiles") if government_only is None else government_only
    return accounts_universe(source, government_only=gov, platform=platform)


def activity_expr(
    source: Any,
    *,
    period: Period | str,
    dormant_days: int = 180,
    show_max_posts_per_30d: float = 2.0,
    show_max_engagement_per_post: float = 1.0,
    show_max_replies: int = 0,
    government_only: bool | None = None,
    platform: str | None = None,
):
    per = Period.parse(period)
    table, has = tables_of(source)
    lo, hi = ibis.literal(per.start_utc), ibis.literal(per.end_utc)
    base = universe(source, government_only=government_only, platform=platform)
    base = base.filter(base.opened_at.isnull() | (base.opened_at < hi)).drop("opened_at")

    p = table("posts")
    p = p.filter(p.author_id.notnull() & (p.created_at < hi))
    inp = (p.created_at >= lo).cast("int64")
    agg = p.group_by([p.platform, p.author_id.name("account_id")]).aggregate(
        posts=inp.sum(),
        original_posts=(inp * p.retweeted_post_id.isnull().cast("int64")).sum(),
        engagement=(
            inp * (p.reposts.fill_null(0) + p.comments.fill_null(0) + p.likes.fill_null(0))
        ).sum(),
        last_post_at=p.created_at.max(),
    )
    out = base.left_join(agg, KEYS).drop("platform_right", "account_id_right")
    if has("interactions"):
        i = table("interactions")
        # Comments and replies only: a mention row (Mastodon, X) is not a comment.
        i = i.filter(
            (i.created_at >= lo) & (i.created_at < hi) & i.actor_id.notnull()
            & (i.kind != "mention")
        )  # fmt: skip
        own = i.filter(i.target_account_id.isnull() | (i.target_account_id != i.actor_id))
        rep = own.group_by([own.platform, own.actor_id.name("account_id")]).aggregate(
            replies=own.count()
        )
        pub = i.filter(i.target_account_id.notnull() & (i.actor_id != i.target_account_id))
        pubc = pub.group_by([pub.platform, pub.target_account_id.name("account_id")]).aggregate(
            public_comments=pub.count()
        )
        out = out.left_join(rep, KEYS).drop("platform_right", "account_id_right")
        out = out.left_join(pubc, KEYS).drop("platform_right", "account_id_right")
    else:
        out = out.mutate(replies=ibis.literal(0), public_comments=ibis.literal(0))

    posts = out.posts.fill_null(0)
    out = out.mutate(
        posts=posts,
        original_posts=out.original_posts.fill_null(0),
        reposts_made=posts - out.original_posts.fill_null(0),
        engagement=out.engagement.fill_null(0),
        replies=out.replies.fill_null(0),
        public_comments=out.public_comments.fill_null(0),
    )
    secs = hi.delta(out.last_post_at, unit="second")
    dormant_since = ibis.literal(per.end_utc - timedelta(days=dormant_days))
    out = out.mutate(
        original_share=ibis.ifelse(
            out.posts > 0, out.original_posts.cast("float64") / out.posts, ibis.null("float64")
        ),
        engagement_per_post=ibis.ifelse(
            out.posts > 0, out.engagement.cast("float64") / out.posts, 0.0
        ),
        days_since_last_post=(secs.cast("float64") / 86400.0),
        dormant=out.last_post_at.isnull() | (out.last_post_at < dormant_since),
    )
    max_posts = show_max_posts_per_30d * per.days / 30.0
    out = out.mutate(
        for_show=(~out.dormant)
        & (out.posts <= max_posts)
        & (out.engagement_per_post <= show_max_engagement_per_post)
        & (out.replies <= show_max_replies)
    )
    return out.select(
        *KEYS,
        "screen_name",
        *PROFILE_COLUMNS,
        "posts",
        "original_posts",
        "reposts_made",
        "original_share",
        "engagement",
        "engagement_per_post",
        "public_comments",
        "replies",
        "last_post_at",
        "days_since_last_post",
        "dormant",
        "for_show",
        period=ibis.literal(per.label),
    ).order_by(KEYS)


def account_activity(
    source: Any,
    *,
    period: Period | str,
    dormant_days: int = 180,
    show_max_posts_per_30d: float = 2.0,
    show_max_engagement_per_post: float = 1.0,
    show_max_replies: int = 0,
    government_only: bool | None = None,
    platform: str | None = None,
) -> pa.Table:
    """One row per account: posts, original/repost counts and share, engagement, replies,
    last post, `dormant` and `for_show` flags (rules in the module docstring)."""
    return activity_expr(
        source,
        period=period,
        dormant_days=dormant_days,
        show_max_posts_per_30d=show_max_posts_per_30d,
        show_max_engagement_per_post=show_max_engagement_per_post,
        show_max_replies=show_max_replies,
        government_only=government_only,
        platform=platform,
    ).to_pyarrow()
