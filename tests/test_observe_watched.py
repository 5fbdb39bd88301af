"""The watched-account rules on a hand-made store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from govweibo.collect import watch_add
from govweibo.observe.config import Rules
from govweibo.observe.rules import Window
from govweibo.observe.watched import deleted, dormant, questions, watched_accounts
from govweibo.store import Store

NOW = datetime(2026, 7, 18, 12, tzinfo=UTC)


def _store(store: Store) -> None:
    con = store.con
    con.execute(
        "INSERT INTO accounts (platform, account_id, screen_name) VALUES "
        "('weibo', '1', '武汉发布'), ('weibo', '2', '沉睡局'), ('weibo', '9', '网友')"
    )
    con.execute(
        "INSERT INTO posts (platform, post_id, author_id, created_at, text, run_id) VALUES "
        "('weibo', '11', '1', ?, '通知', 1), ('weibo', '12', '1', ?, '提醒', 1), "
        "('weibo', '21', '2', ?, '很久以前', 1)",
        [NOW - timedelta(hours=20), NOW - timedelta(hours=30), NOW - timedelta(days=40)],
    )
    asks = ["请问明天地铁停运吗？", "怎么办理居住证？", "谢谢", "学校什么时候开学？"]
    for n, text in enumerate(asks):
        con.execute(
            "INSERT INTO interactions (platform, interaction_id, kind, actor_id, post_id, "
            "target_account_id, created_at, text) VALUES ('weibo', ?, 'comment', '9', '12', '1', ?, ?)",
            [f"c{n}", NOW - timedelta(hours=2), text],
        )
    # The account answered the last question.
    con.execute(
        "INSERT INTO interactions (platform, interaction_id, kind, actor_id, post_id, "
        "reply_to_id, created_at, text) VALUES ('weibo', 'r1', 'reply', '1', '12', 'c3', ?, '9月1日')",
        [NOW - timedelta(hours=1)],
    )
    # Two timeline snapshots of account 1: post 11 is gone from the second, which reaches
    # back past it (to post 12).
    for when, posts in (
        (NOW - timedelta(hours=3), ["11", "12"]),
        (NOW - timedelta(hours=1), ["12"]),
    ):
        for pid in posts:
            con.execute(
                "INSERT INTO timeline_sightings VALUES ('weibo', '1', ?, ?, 1)", [pid, when]
            )
    watch_add(store, "1")
    watch_add(store, "沉睡局")
    watch_add(store, "404")  # not in the store: ignored


def test_watched_accounts_match_ids_and_names(store: Store) -> None:
    _store(store)
    assert watched_accounts(store) == [("weibo", "1", "武汉发布"), ("weibo", "2", "沉睡局")]


def test_questions_dormant_and_deleted(store: Store) -> None:
    _store(store)
    w, rules = Window(0, 1, NOW, 1), Rules()
    watched = watched_accounts(store)
    rules.questions.min_unanswered = 2
    (q,) = questions(store, w, rules, watched)
    assert q.subject == "weibo:1|2026-07-18" and q.evidence["unanswered"] == 2
    rules.questions.min_unanswered = 3
    assert questions(store, w, rules, watched) == []
    (d,) = dormant(store, w, rules, watched)
    assert d.evidence["name"] == "沉睡局" and d.evidence["days"] == 40.0
    (gone,) = deleted(store, w, rules, watched, since=NOW - timedelta(hours=2))
    assert gone.subject == "weibo:11" and gone.evidence["text"] == "通知"
    # First missed before the last cycle: already reported then.
    assert deleted(store, w, rules, watched, since=NOW) == []
