"""The Weibo rumour set of Ma et al. (IJCAI 2016, "Detecting Rumors from Microblogs with
Recurrent Neural Networks"), the "rumdect" download.

Layout: `Weibo.txt`, one event a line, `eid:<eid>\\tlabel:<0|1>\\t<mid> <mid> …` (1 is a
rumour, 0 not), and `Weibo/<eid>.json`, one JSON array per event: the source post first
(`parent` null), then its reposts. A record is flat: the post (`mid`, `t` in epoch seconds,
`text`, `parent`, `reposts_count`, `comments_count`, `attitudes_count`, `picture`) and its
author as crawled (`uid`, `screen_name`, `followers_count`, `friends_count`,
`statuses_count`, `favourites_count`, `bi_followers_count`, `verified`, `verified_type`,
`user_created_at`, `gender`, `province`, `city`, `user_location`, `user_description`).
Field list and label convention as read in public loaders of the set (a schema audit of the
4,664 event files listing these keys, `parent` "null for source"; a Weibo.txt loader moving
label 0 to truth/ and 1 to rumor/).

Mapping: the first record is the event's source post; every other record is a post with
retweeted_post_id = the source and parent_post_id = `parent` (the source where `parent` is
empty); each record's user fields give an account and an account observation; the event's
label goes to post_labels on the source post, label set `rumdect`, with CED's values
(`rumour` / `non-rumour`). Post ids are the numeric mids; `mid` keeps the base62 form.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from govweibo import model
from govweibo.ingest.base import ReadOptions, Source
from govweibo.ingest.sina_ids import id_to_mid
from govweibo.model import Account, AccountObservation, Batch, Post, PostLabel, Reject

LABELS_FILE = "Weibo.txt"
EVENTS_DIR = "Weibo"
LABEL_SET = "rumdect"
LABELS = {"1": "rumour", "0": "non-rumour"}
# A batch: about this many posts.
BATCH_POSTS = 50_000
_CHAIN = re.compile(r"//@([^:：\s/]{1,40})[:：]")
_T = re.compile(rb'"t"\s*:\s*"?\d')
_COUNTS = {
    "reposts_count": "reposts",
    "comments_count": "comments",
    "attitudes_count": "likes",
}
_USER_COUNTS = {
    "followers_count": "followers",
    "friends_count": "friends",
    "statuses_count": "statuses",
    "favourites_count": "favourites",
}


class RumdectError(ValueError):
    """A record that cannot be read; carries the field it is about."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def looks_like_event(head: bytes) -> bool:
    """An event file: a JSON array whose first record has the set's flat keys."""
    text = head.lstrip()
    return text.startswith(b"[") and b'"mid"' in text and b'"uid"' in text and bool(_T.search(text))


def _layout(path: Path) -> tuple[Path | None, Path | None]:
    """(the folder of event files, Weibo.txt) for a folder of the set or one event file."""
    if path.is_dir():
        events = path / EVENTS_DIR if (path / EVENTS_DIR).is_dir() else path
        near = [path / LABELS_FILE, path.parent / LABELS_FILE]
    else:
        events = None
        near = [path.parent / LABELS_FILE, path.parent.parent / LABELS_FILE]
    labels = next((p for p in near if p.is_file()), None)
    return events, labels


def _first_json(folder: Path) -> Path | None:
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.endswith(".json") and entry.is_file():
                return Path(entry.path)
    return None


