"""Rumour candidates: the shipped rumour triage (analyses/rumours.py) over the source posts
that arrived this cycle or whose cascades grew, and nothing else.

The triage sees each post with its reposts up to `hours` after it was posted, and says
`likely_rumour` only where the model speaks with evidence; clarifications by official or
verified authors and posts outside the model's domain are never alerts (docs/rumours.md).
The tables it reads are cut to those posts, their reposts and their authors before
anything is loaded, so the cost follows the arrivals.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import ibis

from govweibo.observe.alerts import Finding
from govweibo.observe.config import Rules
from govweibo.observe.rules import Window
from govweibo.store import Store

# Source posts older than this are not re-judged when a late repost arrives.
LOOKBACK = timedelta(days=3)


def candidates(store: Store, w: Window) -> list[tuple[str, str]]:
    """(platform, post_id) of the source posts to judge this cycle."""
    rows = store.con.execute(
        """SELECT DISTINCT platform, coalesce(retweeted_post_id, post_id)
           FROM posts WHERE run_id > ? AND run_id <= ? AND created_at >= ? AND created_at < ?""",
        [w.after_run, w.upto_run, w.now - LOOKBACK, w.now],
    ).fetchall()
    return sorted((r[0], r[1]) for r in rows if r[1])


def rumours(store: Store, w: Window, rules: Rules) -> list[Finding]:
    from govweibo.analyses.rumours import score_posts

    r = rules.rumour
    cands = candidates(store, w)
    if not cands:
        return []
    keys = ibis.memtable({"platform": [c[0] for c in cands], "root": [c[1] for c in cands]})
    p = store.table("posts")
    roots = p.semi_join(keys, [p.platform == keys.platform, p.post_id == keys.root])
    reps = p.semi_join(keys, [p.platform == keys.platform, p.retweeted_post_id == keys.root])
    posts = roots.union(reps)
    authors = posts.select("platform", account_id=posts.author_id).distinct()
    tables: dict[str, Any] = {"posts": posts}
    for name in ("accounts", "account_observations", "account_profiles"):
        if store.has_table(name):
            t = store.table(name)
            tables[name] = t.semi_join(authors, ["platform", "account_id"])
    scored = score_posts(tables, hours=r.hours or None, threshold=r.threshold or None).to_pylist()
    wanted = set(cands)
    out = []
    for row in scored:
        if row["label"] != "likely_rumour" or (row["platform"], row["post_id"]) not in wanted:
            continue
        prob = row["rumour_probability"]
        out.append(
            Finding(
                "rumour",
                f"{row['platform']}:{row['post_id']}",
                f"{row['author'] or row['author_id']}: {row['text']}",
                {
                    "post_id": row["post_id"],
                    "platform": row["platform"],
                    "author_id": row["author_id"],
                    "author": row["author"],
                    "text": row["text"],
                    "created_at": row["created_at"].isoformat() if row["created_at"] else None,
                    "rumour_probability": None if prob is None else round(prob, 3),
                    "evidence": row["evidence"],
                    "reposts_seen": row["reposts_seen"],
                    "hours_seen": row["hours_seen"],
                    "reason": row["reason"],
                },
            )
        )
    return out
