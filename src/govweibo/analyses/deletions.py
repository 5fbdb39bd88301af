"""Deletion audit: posts seen in one complete timeline observation and missing from a later one.

Input is `timeline_sightings` (a post seen in a complete observation of its author's timeline
at `observed_at`). An observation is known only through its sightings, so an observation of
an empty timeline is invisible. Rules:

- A post counts as deleted when a later observation of the same account does not contain it
  and the post lies inside that observation's horizon: its `created_at` is at or after the
  earliest `created_at` among the posts that observation did see. A snapshot that only
  reaches back N posts therefore never flags older posts.
- `last_seen` is the latest observation that saw the post before `first_missing`, the
  earliest observation that missed it. A post seen again later is kept with
  `reappeared = true` (hidden for a while, or a flaky observation), so a reader can drop it.
- Posts whose `created_at` is unknown (not in `posts`) cannot be placed against a horizon
  and are never flagged.

Everything is one Ibis expression, so it can run on another Ibis backend.
"""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa

from govweibo.analyses.base import Period, tables_of


def deletions_expr(source: Any, *, period: Period | str | None = None, platform: str | None = None):
    """Ibis expression: one row per deleted post (see the module docstring for the rules)."""
    table, _ = tables_of(source)
    s = table("timeline_sightings")
    if platform:
        s = s.filter(s.platform == platform)
    p = table("posts").select("platform", "post_id", "created_at", "text")
    s = s.select("platform", "account_id", "post_id", "observed_at")
    sp = s.inner_join(p, ["platform", "post_id"])
    horizons = sp.group_by(["platform", "account_id", "observed_at"]).aggregate(
        horizon=sp.created_at.min()
    )
    seen = sp.group_by(["platform", "account_id", "post_id"]).aggregate(
        first_seen=sp.observed_at.min(),
        last_seen_any=sp.observed_at.max(),
        created_at=sp.created_at.max(),
        text=sp.text.max(),
    )
    # Every later observation of the account whose horizon covers the post ...
    later = seen.inner_join(
        horizons,
        [
            seen.platform == horizons.platform,
            seen.account_id == horizons.account_id,
            horizons.observed_at > seen.first_seen,
            seen.created_at >= horizons.horizon,
        ],
    ).select(
        seen.platform,
        seen.account_id,
        seen.post_id,
        seen.created_at,
        seen.text,
        seen.last_seen_any,
        horizons.observed_at,
        horizons.horizon,
    )
    # ... that did not see it.
    missing = later.anti_join(s.view(), ["platform", "account_id", "post_id", "observed_at"])
    first = missing.group_by(["platform", "account_id", "post_id"]).aggregate(
        first_missing=missing.observed_at.min()
    )
    cand = missing.inner_join(
        first,
        [
            missing.platform == first.platform,
            missing.account_id == first.account_id,
            missing.post_id == first.post_id,
            missing.observed_at == first.first_missing,
        ],
    ).select(
        missing.platform,
        missing.account_id,
        missing.post_id,
        missing.created_at,
        missing.text,
        missing.last_seen_any,
        first.first_missing,
        missing.horizon,
    )
    sv = s.view()
    before = cand.inner_join(
        sv,
        [
            cand.platform == sv.platform,
            cand.account_id == sv.account_id,
            cand.post_id == sv.post_id,
            sv.observed_at < cand.first_missing,
        ],
    ).select(*[cand[c] for c in cand.columns], seen_at=sv.observed_at)
    keys = list(cand.columns)
    out = before.group_by(keys).aggregate(last_seen=before.seen_at.max())
    out = out.mutate(reappeared=out.last_seen_any > out.first_missing)
    if period is not None:
        per = Period.parse(period)
        out = out.filter(
            (out.first_missing >= ibis.literal(per.start_utc))
            & (out.first_missing < ibis.literal(per.end_utc))
        )
    return out.select(
        "platform",
        "account_id",
        "post_id",
        "created_at",
        "last_seen",
        "first_missing",
        "horizon",
        "reappeared",
        "text",
    ).order_by(["platform", "account_id", "first_missing", "post_id"])


def deleted_posts(
    source: Any, *, period: Period | str | None = None, platform: str | None = None
) -> pa.Table:
    """One row per deleted post: platform, account_id, post_id, created_at, last_seen,
    first_missing, horizon (of the first observation that missed it), reappeared, text.
    `period` keeps deletions first noticed in that span of Beijing days."""
    return deletions_expr(source, period=period, platform=platform).to_pyarrow()


def deletion_summary(
    source: Any, *, period: Period | str | None = None, platform: str | None = None
) -> pa.Table:
    """Per account: observations, posts seen, posts deleted (not reappeared), deletion rate."""
    table, _ = tables_of(source)
    s = table("timeline_sightings")
    if platform:
        s = s.filter(s.platform == platform)
    if period is not None:
        per = Period.parse(period)
        s = s.filter(
            (s.observed_at >= ibis.literal(per.start_utc))
            & (s.observed_at < ibis.literal(per.end_utc))
        )
    base = s.group_by(["platform", "account_id"]).aggregate(
        observations=s.observed_at.nunique(), posts_seen=s.post_id.nunique()
    )
    d = deletions_expr(source, period=period, platform=platform)
    d = d.filter(~d.reappeared)
    dn = d.group_by(["platform", "account_id"]).aggregate(deleted=d.count())
    out = base.left_join(dn, ["platform", "account_id"]).select(
        base.platform, base.account_id, base.observations, base.posts_seen, dn.deleted
    )
    out = out.mutate(deleted=out.deleted.fill_null(0))
    out = out.mutate(deletion_rate=out.deleted.cast("float64") / out.posts_seen)
    return out.order_by([ibis.desc("deleted"), "platform", "account_id"]).to_pyarrow()
