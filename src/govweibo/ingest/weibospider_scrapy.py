"""nghuyong/WeiboSpider (scrapy) output: JSON lines, one item per line, of every spider
and every version of the tool found.

2022-10 on (weibo.com ajax; weibospider/spiders/common.py parse_tweet_info and
parse_user_info; pipelines.py writes `{spider}_{datetime}.jsonl` and adds `crawl_time`):
  tweet (tweet_by_user_id / _by_keyword / _by_tweet_id, repost)  `_id` (numeric mid),
      `mblogid`, `created_at` ('2022-04-27 10:20:54', Beijing), `reposts_count`,
      `comments_count`, `attitudes_count`, `source`, `content` (text_raw or the long
      text), `pic_urls`, `pic_num`, `video`, `isLongText`, `url`, `user`{…} (the user
      spider's tweets drop it: the author is then read from `url`), `retweet_id` (later
      versions), `keyword`
  user      `_id`, `nick_name`, `verified`, `followers_count`, `friends_count`,
            `statuses_count`, `description`, `gender`, `location`, `created_at`, …
  fan       `follower_id` (the account followed), `fan_info`{user}
  follower  `fan_id` (the account following), `follower_info`{user}
  comment   `_id`, `created_at`, `like_counts`, `content`, `comment_user`{user},
            `reply_comment`{_id, user} (later versions), the post as `tweet_id`,
            `mblogid` or `original_tweet_id` where a version writes it
2020 (weibo.cn pages; weibospider/items.py, saved to MongoDB and exported as lines):
  tweet `_id` (base62 mid), `user_id`, `weibo_url`, `created_at` ('2020-04-14 12:00'),
  `like_num`, `repost_num`, `comment_num`, `content`, `tool`, `image_url`, `video_url`,
  `origin_weibo` (the reposted post's comment page); user `nick_name`, `gender`,
  `province`, `city`, `brief_introduction`, `tweets_num`, `follows_num`, `fans_num`,
  `authentication`; relationship `fan_id`, `followed_id`; comment `_id` ('C_<id>'),
  `comment_user_id`, `weibo_id`, `content`, `created_at`, `like_num`; repost `user_id`,
  `weibo_id`, `content` (no id of its own: quarantined, there is no key to store it under)
2018 (sina/spiders/weibo_spider.py): tweet `_id` ('<uid>-<mid>'), `ID`, `Content`,
  `PubTime` (as shown: '今天 12:00', '5分钟前'), `Like`, `Transfer`, `Comment`, `Tools`;
  information `NickName`, `Gender`, `Province`, `City`, `BriefIntroduction`,
  `Num_Tweets`, `Num_Follows`, `Num_Fans`, `Authentication`; relationship.
Follow edges (fan, follower, relationship items) have no table: both accounts are kept,
the edge is counted in the run's notes (`follow_edges_not_stored`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from govweibo.ingest.base import ReadOptions, Source
from govweibo.ingest.weibo_html import (
    Context,
    FieldError,
    clean_text,
    has_url,
    id_of,
    mid_of,
    numeric_post_id,
    parse_count,
    pic_count,
    source_name,
    user_records,
)
from govweibo.ingest.weibo_responses import (
    ROWS,
    Unit,
    epoch,
    json_name,
    read_responses,
)
from govweibo.model import Account, Batch, Interaction, Post

_MARKERS = (
    '"crawl_time"',
    '"crawl_ts"',
    '"nick_name"',
    '"NickName"',
    '"mblogid"',
    '"weibo_url"',
    '"fan_id"',
    '"followed_id"',
    '"PubTime"',
    '"comment_user"',
)
_URL_AUTHOR = re.compile(r"weibo\.(?:com|cn)/(?:u/)?(\d+)/([0-9A-Za-z]+)")
_COMMENT_PAGE = re.compile(r"/(?:comment|repost)/([0-9A-Za-z]+)")
_CHAIN = re.compile(r"//@([^:：\s/]{1,40})\s*[:：]")
_GENDER = {"男": "m", "女": "f", "m": "m", "f": "f"}


class WeiboSpiderReader:
    name = "weibospider-jsonl"
    description = (
        "nghuyong/WeiboSpider scrapy output (tweets, users, fans, followers, comments, reposts)"
    )

    def detect(self, path: Path, head: bytes) -> bool:
        if not json_name(path):
            return False
        text = head.decode("utf-8", errors="ignore")
        if '"fan_id"' in text and '"followed_id"' in text:
            return True  # 2018 relationship items carry no _id
        return '"_id"' in text and any(m in text for m in _MARKERS)

    def files(self, path: Path) -> list[Path]:
        return [path]

    def read(self, source: Source, opts: ReadOptions) -> Iterator[Batch]:
        edges = _Edges()
        yield from read_responses(source, opts, edges.units, record_time=_crawl_time)
        if edges.count:
            source.notes["follow_edges_not_stored"] = edges.count


def _crawl_time(doc: Any) -> datetime | None:
    if isinstance(doc, list):  # an array of items: each item's own is used in map_item
        return next((t for t in map(_crawl_time, doc) if t is not None), None)
    if not isinstance(doc, dict):
        return None
    return epoch(doc.get("crawl_time", doc.get("crawl_ts")))


class _Edges:
    """Counts the follow edges it sees (they have no table)."""

    def __init__(self) -> None:
        self.count = 0

    def units(self, doc: Any, ctx: Context) -> list[Unit]:
        if isinstance(doc, list):  # items saved as one JSON array
            return [u for item in doc for u in self.units(item, ctx)]
        if not isinstance(doc, dict):
            raise FieldError("_id", "not an item object")
        if "fan_info" in doc or "follower_info" in doc or "followed_id" in doc:
            self.count += 1
        return [(ROWS, doc, {"map": map_item})]


def map_item(item: dict[str, Any], ctx: Context) -> tuple[list[Any], list[Any]]:
    """One WeiboSpider item -> (primary rows, nested rows), by the fields it has."""
    when = _crawl_time(item)
    if when is not None and when != ctx.now:
        ctx = replace(ctx, now=when)  # the tallies and caches stay shared
    if "fan_info" in item or "follower_info" in item:
        user = item.get("fan_info") or item.get("follower_info")
        label = "fan_info" if "fan_info" in item else "follower_info"
        rows = user_records(user, ctx, label)
        other = id_of(item, "follower_id", "fan_id")
        return rows, [Account(ctx.platform, other)] if other else []
    if "fan_id" in item and "followed_id" in item:
        ids = [id_of(item, "fan_id"), id_of(item, "followed_id")]
        return [], [Account(ctx.platform, i) for i in ids if i]
    if "comment_user" in item or "comment_user_id" in item:
        return _comment(item, ctx)
    if any(k in item for k in ("mblogid", "weibo_url", "url", "Content", "PubTime")):
        return _tweet(item, ctx)
    if "weibo_id" in item and "user_id" in item:
        raise FieldError("_id", "a repost item without an id of its own (2020 repost_spider)")
    if "nick_name" in item or "NickName" in item:
        return _user(item, ctx), []
    raise FieldError("_id", "not a WeiboSpider tweet, user, fan, follower or comment item")


def _post_ref(value: Any) -> str | None:
    """A post named by numeric id, base62 mid, or a weibo.com / weibo.cn URL."""
    if value in (None, ""):
        return None
    text = str(value)
    m = _URL_AUTHOR.search(text) or _COMMENT_PAGE.search(text)
    if m:
        text = m.group(m.lastindex or 1)
    return numeric_post_id(text)


def _tweet(item: dict[str, Any], ctx: Context) -> tuple[list[Any], list[Any]]:
    raw_id = id_of(item, "_id")
    if raw_id is None:
        raise FieldError("_id")
    # 2018: '<uid>-<mid>'; 2020: the base62 mid; 2022 on: the numeric mid.
    uid_prefix, _, mid = raw_id.rpartition("-")
    mid = mid.removeprefix("M_")  # 2018: the weibo.cn element id
    post_id = numeric_post_id(mid)
    user = item.get("user")
    nested: list[Any] = []
    author = None
    if isinstance(user, dict):
        nested = user_records(user, ctx, "user")
        author = nested[0].account_id
    else:
        url = _URL_AUTHOR.search(str(item.get("url") or item.get("weibo_url") or ""))
        author = id_of(item, "user_id", "ID") or (url.group(1) if url else None) or uid_prefix
    if not author:
        raise FieldError("user._id", "missing (no author, no url)")
    text = clean_text(item.get("content", item.get("Content")))
    retweet = _post_ref(item.get("retweet_id") or item.get("origin_weibo"))
    truncated = bool(item.get("isLongText")) and item.get("longTextExpanded") is False
    video = item.get("video") or item.get("video_url")
    post = Post(
        ctx.platform,
        post_id,
        mid=mid_of(post_id, item.get("mblogid") or (mid if mid != post_id else None)),
        author_id=str(author),
        created_at=ctx.time(item.get("created_at", item.get("PubTime")), post_id, "created_at"),
        text=text,
        source=source_name(item.get("source", item.get("tool", item.get("Tools")))),
        reposts=_count(item, "reposts_count", "repost_num", "Transfer"),
        comments=_count(item, "comments_count", "comment_num", "Comment"),
        likes=_count(item, "attitudes_count", "like_num", "Like"),
        counts_observed_at=ctx.now,
        retweeted_post_id=retweet if retweet != post_id else None,
        repost_chain=_CHAIN.findall(text or ""),
        is_truncated=truncated,
        pic_count=pic_count(item),
        has_video=bool(video),
        has_url=has_url(text),
    )
    return [post], nested


def _count(item: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        if key in item:
            return parse_count(item[key], key)
    return None


def _comment(item: dict[str, Any], ctx: Context) -> tuple[list[Any], list[Any]]:
    raw_id = id_of(item, "_id")
    if raw_id is None:
        raise FieldError("_id")
    cid = raw_id.removeprefix("C_")
    user = item.get("comment_user")
    if isinstance(user, dict):
        nested = user_records(user, ctx, "comment_user")
        actor, name = nested[0].account_id, nested[0].screen_name
    else:
        actor = id_of(item, "comment_user_id")
        if actor is None:
            raise FieldError("comment_user._id")
        nested, name = [Account(ctx.platform, actor)], None
    post = _post_ref(
        item.get("tweet_id")
        or item.get("original_tweet_id")
        or item.get("mblogid")
        or item.get("mblogin")
        or item.get("weibo_id")
        or item.get("weibo_url")
    )
    reply = item.get("reply_comment")
    reply_user = reply.get("user") if isinstance(reply, dict) else None
    if isinstance(reply_user, dict):
        nested.extend(user_records(reply_user, ctx, "reply_comment.user"))
    row = Interaction(
        ctx.platform,
        cid,
        "reply" if isinstance(reply, dict) else "comment",
        actor_id=actor,
        actor_name=name,
        post_id=post,
        reply_to_id=id_of(reply, "_id", "id") if isinstance(reply, dict) else None,
        reply_to_account_id=nested[-1].account_id if isinstance(reply_user, dict) else None,
        created_at=ctx.time(item.get("created_at"), cid if cid.isdigit() else None, "created_at"),
        text=clean_text(item.get("content")),
        likes=_count(item, "like_counts", "like_num"),
    )
    return [row], nested


def _user(item: dict[str, Any], ctx: Context) -> list[Any]:
    if "nick_name" in item and "NickName" not in item and "fans_num" not in item:
        return user_records(item, ctx, "user")  # 2022 on: parse_user_info's shape
    aid = id_of(item, "_id")
    if aid is None:
        raise FieldError("_id")
    place = " ".join(str(item[k]) for k in ("province", "Province", "city", "City") if item.get(k))
    reason = item.get("authentication") or item.get("Authentication")
    gender = item.get("gender", item.get("Gender"))
    mapped = {
        "_id": aid,
        "nick_name": item.get("nick_name", item.get("NickName")),
        "description": item.get("brief_introduction", item.get("BriefIntroduction")),
        "gender": _GENDER.get(str(gender), gender) if gender else None,
        "location": place or None,
        "verified": True if reason else None,
        "verified_reason": reason,
        "followers_count": item.get("fans_num", item.get("Num_Fans")),
        "friends_count": item.get("follows_num", item.get("Num_Follows")),
        "statuses_count": item.get("tweets_num", item.get("Num_Tweets")),
    }
    return user_records({k: v for k, v in mapped.items() if v is not None}, ctx, "user")
