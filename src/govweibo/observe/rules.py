"""The observer's rules: each reads what a cycle needs and returns findings, nothing else.

Every rule is bounded by the cycle's arrivals or by the watch list, never by the whole
store: bursts compare hourly term counts (observe/terms.py); rumours score the source
posts that arrived or whose cascades grew; silence, questions, dormancy and deletions look
at the watched accounts only. docs/observe.md states each rule and its thresholds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from govweibo.observe.alerts import Finding
from govweibo.observe.config import Rules
from govweibo.observe.terms import recent_terms, term_series
from govweibo.store import Store

# Bursting terms judged per cycle, the largest first.
MAX_TERMS = 50


@dataclass
class Window:
    """What one cycle reads: the ingest runs after `after_run` up to `upto_run`."""

    after_run: int
    upto_run: int
    now: datetime
    cycle: int


def _hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def bursts(store: Store, w: Window, rules: Rules) -> list[Finding]:
    """Terms whose count over the last `window_hours` is at least `min_posts` and above
    the baseline's mean + k·sd (the same window's counts over `baseline_days` before it,
    empty windows included). Terms that burst on the same posts are one event: the
    largest names it, the others are listed with it."""
    r = rules.burst
    now_h = _hour(w.now)
    win = timedelta(hours=r.window_hours)
    start = now_h + timedelta(hours=1) - win
    base_from = start - timedelta(days=r.baseline_days)
    series = term_series(store, recent_terms(store, since=start), since=base_from)
    n_windows = max(1, int(r.baseline_days * 24 / r.window_hours))
    hot: list[tuple[int, str, float, float]] = []
    for term, hours in series.items():
        recent = sum(n for h, n in hours.items() if start <= h <= now_h)
        if recent < r.min_posts:
            continue
        buckets = [0] * n_windows
        for h, n in hours.items():
            if h < start:
                i = int((start - h) / win)
                if i < n_windows:
                    buckets[i] += n
        mean = sum(buckets) / n_windows
        sd = math.sqrt(sum((b - mean) ** 2 for b in buckets) / n_windows)
        if recent > mean + r.k * sd:
            hot.append((recent, term, mean, sd))
    # The largest first; past MAX_TERMS a cycle's list would be noise to a reader.
    hot.sort(key=lambda x: (-x[0], x[1]))
    hot = hot[:MAX_TERMS]
    window = _window_posts(store, start, w.now) if hot else []
    events: list[dict[str, Any]] = []
    for recent, term, mean, sd in hot:
        needle = term.strip("#").lower()
        posts = [p for p in window if needle in p["lower"]]
        ids = {p["post_id"] for p in posts}
        home = next((e for e in events if _overlap(ids, e["ids"]) >= 0.5), None)
        if home is not None:
            home["related"].append(term)
            continue
        events.append(
            {"term": term, "recent": recent, "mean": mean, "sd": sd, "ids": ids, "posts": posts,
             "related": []}
        )  # fmt: skip
    out = []
    for e in events:
        first = min(p["created_at"] for p in e["posts"]) if e["posts"] else start
        province, share = _province_of(store, e["posts"], r.province_share)
        episode = _episode(store, {e["term"], *e["related"]}, w.now, win)
        if episode is not None:
            # A burst that goes on keeps the time it began (the window slides past it).
            subject, began = episode
            first = min(first, began)
        else:
            subject = f"{e['term']}@{first:%Y-%m-%dT%H:%MZ}"
        where = f"（{province}）" if province else ""
        out.append(
            Finding(
                "burst",
                subject,
                f"{e['term']}{where}: {e['recent']} posts in {r.window_hours:g} h "
                f"(baseline {e['mean']:.1f} ± {e['sd']:.1f})",
                {
                    "term": e["term"],
                    "related": e["related"],
                    "posts": e["recent"],
                    "baseline_mean": round(e["mean"], 3),
                    "baseline_sd": round(e["sd"], 3),
                    "window_hours": r.window_hours,
                    "started_at": first.isoformat(),
                    "province": province,
                    "province_share": round(share, 3),
                    "examples": sorted(e["ids"])[:5],
                },
            )
        )
    return out


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _episode(
    store: Store, terms: set[str], now: datetime, win: timedelta
) -> tuple[str, datetime] | None:
    """The subject and start of the burst alert this event continues, if one was seen
    within two windows and shares a term with it (the largest term may change from one
    cycle to the next): a burst that lasts is one alert, a later one a new alert."""
    rows = store.con.execute(
        """SELECT subject, evidence FROM alerts WHERE kind = 'burst' AND last_seen >= ?
           ORDER BY last_seen DESC""",
        [now - 2 * win],
    ).fetchall()
    for subject, evidence in rows:
        ev = json.loads(evidence or "{}")
        if terms & {ev.get("term"), *ev.get("related", [])}:
            began = ev.get("started_at")
            return str(subject), datetime.fromisoformat(began) if began else now
    return None


def _window_posts(store: Store, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The posts of the burst window, read once (posts are appended roughly in time
    order, so the time filter skips most of the table by its zone maps)."""
    rows = store.con.execute(
        """SELECT platform, post_id, author_id, created_at, text FROM posts
           WHERE created_at >= ? AND created_at < ? AND text IS NOT NULL""",
        [since, until],
    ).fetchall()
    keys = ("platform", "post_id", "author_id", "created_at", "text")
    out = [dict(zip(keys, r, strict=True)) for r in rows]
    for p in out:
        p["lower"] = p["text"].lower()
    return out


