"""What the readers of Weibo's web APIs share (m.weibo.cn, weibo.com ajax, WeiboSpider).

Text: weibo.com gives `text_raw`, which is kept; where only Weibo's HTML exists it is
turned into the text the Sina open API shows: `@name` and `#topic#` anchors become their
own text, an anchor to a link card becomes its short URL (`data-url`) or target, an
emoticon image its `[code]`, `<br />` a line break; tags dropped, entities unescaped.
Counts: numbers, or the display strings pages show ('1.2万', '100万+': lower bounds).
Times: `weibo_time.best_time` against the crawl time; a relative or day-only time is
replaced by the second the post id encodes. Pictures: `pic_num`, else `pic_ids`,
`pic_infos` or `pics`. Reading the files: weibo_responses.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from govweibo.ingest.sina_ids import id_to_mid, is_mid, mid_to_id
from govweibo.ingest.weibo_time import TimeFormatError, best_time, resolve_time
from govweibo.model import Account, AccountObservation, Interaction, Post

_BREAK = re.compile(r"<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]+>")
_LOOKS_HTML = re.compile(r"<(?:a|br|span|img|p|div)\b|</(?:a|span|p|div)>", re.I)
_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.I | re.S)
_IMG_ALT = re.compile(r"""<img\b[^>]*\balt=["']?(\[[^"'\]]{1,12}\])["']?[^>]*>""", re.I)
_ATTR = r"""\b{name}=(?:"([^"]*)"|'([^']*)'|([^\s>]+))"""
_HREF = re.compile(_ATTR.format(name="href"), re.I)
_DATA_URL = re.compile(_ATTR.format(name="data-url"), re.I)
# What truncated texts end with: m.weibo.cn's '全文' link, weibo.com's '展开'.
_MORE = re.compile(
    r"""(?:\.\.\.|…)?\s*(?:<a\b[^>]*>\s*全文\s*</a>|<span class=["']expand["']>展开</span>)"""
)
_CHAIN = re.compile(r"//@([^:：\s/]{1,40})\s*[:：]")
_COUNT = re.compile(r"(\d+(?:\.\d+)?)\s*([万亿])?\+?")
_SOURCE_ANCHOR = re.compile(r">([^<]*)</a>")
# Links within Weibo (its pages, searches, pictures) are not targets an author wrote.
_OWN_HOSTS = ("weibo.com", "weibo.cn", "sina.cn", "sina.com.cn", "sinaimg.cn")
# What a link card shows instead of its address.
_LINK_LABELS = frozenset({"网页链接", "查看链接", "查看图片", "链接"})


class FieldError(ValueError):
    """A record that cannot be mapped, naming the field at fault."""

    def __init__(self, field: str, problem: str = "missing") -> None:
        super().__init__(f"field '{field}': {problem}")
        self.field = field


def _attr(pattern: re.Pattern[str], attrs: str) -> str | None:
    found = pattern.search(attrs)
    return html.unescape(next(g for g in found.groups() if g is not None)) if found else None


def link_target(href: str) -> str:
    """An href as the address it leads to: weibo.cn's redirect wrapper
    (`https://weibo.cn/sinaurl?u=<quoted url>`) unwrapped."""
    parts = urlsplit(href)
    if parts.netloc.endswith(_OWN_HOSTS) and "sinaurl" in parts.path:
        target = parse_qs(parts.query).get("u") or parse_qs(parts.query).get("toasturl")
        if target:
            return target[0]
    return href


def _anchor(match: re.Match[str]) -> str:
    """An anchor as the text the API shows: a mention or #topic# as itself, a link card as
    its short link (`data-url`), a link elsewhere as its text and target; links within
    Weibo (super-topics, places, searches) as their text only."""
    attrs, inner = match.group(1), match.group(2)
    text = html_to_text(inner) or ""
    if text.startswith(("@", "#")):
        return text
    data_url = _attr(_DATA_URL, attrs)
    if data_url:
        return data_url
    url = link_target(_attr(_HREF, attrs) or "")
    host = urlsplit(url).netloc
    if not url.startswith(("http://", "https://")) or host.endswith(_OWN_HOSTS):
        return text
    if not text or text in _LINK_LABELS or text in url:
        return url
    return f"{text} {url}"


