"""Mastodon REST API JSON: statuses pages (account, hashtag), contexts, notifications.

Platform: ids are local to the instance that served them, so the platform is
'mastodon:<host>' (host of that instance: ReadOptions.platform when it starts with
'mastodon', else the host of the first local account's URL), or plain 'mastodon'
when no local account shows the host. A boost is a post with retweeted_post_id; a
reply is a post with parent_post_id plus an interactions row of kind 'reply'; each
account a status mentions is an interactions row of kind 'mention' (except the
account replied to, which the reply row already names).
Accounts: the note as text with link targets kept, then the profile fields as
'name: value' lines; fields the instance verified (rel="me" links, `verified_at`)
set verified and go to verified_reason as 'mastodon:verified-link <url> …'.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from govweibo import model
from govweibo.ingest.base import ReadOptions, Source
from govweibo.model import Account, AccountObservation, Batch, Interaction, Post, Reject

_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p>", re.I)
_TAG = re.compile(r"<[^>]+>")
_ANCHOR = re.compile(r"<a\s[^>]*>", re.I)
_LINK = re.compile(r"<a\s([^>]*)>(.*?)</a>", re.I | re.S)
_HREF = re.compile(r"""href=["']([^"']+)["']""", re.I)


def html_to_text(value: str | None) -> str | None:
    """Status HTML -> plain text: line breaks kept, tags stripped, entities unescaped."""
    if value is None:
        return None
    text = _TAG.sub("", _BREAK.sub("\n", value))
    return html.unescape(text).strip()


def _link_text(match: re.Match[str]) -> str:
    """An anchor as plain text that keeps where it points (a profile's links are evidence)."""
    attrs, inner = match.group(1), match.group(2)
    href = _HREF.search(attrs)
    text = html_to_text(inner) or ""
    if not href or "mention" in attrs or "hashtag" in attrs:
        return text
    url = html.unescape(href.group(1))
    if not url.startswith(("http://", "https://")):
        return text
    bare = text.removeprefix("https://").removeprefix("http://").removeprefix("www.")
    bare = bare.rstrip("/…")
    # Mastodon shows a shortened URL as the text of a link to itself: keep the URL.
    looks_like_url = "." in bare and " " not in bare and bare in url
    return url if looks_like_url else f"{text} ({url})"


def profile_text(note: str | None, fields: Any) -> str | None:
    """The note as text, links with their targets, then each profile field as 'name: value'."""
    parts = [html_to_text(_LINK.sub(_link_text, note)) if note else None]
    for fld in fields if isinstance(fields, list) else []:
        if isinstance(fld, dict) and fld.get("name"):
            value = html_to_text(_LINK.sub(_link_text, str(fld.get("value") or ""))) or ""
            parts.append(f"{html_to_text(str(fld['name']))}: {value}".strip())
    text = "\n".join(p for p in parts if p)
    return text or None


def verified_links(fields: Any) -> list[str]:
    """Link targets of the profile fields the instance verified (rel="me" back-links)."""
    out = []
    for fld in fields if isinstance(fields, list) else []:
        if isinstance(fld, dict) and fld.get("verified_at"):
            found = _HREF.search(str(fld.get("value") or ""))
            value = html.unescape(found.group(1)) if found else html_to_text(str(fld["value"]))
            if value:
                out.append(value)
    return out


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError("time without a zone")
    return when


def json_units(text: str) -> Iterator[tuple[int, Any, str]]:
    """(line, parsed or None, raw) for a JSON document or JSON lines."""
    stripped = text.lstrip()
    if stripped[:1] in "[{" and "\n" in stripped.strip():
        try:
            yield 1, json.loads(text), ""
            return
        except json.JSONDecodeError:
            pass  # JSON lines, one of them perhaps broken
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            yield line, None, ""
            continue
        try:
            yield line, json.loads(raw), raw
        except json.JSONDecodeError:
            yield line, None, raw


def read_text(source: Source) -> tuple[str, int]:
    reader = source.open()
    raw = b"".join(iter(lambda: reader.read(1 << 20), b""))
    return raw.decode("utf-8-sig", errors="replace"), len(raw)


class MastodonReader:
    name = "mastodon"
    description = "Mastodon REST API JSON (account statuses, status context; pages or lines)"

    def detect(self, path: Path, head: bytes) -> bool:
        if not path.name.lower().endswith((".json", ".jsonl", ".ndjson")):
            return False
        text = head.decode("utf-8", errors="ignore")
        return '"acct"' in text and ('"reblogs_count"' in text or '"favourites_count"' in text)

    def files(self, path: Path) -> list[Path]:
        return [path]

    def read(self, source: Source, opts: ReadOptions) -> Iterator[Batch]:
        text, size = read_text(source)
        units = list(json_units(text))
        platform = _platform(units, opts)
        batch = Batch(bytes_read=size)
        records: list[Any] = []
        nested: list[Any] = []
        for line, doc, raw in units:
            if doc is None:
                if raw.strip():
                    batch.records_read += 1
                    batch.rejects.append(Reject(line, 0, "malformed JSON", None, raw[:2000]))
                else:
                    batch.empty += 1
                continue
            statuses = _statuses(doc)
            if not statuses:
                batch.empty += 1
            for item, status in enumerate(statuses):
                batch.records_read += 1
                try:
                    out, inner = _map(status, platform, source.observed_at)
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    fld = getattr(exc, "field", None)
                    raw_item = json.dumps(status, ensure_ascii=False)[:2000]
                    batch.rejects.append(Reject(line, item, str(exc), fld, raw_item))
                    continue
                records.extend(out)
                nested.extend(inner)
        for table, rows in model.group_records(records).items():
            batch.primary[table] = model.records_to_table(table, rows)
        if opts.timeline:
            batch.secondary["timeline_sightings"] = sightings(records, source.observed_at)
        for table, rows in model.group_records(nested).items():
            batch.secondary[table] = model.records_to_table(table, rows)
        yield batch


def sightings(records: list[Any], when: datetime) -> pa.Table:
    """Timeline sightings of the primary posts (a complete timeline observation)."""
    posts = [r for r in records if isinstance(r, Post) and r.author_id]
    return pa.table(
        {
            "platform": pa.array([p.platform for p in posts], pa.string()),
            "account_id": pa.array([p.author_id for p in posts], pa.string()),
            "post_id": pa.array([p.post_id for p in posts], pa.string()),
            "observed_at": model.constant(when, model.TS, len(posts)),
        }
    )


class FieldError(ValueError):
    def __init__(self, field: str, problem: str = "missing") -> None:
        super().__init__(f"field '{field}': {problem}")
        self.field = field


def _statuses(doc: Any) -> list[Any]:
    if isinstance(doc, list):
        # Notifications (the collector's --mentions) wrap the status they are about;
        # those about no status (follows) carry nothing to store.
        return [
            d.get("status") if _is_notification(d) else d
            for d in doc
            if not _is_notification(d) or isinstance(d.get("status"), dict)
        ]
    if isinstance(doc, dict) and ("ancestors" in doc or "descendants" in doc):
        return list(doc.get("ancestors") or []) + list(doc.get("descendants") or [])
    return [doc] if isinstance(doc, dict) else []


def _is_notification(obj: Any) -> bool:
    return isinstance(obj, dict) and "type" in obj and "content" not in obj


def _platform(units: list[tuple[int, Any, str]], opts: ReadOptions) -> str:
    if opts.platform.startswith("mastodon"):
        return opts.platform
    for _, doc, _ in units:
        for status in _statuses(doc) if doc is not None else []:
            acct = status.get("account") if isinstance(status, dict) else None
            if isinstance(acct, dict) and "@" not in str(acct.get("acct", "@")):
                host = urlsplit(str(acct.get("url") or "")).hostname
                if host:
                    return f"mastodon:{host}"
    return "mastodon"


def _req(obj: dict[str, Any], key: str, label: str) -> str:
    value = obj.get(key)
    if value is None or str(value) == "":
        raise FieldError(label)
    return str(value)


def _time(obj: dict[str, Any], key: str, label: str) -> datetime | None:
    try:
        return parse_time(obj.get(key))
    except ValueError:
        raise FieldError(label, f"not an ISO time: {obj.get(key)!r}") from None


def _account(acct: Any, platform: str, when: datetime, label: str) -> list[Any]:
    if not isinstance(acct, dict):
        raise FieldError(label)
    aid = _req(acct, "id", f"{label}.id")
    links = verified_links(acct.get("fields"))
    return [
        Account(
            platform,
            aid,
            screen_name=acct.get("display_name") or acct.get("acct"),
            description=profile_text(acct.get("note"), acct.get("fields")),
            url=acct.get("url"),
            verified=True if links else None,
            verified_reason="mastodon:verified-link " + " ".join(links) if links else None,
            created_at=_time(acct, "created_at", f"{label}.created_at"),
            profile_observed_at=when,
        ),
        AccountObservation(
            platform,
            aid,
            when,
            followers=acct.get("followers_count"),
            friends=acct.get("following_count"),
            statuses=acct.get("statuses_count"),
        ),
    ]


def _post(status: dict[str, Any], platform: str, when: datetime, label: str) -> Post:
    content = status.get("content") or ""
    media = status.get("media_attachments") or []
    anchors = [a for a in _ANCHOR.findall(content) if "mention" not in a and "hashtag" not in a]
    reblog = status.get("reblog")
    app = status.get("application") or {}
    return Post(
        platform,
        _req(status, "id", f"{label}id"),
        author_id=_req(status.get("account") or {}, "id", f"{label}account.id"),
        created_at=_time(status, "created_at", f"{label}created_at"),
        text=html_to_text(content),
        source=app.get("name") if isinstance(app, dict) else None,
        reposts=status.get("reblogs_count"),
        comments=status.get("replies_count"),
        likes=status.get("favourites_count"),
        counts_observed_at=when,
        retweeted_post_id=str(reblog["id"]) if isinstance(reblog, dict) else None,
        parent_post_id=_str(status.get("in_reply_to_id")),
        pic_count=sum(1 for m in media if m.get("type") == "image"),
        has_video=any(m.get("type") in ("video", "gifv") for m in media),
        has_url=bool(status.get("card")) or bool(anchors),
    )


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _map(status: Any, platform: str, when: datetime) -> tuple[list[Any], list[Any]]:
    """One status -> (primary rows, nested rows)."""
    if not isinstance(status, dict):
        raise FieldError("id", "not a status object")
    if "acct" in status and "account" not in status:  # an account (accounts/lookup)
        return _account(status, platform, when, "account"), []
    post = _post(status, platform, when, "")
    nested = _account(status.get("account"), platform, when, "account")
    reblog = status.get("reblog")
    if isinstance(reblog, dict):
        boosted = _post(reblog, platform, when, "reblog.")
        nested.append(boosted)
        nested.extend(_account(reblog.get("account"), platform, when, "reblog.account"))
        nested.extend(_mentions(reblog, boosted))
    if post.parent_post_id:
        acct = status["account"]
        nested.append(
            Interaction(
                platform,
                post.post_id,
                "reply",
                actor_id=post.author_id,
                actor_name=acct.get("acct"),
                post_id=post.parent_post_id,
                target_account_id=_str(status.get("in_reply_to_account_id")),
                reply_to_id=post.parent_post_id,
                reply_to_account_id=_str(status.get("in_reply_to_account_id")),
                created_at=post.created_at,
                text=post.text,
                likes=post.likes,
            )
        )
    nested.extend(_mentions(status, post))
    return [post], nested


def _mentions(status: dict[str, Any], post: Post) -> list[Interaction]:
    """One 'mention' row per account the status mentions (not its author, and not the
    account replied to: Mastodon puts that mention in every reply, the reply row has it)."""
    skip = {post.author_id, _str(status.get("in_reply_to_account_id"))}
    account = status.get("account") or {}
    rows = []
    for m in status.get("mentions") or []:
        mid = _str(m.get("id")) if isinstance(m, dict) else None
        if not mid or mid in skip:
            continue
        skip.add(mid)
        rows.append(
            Interaction(
                post.platform,
                f"{post.post_id}:mention:{mid}",
                "mention",
                actor_id=post.author_id,
                actor_name=account.get("acct"),
                post_id=post.post_id,
                target_account_id=mid,
                created_at=post.created_at,
            )
        )
    return rows