def _province_of(
    store: Store, posts: list[dict[str, Any]], share: float
) -> tuple[str | None, float]:
    """The province most of the posts name or come from, if its share reaches `share`."""
    if not posts:
        return None, 0.0
    home = _author_provinces(store, [(p["platform"], p["author_id"]) for p in posts])
    votes: dict[str, int] = {}
    for p in posts:
        # A window's post belongs to several events: its places are found once.
        if "places" not in p:
            p["places"] = _places_in(p["text"] or "")
        found = set(p["places"])
        author = home.get((p["platform"], p["author_id"]))
        if author:
            found.add(author)
        for prov in found:
            votes[prov] = votes.get(prov, 0) + 1
    if not votes:
        return None, 0.0
    best = max(votes.items(), key=lambda kv: (kv[1], kv[0]))
    frac = best[1] / len(posts)
    return (best[0], frac) if frac >= share else (None, frac)


@cache
def place_names() -> dict[str, str]:
    """Province and prefecture short names (two characters or more) -> province."""
    from govweibo.reference import provinces
    from govweibo.reference.divisions import divisions

    by_code = {p.adcode: p.short_zh for p in provinces()}
    names = {p.short_zh: p.short_zh for p in provinces()}
    for d in divisions():
        short = by_code.get(d.province_adcode)
        if d.level == "prefecture" and d.status == "current" and len(d.short) >= 2 and short:
            names.setdefault(d.short, short)
    return names


@cache
def _by_prefix() -> dict[str, list[tuple[str, str]]]:
    """place_names() by their first two characters (every name has two or more)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name, prov in place_names().items():
        out.setdefault(name[:2], []).append((name, prov))
    return out


def _places_in(text: str) -> set[str]:
    """The provinces of the place names in `text` (`{p for n, p in place_names().items()
    if n in text}`), found by looking up each two characters of the text instead of
    searching the text once per name: a burst window can hold 100,000 posts and there are
    some 340 names (6 s of a 1M-post cycle, bench/observe.py)."""
    index = _by_prefix()
    found: set[str] = set()
    for i in range(len(text) - 1):
        hits = index.get(text[i : i + 2])
        if hits:
            found.update(prov for name, prov in hits if text.startswith(name, i))
    return found


def _author_provinces(store: Store, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    if not keys or not store.has_table("account_profiles"):
        return {}
    rows = store.con.execute(
        """SELECT a.platform, a.account_id, a.province FROM account_profiles a
           JOIN (SELECT unnest(?::VARCHAR[]) AS platform, unnest(?::VARCHAR[]) AS account_id) k
             USING (platform, account_id)
           WHERE a.province IS NOT NULL""",
        [[k[0] for k in keys], [k[1] or "" for k in keys]],
    ).fetchall()
    return {(r[0], r[1]): r[2] for r in rows}
