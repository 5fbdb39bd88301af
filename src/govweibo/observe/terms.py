"""Hourly term counts of recent posts, kept up to date one cycle's arrivals at a time.

A cycle reads only the posts of the ingest runs since the last cycle (`run_id` above
the last one it read: runs append, so DuckDB's zone maps skip the rest of the table) and
of those only posts made in the last `keep_days` days that it has not counted before
(`observe_seen`, pruned with the counts). Their terms (#topics# and words, one count per
post) are added to `observe_terms` by hour. The burst rule then compares hours, not posts:
its cost follows what arrived, not the store's size.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyarrow as pa

from govweibo.store import Store

# Words worth counting: two characters or more, not only digits or Latin noise.
_WORTH = re.compile(r"^(?:#.+#|[\u4e00-\u9fff][\u4e00-\u9fffA-Za-z0-9]+|[A-Za-z]{3,})$")
MAX_TERMS_PER_POST = 40


@dataclass
class Arrived:
    """What one cycle found new: the posts counted, by hour."""

    posts: int
    terms: int
    hours: list[datetime]


def post_terms(text: str | None) -> list[str]:
    """The distinct countable terms of a post's own words (#topics# kept whole)."""
    from govweibo.text.segment import tokens

    seen: dict[str, None] = {}
    for tok in tokens(text):
        if _WORTH.match(tok) and tok not in seen:
            seen[tok] = None
            if len(seen) >= MAX_TERMS_PER_POST:
                break
    return list(seen)


def new_posts(
    store: Store, *, after_run: int, upto_run: int, since: datetime, until: datetime
) -> pa.Table:
    """Posts of runs in (after_run, upto_run] made in [since, until) and not counted yet.
    A post stamped after the cycle's clock (a skewed clock, a replay) is not counted."""
    return store.con.execute(
        """SELECT p.platform, p.post_id, p.author_id, p.created_at, p.text,
                  p.retweeted_post_id
           FROM posts p
           WHERE p.run_id > ? AND p.run_id <= ? AND p.created_at >= ? AND p.created_at < ?
             AND NOT EXISTS (SELECT 1 FROM observe_seen s
                             WHERE s.platform = p.platform AND s.post_id = p.post_id)""",
        [after_run, upto_run, since, until],
    ).fetch_arrow_table()


def count_arrivals(
    store: Store, *, after_run: int, upto_run: int, now: datetime, keep_days: int
) -> Arrived:
    """Add the new posts' terms to observe_terms and the posts to observe_seen."""
    since = now - timedelta(days=keep_days)
    posts = new_posts(store, after_run=after_run, upto_run=upto_run, since=since, until=now)
    counts: Counter[tuple[datetime, str]] = Counter()
    hours = [
        t.replace(minute=0, second=0, microsecond=0) for t in posts.column("created_at").to_pylist()
    ]
    for hour, text in zip(hours, posts.column("text").to_pylist(), strict=True):
        for term in post_terms(text):
            counts[(hour, term)] += 1
    con = store.con
    if counts:
        add = pa.table(
            {
                "hour": pa.array([h for h, _ in counts], pa.timestamp("us", "UTC")),
                "term": pa.array([t for _, t in counts], pa.string()),
                "n": pa.array(list(counts.values()), pa.int64()),
            }
        )
        con.register("_observe_add", add)
        try:
            con.execute(
                """INSERT INTO observe_terms SELECT hour, term, n FROM _observe_add
                   ON CONFLICT (hour, term) DO UPDATE SET n = observe_terms.n + excluded.n"""
            )
        finally:
            con.unregister("_observe_add")
    if posts.num_rows:
        seen = pa.table(
            {
                "platform": posts.column("platform"),
                "post_id": posts.column("post_id"),
                "hour": pa.array(hours, pa.timestamp("us", "UTC")),
            }
        )
        con.register("_observe_seen", seen)
        try:
            con.execute(
                "INSERT INTO observe_seen SELECT platform, post_id, hour FROM _observe_seen "
                "ON CONFLICT DO NOTHING"
            )
        finally:
            con.unregister("_observe_seen")
    # What is older than the baseline can no longer make or compare a burst.
    con.execute("DELETE FROM observe_terms WHERE hour < ?", [since])
    con.execute("DELETE FROM observe_seen WHERE hour < ?", [since])
    return Arrived(posts.num_rows, len(counts), sorted(set(hours)))


def recent_terms(store: Store, *, since: datetime) -> list[str]:
    """Terms counted in hours from `since` on (the candidates for a burst)."""
    rows = store.con.execute(
        "SELECT DISTINCT term FROM observe_terms WHERE hour >= ?", [since]
    ).fetchall()
    return [r[0] for r in rows]


def term_series(
    store: Store, terms: list[str], *, since: datetime
) -> dict[str, dict[datetime, int]]:
    """Hourly counts from `since` on, per term."""
    if not terms:
        return {}
    rows = store.con.execute(
        """SELECT term, hour, n FROM observe_terms
           WHERE hour >= ? AND term IN (SELECT unnest(?::VARCHAR[]))""",
        [since, terms],
    ).fetchall()
    out: dict[str, dict[datetime, int]] = {}
    for term, hour, n in rows:
        out.setdefault(term, {})[hour] = int(n)
    return out