def _id(value: Any, name: str) -> str:
    """A numeric id, as text (ids are stored as Sina's numeric strings)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    raise RumdectError(name, f"field '{name}': missing or not a numeric id: {str(value)[:40]!r}")


def _count(rec: dict[str, Any], name: str) -> int | None:
    value = rec.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise RumdectError(name, f"field '{name}': not a count: {str(value)[:40]!r}")


def _epoch(rec: dict[str, Any], name: str, required: bool) -> datetime | None:
    value = rec.get(name)
    if value is None or value == "":
        if required:
            raise RumdectError(name, f"field '{name}': missing")
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e11:
        return datetime.fromtimestamp(value, UTC)
    raise RumdectError(name, f"field '{name}': not epoch seconds: {str(value)[:40]!r}")


def _text(rec: dict[str, Any], name: str) -> str | None:
    value = rec.get(name)
    if value is None or isinstance(value, str):
        return value or None
    raise RumdectError(name, f"field '{name}': not a string: {str(value)[:40]!r}")


def _code(rec: dict[str, Any], name: str) -> str | None:
    value = rec.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    raise RumdectError(name, f"field '{name}': not a Sina area code: {str(value)[:40]!r}")


def element_lines(text: str) -> list[int]:
    """The line each element of a JSON array starts on (for quarantine rows), as far as the
    array parses."""
    decoder = json.JSONDecoder()
    lines: list[int] = []
    i = text.index("[") + 1
    line, last = 1, 0
    ws = re.compile(r"[\s,]*")
    while True:
        i = ws.match(text, i).end()  # type: ignore[union-attr]
        if i >= len(text) or text[i] == "]":
            return lines
        line += text.count("\n", last, i)
        last = i
        lines.append(line)
        try:
            _, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            return lines


@dataclass
class _Event:
    """What one event file gave."""

    posts: list[Post] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    observations: list[AccountObservation] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    root: str | None = None
    read: int = 0


def read_event(path: Path, raw: bytes, observed_at: datetime) -> _Event:
    """One `<eid>.json`: its posts, their authors, and the records it rejects."""
    out = _Event()
    where = str(path.resolve())
    try:
        text = raw.decode("utf-8-sig")
        records = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        out.read = 1
        line = getattr(exc, "lineno", 0)
        snippet = raw[:2000].decode("utf-8", "replace")
        out.rejects.append(
            Reject(0 if line is None else line, 0, f"malformed JSON: {exc}", None, snippet, where)
        )
        return out
    if not isinstance(records, list):
        out.read = 1
        out.rejects.append(Reject(1, 0, "not a JSON array of posts", "record", text[:2000], where))
        return out
    lines: list[int] | None = None
    for i, rec in enumerate(records):
        out.read += 1
        try:
            _add(out, i, rec, observed_at)
        except RumdectError as exc:
            if lines is None:  # located only when a file has something to quarantine
                lines = element_lines(text)
            raw_rec = json.dumps(rec, ensure_ascii=False)[:2000]
            line = lines[i] if i < len(lines) else 0
            out.rejects.append(Reject(line, i, str(exc), exc.field, raw_rec, where))
    return out


def _add(out: _Event, i: int, rec: Any, observed_at: datetime) -> None:
    if not isinstance(rec, dict):
        raise RumdectError("record", "record: expected a JSON object")
    if i == 0:
        # The source's id is known even when the rest of its record is bad, so its
        # reposts keep their root.
        out.root = _id(rec.get("mid", rec.get("id")), "mid")
        post_id = out.root
    else:
        if out.root is None:
            raise RumdectError("mid", "the source post (first record) has no usable mid")
        post_id = _id(rec.get("mid", rec.get("id")), "mid")
    uid = _id(rec.get("uid"), "uid")
    when = _epoch(rec, "t", required=True)
    parent = rec.get("parent")
    parent_id = _id(parent, "parent") if parent not in (None, "") and i > 0 else None
    text = _text(rec, "text") or _text(rec, "original_text")
    counts = {dst: _count(rec, src) for src, dst in _COUNTS.items()}
    user_counts = {dst: _count(rec, src) for src, dst in _USER_COUNTS.items()}
    vt = rec.get("verified_type")
    if vt is not None and (not isinstance(vt, int) or isinstance(vt, bool)):
        raise RumdectError("verified_type", f"field 'verified_type': not an integer: {vt!r}")
    account = Account(
        platform="weibo",
        account_id=uid,
        screen_name=_text(rec, "screen_name") or _text(rec, "username"),
        description=_text(rec, "user_description"),
        verified=bool(rec["verified"]) if rec.get("verified") is not None else None,
        verified_type=vt,
        province_code=_code(rec, "province"),
        city_code=_code(rec, "city"),
        location=_text(rec, "user_location"),
        gender=_text(rec, "gender"),
        created_at=_epoch(rec, "user_created_at", required=False),
        profile_observed_at=observed_at,
    )
    picture = rec.get("picture")
    out.posts.append(
        Post(
            platform="weibo",
            post_id=post_id,
            mid=id_to_mid(post_id),
            author_id=uid,
            created_at=when,
            text=text,
            counts_observed_at=observed_at,
            retweeted_post_id=None if i == 0 else out.root,
            parent_post_id=None if i == 0 else (parent_id or out.root),
            repost_chain=_CHAIN.findall(text or ""),
            # The set keeps one picture URL at most: "has pictures", not how many.
            pic_count=1 if isinstance(picture, str) and picture.strip() else 0,
            reposts=counts["reposts"],
            comments=counts["comments"],
            likes=counts["likes"],
        )
    )
    out.accounts.append(account)
    out.observations.append(AccountObservation("weibo", uid, observed_at, **user_counts))


def read_labels(path: Path) -> tuple[dict[str, str], list[Reject], int]:
    """Weibo.txt: event id -> label, the lines it rejects, and its blank lines."""
    labels: dict[str, str] = {}
    rejects: list[Reject] = []
    empty = 0
    where = str(path.resolve())
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        parts = line.split()
        if not parts:
            empty += 1
            continue
        if not parts[0].startswith("eid:") or len(parts[0]) == 4:
            rejects.append(Reject(n, 0, "expected 'eid:<id>' first", "eid", line[:2000], where))
            continue
        value = parts[1].removeprefix("label:") if len(parts) > 1 else ""
        if len(parts) < 2 or not parts[1].startswith("label:") or value not in LABELS:
            reason = f"expected 'label:0' or 'label:1', got {value[:20]!r}"
            rejects.append(Reject(n, 0, reason, "label", line[:2000], where))
            continue
        labels[parts[0][4:]] = LABELS[value]
    return labels, rejects, empty


class RumdectReader:
    name = "rumdect"
    description = "Weibo rumour set of Ma et al. 2016 (Weibo.txt, Weibo/<eid>.json)"

    def detect(self, path: Path, head: bytes) -> bool:
        if not path.is_dir():
            return path.suffix == ".json" and looks_like_event(head)
        labels = path / LABELS_FILE
        if labels.is_file():
            with labels.open("rb") as fh:
                return fh.read(4).startswith(b"eid:")
        events, _ = _layout(path)
        first = _first_json(events) if events is not None else None
        if first is None:
            return False
        with first.open("rb") as fh:
            return looks_like_event(fh.read(4096))

    def files(self, path: Path) -> list[Path]:
        if not path.is_dir():
            return [path]
        events, labels = _layout(path)
        found = sorted(events.glob("*.json")) if events is not None else []
        return ([labels] if labels is not None else []) + found

    def read(self, source: Source, opts: ReadOptions) -> Iterator[Batch]:
        events, labels_path = _layout(source.path)
        digest = hashlib.sha256()
        batch = Batch()
        labels: dict[str, str] = {}
        if labels_path is not None:
            digest.update(labels_path.read_bytes())
            labels, rejects, empty = read_labels(labels_path)
            if events is None:
                # One event file: only its own label; the other lines are the folder's.
                labels = {k: v for k, v in labels.items() if k == source.path.stem}
            else:
                batch.rejects, batch.empty = rejects, empty
                batch.records_read += len(rejects)
        paths = sorted(events.glob("*.json")) if events is not None else [source.path]
        posts: list[Post] = []
        accounts: list[Account] = []
        observations: list[AccountObservation] = []
        tags: list[PostLabel] = []
        unlabelled = 0
        for path in paths:
            raw = path.read_bytes()
            digest.update(path.name.encode() + raw)
            batch.bytes_read += len(raw)
            got = read_event(path, raw, source.observed_at)
            batch.records_read += got.read
            batch.rejects.extend(got.rejects)
            posts += got.posts
            accounts += got.accounts
            observations += got.observations
            label = labels.pop(path.stem, None)
            if label is None:
                unlabelled += 1
            elif got.posts and got.posts[0].post_id == got.root:
                tags.append(PostLabel("weibo", got.root, LABEL_SET, label))
            if len(posts) >= BATCH_POSTS:
                yield _batch(batch, posts, accounts, observations, tags)
                batch, posts, accounts, observations, tags = Batch(), [], [], [], []
        yield _batch(batch, posts, accounts, observations, tags)
        if unlabelled:
            source.notes["events_without_label"] = unlabelled
        if labels and events is not None:
            source.notes["labels_without_file"] = len(labels)
        source.notes["checksum"] = digest.hexdigest()


def _batch(
    batch: Batch,
    posts: list[Post],
    accounts: list[Account],
    observations: list[AccountObservation],
    tags: list[PostLabel],
) -> Batch:
    if posts:
        batch.primary["posts"] = model.records_to_table("posts", posts)
    if accounts:
        batch.secondary["accounts"] = model.records_to_table("accounts", accounts)
    if observations:
        table = model.records_to_table("account_observations", observations)
        batch.secondary["account_observations"] = table
    if tags:
        batch.secondary["post_labels"] = model.records_to_table("post_labels", tags)
    return batch
