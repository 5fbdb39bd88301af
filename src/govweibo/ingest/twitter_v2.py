"""X/Twitter API v2 JSON: pages {"data", "includes", "meta"}, one per file or per line.

Platform 'x'. Mapping onto the canonical model:
- retweeted and quoted -> retweeted_post_id (Weibo's repost-with-comment is closest to
  a quote); replied_to -> parent_post_id plus an interactions row of kind 'reply'.
- entities.mentions -> an interactions row of kind 'mention' per mentioned user id
  (not in retweets, whose mentions are the original's; not the user replied to,
  whom the reply row names).
- includes.users -> accounts and account_observations; includes.tweets -> posts (nested).
  The description's t.co links are expanded (entities.description.urls) and the
  profile website (entities.url) is added as a last line: profile links are evidence
  for the registry's English rules.
- verified_type: 'government' -> 1 and 'business' -> 2 (Sina's government and enterprise
  codes, so the registry's rules apply), 'blue' -> 0, 'none' -> -1; the original value
  is kept in verified_reason as 'x:<type>'.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from govweibo import model
from govweibo.ingest.base import ReadOptions, Source
from govweibo.ingest.mastodon import FieldError, json_units, parse_time, read_text, sightings
from govweibo.model import Account, AccountObservation, Batch, Interaction, Post, Reject

PLATFORM = "x"
VERIFIED_TYPES = {"government": 1, "business": 2, "blue": 0, "none": -1}


class TwitterV2Reader:
    name = "twitter-v2"
    description = "X/Twitter API v2 JSON pages (data, includes, meta; one per file or line)"

    def detect(self, path: Path, head: bytes) -> bool:
        if not path.name.lower().endswith((".json", ".jsonl", ".ndjson")):
            return False
        text = head.decode("utf-8", errors="ignore")
        return '"data"' in text and any(
            m in text for m in ('"author_id"', '"public_metrics"', '"edit_history_tweet_ids"')
        )

    def files(self, path: Path) -> list[Path]:
        return [path]

    def read(self, source: Source, opts: ReadOptions) -> Iterator[Batch]:
        text, size = read_text(source)
        batch = Batch(bytes_read=size)
        primary: list[Any] = []
        nested: list[Any] = []
        when = source.observed_at
        for line, page, raw in json_units(text):
            if not isinstance(page, dict):
                if raw.strip():
                    batch.records_read += 1
                    reason = "malformed JSON" if page is None else "not an API v2 page"
                    batch.rejects.append(Reject(line, 0, reason, None, raw[:2000]))
                else:
                    batch.empty += 1
                continue
            data = page.get("data") or []
            tweets = [data] if isinstance(data, dict) else list(data)
            includes = page.get("includes") or {}
            if not tweets:
                batch.empty += 1
            for item, tweet in enumerate(tweets):
                batch.records_read += 1
                try:
                    primary.extend(_tweet(tweet, when))
                except (ValueError, TypeError, AttributeError) as exc:
                    raw_item = json.dumps(tweet, ensure_ascii=False)[:2000]
                    fld = getattr(exc, "field", None)
                    batch.rejects.append(Reject(line, item, str(exc), fld, raw_item))
            for kind, mapper in (("users", _user), ("tweets", _tweet)):
                for n, obj in enumerate(includes.get(kind) or []):
                    try:
                        nested.extend(mapper(obj, when))
                    except (ValueError, TypeError, AttributeError) as exc:
                        batch.records_read += 1
                        batch.rejects.append(
                            Reject(
                                line,
                                len(tweets) + n,
                                f"includes.{kind}: {exc}",
                                getattr(exc, "field", None),
                                json.dumps(obj, ensure_ascii=False)[:2000],
                            )
                        )
        # Replies' interaction rows are secondary: the tweet is what counts.
        counted = [r for r in primary if isinstance(r, Post)]
        nested += [r for r in primary if not isinstance(r, Post)]
        for table, rows in model.group_records(counted).items():
            batch.primary[table] = model.records_to_table(table, rows)
        if opts.timeline:
            batch.secondary["timeline_sightings"] = sightings(counted, when)
        for table, rows in model.group_records(nested).items():
            batch.secondary[table] = model.records_to_table(table, rows)
        yield batch


def _id(obj: dict[str, Any], key: str, label: str) -> str:
    value = obj.get(key)
    if value is None or not str(value).isdigit():
        raise FieldError(label, "missing" if value is None else f"not an id: {value!r}")
    return str(value)


def _when(obj: dict[str, Any], label: str) -> datetime | None:
    try:
        return parse_time(obj.get("created_at"))
    except ValueError:
        raise FieldError(label, f"not an ISO time: {obj.get('created_at')!r}") from None


def _tweet(tweet: Any, when: datetime) -> list[Any]:
    if not isinstance(tweet, dict):
        raise FieldError("id", "not a tweet object")
    tid = _id(tweet, "id", "id")
    refs = {r.get("type"): str(r.get("id")) for r in tweet.get("referenced_tweets") or []}
    metrics = tweet.get("public_metrics") or {}
    entities = tweet.get("entities") or {}
    media_keys = (tweet.get("attachments") or {}).get("media_keys") or []
    post = Post(
        PLATFORM,
        tid,
        author_id=_str(tweet.get("author_id")),
        created_at=_when(tweet, "created_at"),
        text=tweet.get("text"),
        source=tweet.get("source"),
        reposts=metrics.get("retweet_count"),
        comments=metrics.get("reply_count"),
        likes=metrics.get("like_count"),
        counts_observed_at=when,
        retweeted_post_id=refs.get("retweeted") or refs.get("quoted"),
        parent_post_id=refs.get("replied_to"),
        pic_count=len(media_keys) or None,
        has_url=bool(entities.get("urls")),
    )
    out: list[Any] = [post]
    if "retweeted" not in refs:
        skip = {post.author_id, _str(tweet.get("in_reply_to_user_id"))}
        for m in entities.get("mentions") or []:
            mid = _str(m.get("id")) if isinstance(m, dict) else None
            if mid is None or mid in skip:
                continue
            skip.add(mid)
            out.append(
                Interaction(
                    PLATFORM,
                    f"{tid}:mention:{mid}",
                    "mention",
                    actor_id=post.author_id,
                    post_id=tid,
                    target_account_id=mid,
                    created_at=post.created_at,
                )
            )
    if post.parent_post_id:
        out.append(
            Interaction(
                PLATFORM,
                tid,
                "reply",
                actor_id=post.author_id,
                post_id=post.parent_post_id,
                target_account_id=_str(tweet.get("in_reply_to_user_id")),
                reply_to_id=post.parent_post_id,
                reply_to_account_id=_str(tweet.get("in_reply_to_user_id")),
                created_at=post.created_at,
                text=post.text,
                likes=post.likes,
            )
        )
    return out


def _user(user: Any, when: datetime) -> list[Any]:
    if not isinstance(user, dict):
        raise FieldError("id", "not a user object")
    uid = _id(user, "id", "id")
    vtype = user.get("verified_type")
    metrics = user.get("public_metrics") or {}
    username = user.get("username")
    return [
        Account(
            PLATFORM,
            uid,
            screen_name=user.get("name") or username,
            description=_profile_text(user),
            url=f"https://x.com/{username}" if username else None,
            verified=user.get("verified"),
            verified_type=VERIFIED_TYPES.get(vtype) if vtype else None,
            verified_reason=f"x:{vtype}" if vtype else None,
            location=user.get("location"),
            created_at=_when(user, "created_at"),
            profile_observed_at=when,
        ),
        AccountObservation(
            PLATFORM,
            uid,
            when,
            followers=metrics.get("followers_count"),
            friends=metrics.get("following_count"),
            statuses=metrics.get("tweet_count"),
        ),
    ]


def _expanded(urls: Any) -> list[tuple[str, str]]:
    """(t.co link, expanded link) pairs of an entities urls list."""
    items = urls if isinstance(urls, list) else []
    return [
        (str(u["url"]), str(u["expanded_url"]))
        for u in items
        if isinstance(u, dict) and u.get("url") and u.get("expanded_url")
    ]


def _profile_text(user: dict[str, Any]) -> str | None:
    """The description with its t.co links expanded, and the profile website after it."""
    found = user.get("entities")
    entities: dict[str, Any] = found if isinstance(found, dict) else {}
    text = str(user.get("description") or "")
    for short, full in _expanded((entities.get("description") or {}).get("urls")):
        text = text.replace(short, full)
    site = _expanded((entities.get("url") or {}).get("urls"))
    if site and site[0][1] not in text:
        text = f"{text}\n{site[0][1]}" if text else site[0][1]
    return text or None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
