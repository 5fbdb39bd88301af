"""Responsiveness: does an account answer the public, how fast, and when?

Addressed items and their answers are those of `govweibo.analyses.addressed` (comments on
the account's posts and posts that mention it; the account's earliest reply to each).

Per account: `reply_rate` = answered / addressed; time to first reply (median and p90, in
minutes, over answered items); `questions` (items detected as questions by
`govweibo.text.questions`) and `unanswered_questions`; when the account's own comments and
replies in the period were written, in Beijing time: office hours (workdays, `office_hours`
default 09:00-18:00), off hours (workdays outside them), weekends, public holidays, from the
`chinesecalendar` package (official holidays and make-up workdays, years 2004-2026). For a
year it does not cover, days fall back to Mon-Fri workdays and Sat/Sun weekends with no
holidays, and `holidays_known` is false. Also the account's posts and original share.
Items created in the period count; their replies count whenever they came.

Everything per item runs on the engine: the joins, the question rules and the Beijing-time
classes in Arrow batches (`store.engines.map_batches`), the counts and percentiles in
group-bys; the driver gets one row per account.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govweibo.analyses.activity import universe
from govweibo.analyses.addressed import addressed_expr, in_period
from govweibo.analyses.base import PROFILE_COLUMNS, Period, tables_of
from govweibo.store.engines import map_batches
from govweibo.text.questions import QuestionRules, load_rules

KEYS = ["platform", "account_id"]
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


# Per item, in Arrow batches ----------------------------------------------------------------


ITEM_SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("account_id", pa.string()),
        ("comment", pa.bool_()),
        ("answered", pa.bool_()),
        ("reply_minutes", pa.float64()),
        ("question", pa.bool_()),
    ]
)
WHEN_SCHEMA = pa.schema(
    [("platform", pa.string()), ("account_id", pa.string()), ("when", pa.string())]
)
CLASSES = ("office_hours", "off_hours", "weekend", "holiday")


def _us(a: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """UTC epoch microseconds of a timestamp column, whatever its unit or zone label."""
    return a.cast(pa.timestamp("us", "UTC")).cast(pa.int64())


def _minutes(first: Any, created: Any) -> Any:
    return pc.divide(pc.subtract(_us(first), _us(created)).cast(pa.float64()), 60e6)


def item_rows(batch: pa.RecordBatch, *, rules: QuestionRules) -> pa.RecordBatch:
    """(platform, account_id, item_kind, created_at, first_reply_at, text) -> ITEM_SCHEMA:
    the batch function of `responsiveness` (module-level, so Spark's workers import it)."""
    first = batch.column("first_reply_at")
    texts = batch.column("text").to_pylist()
    return pa.RecordBatch.from_arrays(
        [
            batch.column("platform").cast(pa.string()),
            batch.column("account_id").cast(pa.string()),
            pc.equal(batch.column("item_kind"), "comment"),
            first.is_valid(),
            _minutes(first, batch.column("created_at")),
            pa.array([rules.reason(x) is not None for x in texts], pa.bool_()),
        ],
        schema=ITEM_SCHEMA,
    )


def when_rows(batch: pa.RecordBatch, *, office_hours: tuple[float, float]) -> pa.RecordBatch:
    """(platform, account_id, at) -> WHEN_SCHEMA: office_hours | off_hours | weekend |
    holiday in Beijing time (`classify_times`), the batch function of the reply timing."""
    us = _us(batch.column("at")).to_numpy(zero_copy_only=False)
    kinds, _ = classify_times(us, office_hours)
    return pa.RecordBatch.from_arrays(
        [
            batch.column("platform").cast(pa.string()),
            batch.column("account_id").cast(pa.string()),
            pa.array(kinds.tolist(), pa.string()),
        ],
        schema=WHEN_SCHEMA,
    )


def addressed_items(
    source: Any,
    *,
    period: Period | str | None = None,
    platform: str | None = None,
    question_rules: str | None = None,
) -> pa.Table:
    """One row per addressed item: account, kind (comment|mention), actor, text,
    `first_reply_at`, `reply_minutes`, `answered`, `is_question` and `question_rule`.
    Every item comes to the driver; `responsiveness` counts them on the engine."""
    per = Period.parse(period) if period is not None else None
    t = addressed_expr(source, period=per, platform=platform).to_pyarrow()
    rules = load_rules(question_rules)
    reasons = [rules.reason(x) for x in t.column("text").to_pylist()]
    first = t.column("first_reply_at")
    t = t.append_column("reply_minutes", _minutes(first, t.column("created_at")))
    t = t.append_column("answered", first.is_valid())
    t = t.append_column("is_question", pa.array([r is not None for r in reasons]))
    t = t.append_column("question_rule", pa.array(reasons, pa.string()))
    return t.sort_by([("platform", "ascending"), ("account_id", "ascending"),
                      ("created_at", "ascending"), ("item_id", "ascending")])  # fmt: skip


def _replies_expr(source: Any, per: Period, platform: str | None):
    table, _ = tables_of(source)
    i = table("interactions")
    i = in_period(i.filter(i.actor_id.notnull() & (i.kind != "mention")), "created_at", per)
    # All its comments and replies, except replies to itself.
    i = i.filter(i.reply_to_account_id.isnull() | (i.reply_to_account_id != i.actor_id))
    if platform:
        i = i.filter(i.platform == platform)
    return i.select("platform", account_id=i.actor_id, at=i.created_at)


def _holidays_known(replies: Any) -> bool:
    """Whether the calendar covers every reply's day: its years are one run (2004-2026), so
    the first and the last day tell."""
    span = replies.aggregate(lo=replies.at.min(), hi=replies.at.max()).to_pyarrow()
    ends = [v for c in ("lo", "hi") for v in _us(span.column(c)).to_pylist() if v is not None]
    return classify_times(np.asarray(ends, dtype=np.int64))[1]


def _item_counts(source: Any, per: Period, platform: str | None, rules: QuestionRules):
    items = addressed_expr(source, period=per, platform=platform).select(
        "platform", "account_id", "item_kind", "created_at", "first_reply_at", "text"
    )
    it = map_batches(source, items, partial(item_rows, rules=rules), ITEM_SCHEMA)
    n = {c: it[c].cast("int64").sum() for c in ("comment", "answered", "question")}
    return it.group_by(KEYS).aggregate(
        addressed=it.count(),
        comments_received=n["comment"],
        answered=n["answered"],
        questions=n["question"],
        unanswered_questions=(it.question & ~it.answered).cast("int64").sum(),
        median_reply_minutes=it.reply_minutes.quantile(0.5),
        p90_reply_minutes=it.reply_minutes.quantile(0.9),
    )


def _reply_shares(source: Any, replies: Any, office_hours: tuple[float, float]):
    w = map_batches(source, replies, partial(when_rows, office_hours=office_hours), WHEN_SCHEMA)
    n = {c: (w.when == c).cast("int64").sum() for c in CLASSES}
    counts = w.group_by(KEYS).aggregate(replies=w.count(), **{f"n_{c}": n[c] for c in CLASSES})
    return counts.select(
        *KEYS,
        "replies",
        **{f"share_{c}": counts[f"n_{c}"].cast("float64") / counts.replies for c in CLASSES},
    )


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
    rules = load_rules(question_rules)  # a bad rules file fails here, not in a worker
    table, _ = tables_of(source)
    base = universe(source, government_only=government_only, platform=platform).drop("opened_at")
    p = table("posts")
    p = in_period(p.filter(p.author_id.notnull()), "created_at", per)
    pcount = p.group_by([p.platform, p.author_id.name("account_id")]).aggregate(
        posts=p.count(), original_posts=p.retweeted_post_id.isnull().cast("int64").sum()
    )
    replies = _replies_expr(source, per, platform)
    acc = base.left_join(pcount, KEYS).drop("platform_right", "account_id_right")
    acc = acc.left_join(_item_counts(source, per, platform, rules), KEYS)
    acc = acc.drop("platform_right", "account_id_right")
    acc = acc.left_join(_reply_shares(source, replies, office_hours), KEYS)
    out = acc.drop("platform_right", "account_id_right").to_pyarrow().to_pandas()

    for col in ("posts", "original_posts", "addressed", "comments_received", "answered",
                "questions", "unanswered_questions", "replies"):  # fmt: skip
        out[col] = out[col].fillna(0).astype("int64")
    out["mentions_received"] = out["addressed"] - out["comments_received"]
    out["reply_rate"] = (out["answered"] / out["addressed"]).where(out["addressed"] > 0)
    out["original_share"] = (out["original_posts"] / out["posts"]).where(out["posts"] > 0)
    out["holidays_known"] = _holidays_known(replies)
    out["period"] = per.label
    cols = [*KEYS, "screen_name", *PROFILE_COLUMNS, "period", "addressed", "comments_received",
            "mentions_received", "answered", "reply_rate", "median_reply_minutes",
            "p90_reply_minutes", "questions", "unanswered_questions", "replies",
            *(f"share_{c}" for c in CLASSES), "holidays_known", "posts", "original_posts",
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