def html_to_text(value: str | None) -> str | None:
    """Weibo's status HTML -> the text the Sina API shows (see the module docstring)."""
    if value is None:
        return None
    text = _MORE.sub("", value)
    text = _IMG_ALT.sub(r"\1", text)
    text = _ANCHOR.sub(_anchor, text)
    text = _TAG.sub("", _BREAK.sub("\n", text))
    return html.unescape(text).replace("\u200b", "").strip()


def clean_text(value: Any) -> str | None:
    """A text field as plain text: HTML converted where it is HTML, else kept."""
    if value is None:
        return None
    text = str(value)
    if _LOOKS_HTML.search(text):
        return html_to_text(text)
    return text.replace("\u200b", "").strip()


def parse_count(value: Any, field: str) -> int | None:
    """123, '123', '1.2万' (12000), '100万+' (1000000, a lower bound), '' -> None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    text = str(value).strip().replace(",", "")
    if text == "":
        return None
    m = _COUNT.fullmatch(text)
    if not m:
        raise FieldError(field, f"not a count: {text[:30]!r}")
    scale = {"万": 10_000, "亿": 100_000_000}.get(m.group(2) or "", 1)
    return int(round(float(m.group(1)) * scale))


def pic_count(status: dict[str, Any]) -> int:
    """Pictures of a status from whichever field the endpoint fills."""
    num = parse_count(status.get("pic_num"), "pic_num")
    if num is not None:
        return num
    for key in ("pic_ids", "pic_infos", "pics", "pic_urls", "image_url"):
        value = status.get(key)
        if isinstance(value, list | dict) and value:
            return len(value)
        if isinstance(value, str) and value:  # WeiboSpider's old comma-joined urls
            return len([v for v in value.split(",") if v.strip()])
    # Older m.weibo.cn pages name a single picture only by its thumbnail.
    return 1 if status.get("thumbnail_pic") else 0


def has_video(status: dict[str, Any]) -> bool:
    page = status.get("page_info")
    if isinstance(page, dict) and "video" in (page.get("type"), page.get("object_type")):
        return True
    mix = status.get("mix_media_info")
    items = mix.get("items") if isinstance(mix, dict) else None
    return any(isinstance(i, dict) and i.get("type") == "video" for i in items or [])


def has_url(text: str | None) -> bool:
    return bool(text) and ("http://" in str(text) or "https://" in str(text))


def source_name(value: Any) -> str | None:
    """The client name: '<a href=...>iPhone客户端</a>' -> 'iPhone客户端'."""
    if not value:
        return None
    text = str(value)
    m = _SOURCE_ANCHOR.search(text)
    return (m.group(1) if m and m.group(1) else _TAG.sub("", text)).strip() or None


def id_of(obj: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = obj.get(key)
        if value not in (None, "", 0):
            return str(value)
    return None


def numeric_post_id(value: str) -> str:
    """A post id as the numeric id the store keys on (base62 mids converted)."""
    return mid_to_id(value) if is_mid(value) else value


def mid_of(post_id: str, given: Any = None) -> str | None:
    if given and is_mid(str(given)):
        return str(given)
    return id_to_mid(post_id) if post_id.isdigit() else None


@dataclass
class Context:
    """What mapping one record needs: the platform, the crawl time, the run's tallies
    (land in source.notes) and long texts found for posts by id."""

    platform: str
    now: datetime
    stats: Counter[str] = field(default_factory=Counter)
    longtexts: dict[str, str] = field(default_factory=dict)
    longtext_files: dict[str, Path] = field(default_factory=dict)
    # User objects mapped in this batch, by (id, crawl time): a timeline repeats its
    # author in every status, and the rows are made (and staged) once.
    users: dict[tuple[str, datetime], tuple[dict[str, Any], list[Any]]] = field(
        default_factory=dict
    )

    def long_text(self, post_id: str) -> str | None:
        """The whole text of a long post from a longtext file beside the one being read."""
        if post_id not in self.longtexts and post_id in self.longtext_files:
            text = read_longtext(self.longtext_files[post_id])
            if text:
                self.longtexts[post_id] = text
                self.stats["longtext_files_beside"] += 1
        return self.longtexts.get(post_id)

    def time(self, text: Any, post_id: str | None, label: str) -> datetime | None:
        """A shown time resolved against the crawl time; the id's second where the text
        is relative or a day alone (tallied as time_from_id)."""
        raw = None if text in (None, "") else str(text)
        try:
            when, kind = best_time(raw, post_id, self.now)
        except TimeFormatError as exc:
            raise FieldError(label, str(exc)) from None
        if kind == "id":
            self.stats["time_from_id"] += 1
        return when


def user_records(user: Any, ctx: Context, label: str) -> list[Any]:
    """A user object (either site, or WeiboSpider's parse_user_info) -> the account and,
    where the object has counts, a follower observation at the crawl time."""
    if not isinstance(user, dict):
        raise FieldError(label)
    aid = id_of(user, "idstr", "id", "_id")
    if aid is None:
        raise FieldError(f"{label}.id")
    seen = ctx.users.get((aid, ctx.now))
    if seen is not None and seen[0] == user:
        return list(seen[1])  # the same row objects: _finish keeps one of each
    rows = _user_rows(user, aid, ctx, label)
    ctx.users[(aid, ctx.now)] = (user, rows)
    return list(rows)


def _user_rows(user: dict[str, Any], aid: str, ctx: Context, label: str) -> list[Any]:
    created = user.get("created_at")
    created_at = None
    if created:
        try:
            created_at = resolve_time(str(created), ctx.now)[0]
        except TimeFormatError as exc:
            raise FieldError(f"{label}.created_at", str(exc)) from None
    vtype = user.get("verified_type")
    account = Account(
        ctx.platform,
        aid,
        screen_name=user.get("screen_name") or user.get("nick_name"),
        description=clean_text(user.get("description")) or None,
        verified=user.get("verified") if isinstance(user.get("verified"), bool) else None,
        verified_type=int(str(vtype)) if str(vtype).lstrip("-").isdigit() else None,
        verified_reason=user.get("verified_reason") or None,
        location=user.get("location") or None,
        gender=user.get("gender") or None,
        created_at=created_at,
        profile_observed_at=ctx.now,
    )
    counts = {
        "followers": parse_count(user.get("followers_count"), f"{label}.followers_count"),
        "friends": parse_count(
            user.get("follow_count", user.get("friends_count")), f"{label}.follow_count"
        ),
        "statuses": parse_count(user.get("statuses_count"), f"{label}.statuses_count"),
    }
    if all(v is None for v in counts.values()):
        return [account]
    return [account, AccountObservation(ctx.platform, aid, ctx.now, **counts)]


def status_records(status: Any, ctx: Context, label: str = "") -> tuple[Post, list[Any]]:
    """An mblog (either site) -> its post, and nested rows: the author, the reposted
    original and its author. A reposted original without a user (deleted) is left out."""
    if not isinstance(status, dict):
        raise FieldError(label or "status", "not an object")
    raw_id = id_of(status, "idstr", "id", "mid")
    if raw_id is None:
        raise FieldError(f"{label}id")
    post_id = numeric_post_id(raw_id)
    user = status.get("user")
    nested: list[Any] = []
    author_id = None
    if isinstance(user, dict):
        nested.extend(user_records(user, ctx, f"{label}user"))
        author_id = nested[0].account_id
    elif not label:
        raise FieldError("user", "missing (no author)")
    long_text = status.get("longText")
    long = bool(status.get("isLongText"))
    # Savers that fetch the long text put it in the status (Euclid-Jie/Euclidweibo-search
    # adds a top-level longTextContent); m.weibo.cn nests it in longText.
    text = clean_text(status.get("longTextContent")) or None
    if text is None and isinstance(long_text, dict):
        text = clean_text(long_text.get("longTextContent") or long_text.get("content"))
    if long and not text:
        text = ctx.long_text(post_id)
    truncated = long and text is None
    if text is None:
        # weibo.com's text_raw; m.weibo.cn gives reposts a plain raw_text.
        raw = status.get("text_raw", status.get("raw_text"))
        text = clean_text(raw) if raw is not None else html_to_text(status.get("text"))
    if long and text is not None and not truncated:
        ctx.stats["long_text"] += 1
    retweeted = status.get("retweeted_status")
    rt_id = None
    if isinstance(retweeted, dict):
        if isinstance(retweeted.get("user"), dict):
            original, inner = status_records(retweeted, ctx, f"{label}retweeted_status.")
            rt_id = original.post_id
            nested.append(original)
            nested.extend(inner)
        else:
            rid = id_of(retweeted, "idstr", "id", "mid")
            rt_id = numeric_post_id(rid) if rid else None
            ctx.stats["retweeted_without_user"] += 1
    post = Post(
        ctx.platform,
        post_id,
        mid=mid_of(post_id, status.get("mblogid") or status.get("bid")),
        author_id=author_id,
        created_at=ctx.time(status.get("created_at"), post_id, f"{label}created_at"),
        text=text,
        source=source_name(status.get("source")),
        reposts=parse_count(status.get("reposts_count"), f"{label}reposts_count"),
        comments=parse_count(status.get("comments_count"), f"{label}comments_count"),
        likes=parse_count(status.get("attitudes_count"), f"{label}attitudes_count"),
        counts_observed_at=ctx.now,
        retweeted_post_id=rt_id,
        repost_chain=_CHAIN.findall(text or ""),
        is_truncated=truncated,
        pic_count=pic_count(status),
        has_video=has_video(status),
        has_url=has_url(text),
    )
    return post, nested


def comment_records(
    comment: Any, ctx: Context, post_id: str | None, label: str = "", parent: str | None = None
) -> list[Any]:
    """A comment (m.weibo.cn hotflow, weibo.com buildComments) -> its interaction, the
    commenter's account and the replies nested under it. `post_id`: the commented post
    where the comment does not name it (its `status`)."""
    if not isinstance(comment, dict):
        raise FieldError(label or "comment", "not an object")
    cid = id_of(comment, "idstr", "id", "mid")
    if cid is None:
        raise FieldError(f"{label}id")
    user = comment.get("user")
    rows: list[Any] = user_records(user, ctx, f"{label}user")
    status = comment.get("status")
    target = None
    if isinstance(status, dict):
        sid = id_of(status, "idstr", "id", "mid")
        post_id = numeric_post_id(sid) if sid else post_id
        if isinstance(status.get("user"), dict):
            target = id_of(status["user"], "idstr", "id")
    reply = comment.get("reply_comment")
    reply_to = id_of(reply, "idstr", "id") if isinstance(reply, dict) else parent
    reply_user = reply.get("user") if isinstance(reply, dict) else None
    raw = comment.get("text_raw")
    text = clean_text(raw) if raw is not None else html_to_text(comment.get("text"))
    rows.insert(
        0,
        Interaction(
            ctx.platform,
            cid,
            "reply" if reply_to else "comment",
            actor_id=rows[0].account_id,
            actor_name=rows[0].screen_name,
            post_id=post_id,
            target_account_id=target,
            reply_to_id=reply_to,
            reply_to_account_id=id_of(reply_user, "idstr", "id")
            if isinstance(reply_user, dict)
            else None,
            created_at=ctx.time(comment.get("created_at"), cid, f"{label}created_at"),
            text=text,
            likes=parse_count(
                comment.get("like_count", comment.get("like_counts")), f"{label}like_count"
            ),
        ),
    )
    for i, sub in enumerate(comment.get("comments") or []):
        rows.extend(comment_records(sub, ctx, post_id, f"{label}comments[{i}].", parent=cid))
    return rows


def longtext_body(doc: Any) -> str | None:
    """The text of a longtext response (weibo.com ajax/statuses/longtext, m.weibo.cn
    statuses/extend), or None when `doc` is no such response."""
    if not isinstance(doc, dict):
        return None
    data = doc.get("data")
    if isinstance(data, dict) and "longTextContent" in data and "created_at" not in data:
        value = data.get("longTextContent")
        return str(value) if value else None
    return None


def read_longtext(path: Path) -> str | None:
    """The whole text in a longtext file, or None where it holds none (or is no such file)."""
    try:
        if path.stat().st_size > 4 << 20:
            return None
        body = longtext_body(json.loads(path.read_bytes().decode("utf-8-sig")))
    except (OSError, ValueError):
        return None
    return clean_text(body) or None
