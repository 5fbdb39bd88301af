"""Events and the official response: who spoke, how fast, how far, and who stayed silent.

An event is a set of keywords and a start time: from a burst (`detect_events`), or given.
Matching is by keyword (any keyword in the text) within a window after the start; the
official posts are those by government accounts (registry `account_profiles`). For a rumour,
the clarification is compared with the rumour's cascade, before and after it appeared.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from govweibo.analyses.base import tables_of
from govweibo.errors import AnalysisError

CLARIFY_WORDS = ("辟谣", "不实", "谣言", "澄清", "假消息")
SIMILARITY = 0.3
# Enough event posts to describe what it is about; more only costs time.
CENTROID_POSTS = 2000


@dataclass
class EventResponse:
    keywords: tuple[str, ...]
    start: datetime
    end: datetime
    first_post_at: datetime | None
    event_posts: int
    official_posts: int
    first_official_at: datetime | None
    delay_hours: float | None  # first event post -> first official post
    responders: pa.Table  # one row per government account that spoke
    silent: pa.Table  # government accounts of the province (and sector) that did not
    rumour: dict[str, Any] = field(default_factory=dict)


def _pattern(keywords: tuple[str, ...]) -> str:
    if not keywords or not all(k.strip() for k in keywords):
        raise AnalysisError("an event needs at least one non-empty keyword")
    return "|".join(re.escape(k.strip()) for k in keywords)


def _hours(a: datetime | None, b: datetime | None) -> float | None:
    return None if a is None or b is None else (b - a).total_seconds() / 3600


def official_response(
    source: Any,
    *,
    keywords: tuple[str, ...] | list[str],
    start: datetime,
    hours: float = 72.0,
    province: str | None = None,
    sector: str | None = None,
    rumour_root: str | None = None,
    platform: str | None = None,
    similarity: float | None = SIMILARITY,
) -> EventResponse:
    """The official response to an event (keywords from `start` for `hours`).

    An official post counts when it names a keyword, or, without one, when its text is
    similar to the event's posts (cosine of character-bigram counts against the event's
    centroid >= `similarity`; None turns this off)."""
    table, has = tables_of(source)
    if not has("account_profiles"):
        raise AnalysisError("the event response needs account_profiles: run 'govweibo classify'")
    kw = tuple(keywords)
    end = start + timedelta(hours=hours)
    posts = table("posts")
    if platform:
        posts = posts.filter(posts.platform == platform)
    in_time = posts.filter((posts.created_at >= start) & (posts.created_at < end))
    named = in_time.text.re_search(_pattern(kw))
    prof = table("account_profiles")
    gov = prof.filter(prof.is_government)
    acc = table("accounts").select("platform", "account_id", "screen_name")
    similar = _similar_posts(in_time, named, gov, similarity) if similarity is not None else []
    window = (
        in_time.filter(named | in_time.post_id.isin(similar)) if similar else in_time.filter(named)
    )
    matched = window.left_join(
        gov.select("platform", "account_id", "sector", "province"),
        [window.platform == gov.platform, window.author_id == gov.account_id],
    )
    official = matched.filter(matched.account_id.notnull())
    per = official.group_by(["platform", "author_id"]).aggregate(
        first_post_at=official.created_at.min(),
        posts=official.count(),
        reposts=official.reposts.fill_null(0).sum(),
        comments=official.comments.fill_null(0).sum(),
        sector=official.sector.max(),
        province=official.province.max(),
    )
    per = per.left_join(acc, [per.platform == acc.platform, per.author_id == acc.account_id])
    responders = (
        per.select("platform", "author_id", "screen_name", "sector", "province",
                   "first_post_at", "posts", "reposts", "comments")
        .order_by(["first_post_at", "platform", "author_id"])  # ties: not the engine's order
        .to_pyarrow()
    )  # fmt: skip
    stats = window.aggregate(n=window.count(), first=window.created_at.min()).to_pyarrow()
    n_event, first_post = stats["n"][0].as_py(), stats["first"][0].as_py()
    first_official = pc.min(responders["first_post_at"]).as_py() if responders.num_rows else None
    delay = _hours(first_post, first_official)
    # Each responder's delay counts from the event's start (the burst start, or as given).
    responders = responders.append_column(
        "delay_hours",
        pa.array([_hours(start, t) for t in responders["first_post_at"].to_pylist()],
                 pa.float64()),
    )  # fmt: skip
    silent = _silent(gov, acc, responders, province, sector)
    result = EventResponse(
        keywords=kw, start=start, end=end, first_post_at=first_post, event_posts=int(n_event),
        official_posts=int(pc.sum(responders["posts"]).as_py() or 0),
        first_official_at=first_official, delay_hours=delay, responders=responders,
        silent=silent,
    )  # fmt: skip
    if rumour_root is not None:
        result.rumour = _rumour(posts, official, rumour_root)
    return result


def _bigrams(text: str) -> Counter[str]:
    t = re.sub(r"\s+|https?://\S+|@[^\s:：]+", "", text or "")
    return Counter(t[i : i + 2] for i in range(len(t) - 1))


def _cosine(a: Counter[str], b: Counter[str], b_norm: float) -> float:
    if not a or not b_norm:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    return dot / (math.sqrt(sum(v * v for v in a.values())) * b_norm)


def _similar_posts(in_time: Any, named: Any, gov: Any, threshold: float) -> list[str]:
    """Government posts in the window without a keyword whose text resembles the event's."""
    # Ties broken by id, so every engine takes the same posts at the cut.
    event = in_time.filter(named).order_by(
        [ibis.desc(in_time.reposts.fill_null(0)), "platform", "post_id"]
    )
    texts = event.select("text").limit(CENTROID_POSTS).to_pyarrow()["text"].to_pylist()
    centroid: Counter[str] = Counter()
    for t in texts:
        centroid.update(_bigrams(t))
    norm = math.sqrt(sum(v * v for v in centroid.values()))
    cand = in_time.filter(~named).semi_join(
        gov, [in_time.platform == gov.platform, in_time.author_id == gov.account_id]
    )
    rows = cand.select("post_id", "text").to_pyarrow().to_pylist()
    return [r["post_id"] for r in rows if _cosine(_bigrams(r["text"]), centroid, norm) >= threshold]


