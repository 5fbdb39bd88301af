"""Rules about the watched accounts: official silence, unanswered questions, dormancy,
deleted posts. Each looks at the watch list's accounts only, so its cost follows the
watch list, not the store.

- silence: an open burst placed in a province has run `hours`; a watched account of that
  province (its registry profile, `govweibo classify`) has posted nothing since it began.
- questions: at least `min_unanswered` questions (text/questions.py rules) addressed to a
  watched account in the last `hours` (comments on its posts by others), none answered
  by a reply of the account.
- dormant: a watched account's newest stored post is more than `days` old.
- deleted: the deletion audit (analyses/deletions.py) over the watched accounts'
  timeline observations of the last week, for posts first missed since the last cycle.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import ibis

from govweibo.observe.alerts import Finding
from govweibo.observe.config import Rules
from govweibo.observe.rules import Window
from govweibo.store import Store


def watched_accounts(store: Store) -> list[tuple[str, str, str]]:
    """(platform, account_id, name) of the watched accounts the store knows; a watch by
    screen name is matched to the account that bears it."""
    if not store.has_table("watch_list"):
        return []
    rows = store.con.execute(
        """SELECT DISTINCT a.platform, a.account_id, coalesce(a.screen_name, a.account_id)
           FROM watch_list w JOIN accounts a
             ON (a.platform = w.platform OR a.platform LIKE w.platform || ':%')
            AND (a.account_id = w.value OR a.screen_name = w.value)
           WHERE w.kind = 'account'
           ORDER BY 1, 2"""
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def _keys(accounts: list[tuple[str, str, str]]) -> list[list[str]]:
    return [[a[0] for a in accounts], [a[1] for a in accounts]]


_WATCHED = "(SELECT unnest(?::VARCHAR[]) AS platform, unnest(?::VARCHAR[]) AS account_id)"


def silence(
    store: Store, w: Window, rules: Rules, watched: list[tuple[str, str, str]]
) -> list[Finding]:
    r = rules.silence
    if not watched or not store.has_table("account_profiles"):
        return []
    events = store.con.execute(
        "SELECT subject, evidence FROM alerts WHERE kind = 'burst' AND state <> 'closed'"
    ).fetchall()
    names = {(a[0], a[1]): a[2] for a in watched}
    out: list[Finding] = []
    for subject, evidence in events:
        ev = json.loads(evidence or "{}")
        province, started = ev.get("province"), ev.get("started_at")
        if not province or not started:
            continue
        start = datetime.fromisoformat(started)
        if w.now - start < timedelta(hours=r.hours):
            continue
        rows = store.con.execute(
            f"""SELECT k.platform, k.account_id FROM {_WATCHED} k
                JOIN account_profiles g USING (platform, account_id)
                WHERE g.province = ?
                  AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.platform = k.platform
                                  AND p.author_id = k.account_id AND p.created_at >= ?)""",
            [*_keys(watched), province, start],
        ).fetchall()
        hours = (w.now - start).total_seconds() / 3600
        for platform, account in rows:
            name = names.get((platform, account), account)
            out.append(
                Finding(
                    "silence",
                    f"{platform}:{account}|{subject}",
                    f"{name}: silent {hours:.1f} h after {ev.get('term')} began in {province}",
                    {
                        "account_id": account,
                        "platform": platform,
                        "name": name,
                        "event": subject,
                        "term": ev.get("term"),
                        "province": province,
                        "started_at": started,
                        "hours_silent": round(hours, 2),
                    },
                )
            )
    return out


def questions(
    store: Store, w: Window, rules: Rules, watched: list[tuple[str, str, str]]
) -> list[Finding]:
    from govweibo.text.questions import detect_many

    r = rules.questions
    if not watched:
        return []
    since = w.now - timedelta(hours=r.hours)
    rows = store.con.execute(
        f"""SELECT i.platform, i.target_account_id, i.interaction_id, i.text
            FROM interactions i JOIN {_WATCHED} k
              ON i.platform = k.platform AND i.target_account_id = k.account_id
            WHERE i.created_at >= ? AND i.kind IN ('comment', 'mention')
              AND (i.actor_id IS NULL OR i.actor_id <> i.target_account_id)
              AND NOT EXISTS (SELECT 1 FROM interactions a
                              WHERE a.platform = i.platform AND a.reply_to_id = i.interaction_id
                                AND a.actor_id = i.target_account_id)""",
        [*_keys(watched), since],
    ).fetchall()
    asked = detect_many([row[3] for row in rows])
    per: dict[tuple[str, str], list[str]] = {}
    for row, is_q in zip(rows, asked, strict=True):
        if is_q:
            per.setdefault((row[0], row[1]), []).append(row[2])
    names = {(a[0], a[1]): a[2] for a in watched}
    out = []
    day = f"{w.now:%Y-%m-%d}"
    for (platform, account), ids in sorted(per.items()):
        if len(ids) < r.min_unanswered:
            continue
        name = names.get((platform, account), account)
        out.append(
            Finding(
                "questions",
                f"{platform}:{account}|{day}",
                f"{name}: {len(ids)} questions unanswered in {r.hours:g} h",
                {"account_id": account, "platform": platform, "name": name,
                 "unanswered": len(ids), "hours": r.hours, "examples": sorted(ids)[:5]},
            )
        )  # fmt: skip
    return out


def dormant(
    store: Store, w: Window, rules: Rules, watched: list[tuple[str, str, str]]
) -> list[Finding]:
    r = rules.dormant
    if not watched:
        return []
    rows = store.con.execute(
        f"""SELECT k.platform, k.account_id, max(p.created_at)
            FROM {_WATCHED} k JOIN posts p
              ON p.platform = k.platform AND p.author_id = k.account_id
            GROUP BY ALL""",
        _keys(watched),
    ).fetchall()
    names = {(a[0], a[1]): a[2] for a in watched}
    out = []
    for platform, account, last in rows:
        if last is None or w.now - last < timedelta(days=r.days):
            continue
        name = names.get((platform, account), account)
        days = (w.now - last).total_seconds() / 86400
        out.append(
            Finding(
                "dormant",
                f"{platform}:{account}|{last:%Y-%m-%d}",
                f"{name}: no post for {days:.0f} days",
                {"account_id": account, "platform": platform, "name": name,
                 "last_post_at": last.isoformat(), "days": round(days, 1)},
            )
        )  # fmt: skip
    return out


def deleted(
    store: Store, w: Window, rules: Rules, watched: list[tuple[str, str, str]], since: datetime
) -> list[Finding]:
    """Posts of watched accounts first missed by a timeline observation after `since`."""
    from govweibo.analyses.deletions import deletions_expr

    if not watched or not store.has_table("timeline_sightings"):
        return []
    keys = ibis.memtable({"platform": _keys(watched)[0], "account_id": _keys(watched)[1]})
    s = store.table("timeline_sightings")
    s = s.filter(s.observed_at >= w.now - timedelta(days=7)).semi_join(
        keys, ["platform", "account_id"]
    )
    p = store.table("posts")
    p = p.semi_join(s.select("platform", "post_id").distinct(), ["platform", "post_id"])
    gone = deletions_expr({"timeline_sightings": s, "posts": p}).to_pyarrow().to_pylist()
    names = {(a[0], a[1]): a[2] for a in watched}
    out = []
    for row in gone:
        if row["reappeared"] or row["first_missing"] < since:
            continue
        name = names.get((row["platform"], row["account_id"]), row["account_id"])
        text: Any = row["text"] or ""
        out.append(
            Finding(
                "deleted",
                f"{row['platform']}:{row['post_id']}",
                f"{name}: post {row['post_id']} gone since {row['first_missing']:%Y-%m-%d %H:%M}Z",
                {"account_id": row["account_id"], "platform": row["platform"], "name": name,
                 "post_id": row["post_id"], "last_seen": row["last_seen"].isoformat(),
                 "first_missing": row["first_missing"].isoformat(), "text": text[:140]},
            )
        )  # fmt: skip
    return out
