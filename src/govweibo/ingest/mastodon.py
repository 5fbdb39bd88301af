"""Mastodon REST API JSON: account statuses pages, status contexts, single statuses.

Platform: ids are local to the instance that served them, so the platform is
'mastodon:<host>' (host of that instance: ReadOptions.platform when it starts with
'mastodon', else the host of the first local account's URL), or plain 'mastodon'
when no local account shows the host. A boost is a post with retweeted_post_id; a
reply is a post with parent_post_id plus an interactions row of kind 'reply'.
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


def html_to_text(value: str | None) -> str | None:
    """Status HTML -> plain text: line breaks kept, tags stripped, entities unescaped."""
    if value is None:
        return None
    text = _TAG.sub("", _BREAK.sub("\n", value))
    return html.unescape(text).strip()


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
            "observed_at": pa.array([when] * len(posts), model.TS),
        }
    )


class FieldError(ValueError):
    def __init__(self, field: str, problem: str = "missing") -> None:
        super().__init__(f"field '{field}': {problem}")
        self.field = field


def _statuses(doc: Any) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and ("ancestors" in doc or "descendants" in doc):
        return list(doc.get("ancestors") or []) + list(doc.get("descendants") or [])
    return [doc] if isinstance(doc, dict) else []


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
    return [
        Account(
            platform,
            aid,
            screen_name=acct.get("display_name") or acct.get("acct"),
            description=html_to_text(acct.get("note")),
            url=acct.get("url"),
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
        nested.append(_post(reblog, platform, when, "reblog."))
        nested.extend(_account(reblog.get("account"), platform, when, "reblog.account"))
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
    return [post], nested