def _silent(
    gov: Any, acc: Any, responders: pa.Table, province: str | None, sector: str | None
) -> pa.Table:
    if province is None and sector is None:
        return pa.table({"platform": [], "account_id": [], "screen_name": [], "sector": []})
    g = gov
    if province is not None:
        g = g.filter(g.province == province)
    if sector is not None:
        g = g.filter(g.sector == sector)
    g = g.left_join(acc, [g.platform == acc.platform, g.account_id == acc.account_id])
    spoke = set(responders["author_id"].to_pylist())
    out = g.select("platform", "account_id", "screen_name", "sector", "level").to_pyarrow()
    keep = pa.array([a not in spoke for a in out["account_id"].to_pylist()], pa.bool_())
    return out.filter(keep).sort_by([("level", "ascending"), ("account_id", "ascending")])


def _rumour(posts: Any, official: Any, root: str) -> dict[str, Any]:
    """The rumour's cascade against the official clarification, before and after it."""
    rp = posts.filter((posts.post_id == root) | (posts.retweeted_post_id == root))
    rows = rp.select("post_id", "created_at").to_pyarrow()
    if not rows.num_rows:
        raise AnalysisError(f"no post {root} (or reposts of it) in the store")
    clar = official.filter(official.text.re_search("|".join(CLARIFY_WORDS)))
    top = [ibis.desc(clar.reposts.fill_null(0)), "platform", "post_id"]  # ties: by id
    clar_row = clar.order_by(top).limit(1).to_pyarrow()
    out: dict[str, Any] = {"root_post_id": root, "rumour_reposts": rows.num_rows - 1}
    if not clar_row.num_rows:
        out["clarification_post_id"] = None
        return out
    cid, cat = clar_row["post_id"][0].as_py(), clar_row["created_at"][0].as_py()
    creposts = posts.filter(posts.retweeted_post_id == cid).select("created_at").to_pyarrow()
    times = sorted(t for t in rows["created_at"].to_pylist() if t is not None)
    before = [t for t in times if t < cat]
    after = [t for t in times if t >= cat]
    span_before = max(_hours(times[0], cat) or 0.0, 1e-9)
    span_after = max(_hours(cat, times[-1]) or 0.0, 1e-9) if after else None
    out.update(
        clarification_post_id=cid,
        clarifier_id=clar_row["author_id"][0].as_py(),
        clarified_at=cat,
        hours_to_clarification=_hours(times[0], cat),
        clarification_reposts=creposts.num_rows,
        clarification_reposts_counted=clar_row["reposts"][0].as_py(),
        rumour_reposts_before=len(before) - (1 if times and times[0] < cat else 0),
        rumour_reposts_after=len(after),
        rumour_per_hour_before=(len(before) - 1) / span_before if before else 0.0,
        rumour_per_hour_after=(len(after) / span_after) if span_after else 0.0,
        reach_ratio=(creposts.num_rows / max(rows.num_rows - 1, 1)),
    )
    return out


def detect_events(
    source: Any,
    *,
    period: Any = None,
    unit: str = "hour",
    k: float = 3.0,
    min_count: int = 5,
    top: int = 20,
) -> pa.Table:
    """Candidate events: the largest keyword bursts (see analyses.bursts), biggest first."""
    from govweibo.analyses.bursts import bursts

    b = bursts(source, unit=unit, kind="words", period=period, k=k, min_count=min_count)
    return b.sort_by([("size", "descending")]).slice(0, top)
