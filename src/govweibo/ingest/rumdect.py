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
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from govweibo import model
from govweibo.errors import IngestError
from govweibo.ingest.base import ReadOptions, Source
from govweibo.ingest.sina_ids import ids_to_mids
from govweibo.model import Batch, PostLabel, Reject

LABELS_FILE = "Weibo.txt"
EVENTS_DIR = "Weibo"
LABEL_SET = "rumdect"
LABELS = {"1": "rumour", "0": "non-rumour"}
# A batch: about this many posts.
BATCH_POSTS = 50_000
_CHAIN = re.compile(r"//@([^:：\s/]{1,40})[:：]")
_T = re.compile(rb'"t"\s*:\s*"?\d')
# -> reposts, comments, likes
_COUNTS = ("reposts_count", "comments_count", "attitudes_count")
# -> followers, friends, statuses, favourites
_USER_COUNTS = ("followers_count", "friends_count", "statuses_count", "favourites_count")


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
        # The events folder alone: its labels lie beside it.
        near = [path / LABELS_FILE] + ([path.parent / LABELS_FILE] if events == path else [])
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
    if type(value) is str and value.isdigit():
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    raise RumdectError(name, f"field '{name}': missing or not a numeric id: {str(value)[:40]!r}")


def _counts(rec: dict[str, Any], names: tuple[str, ...]) -> list[int | None]:
    """Counts, the common case (an int or null) checked inline: this runs for every
    record of a set of millions."""
    out: list[int | None] = []
    for name in names:
        value = rec.get(name)
        out.append(
            value if value is None or (type(value) is int and value >= 0) else _count(rec, name)
        )
    return out


def _count(rec: dict[str, Any], name: str) -> int | None:
    value = rec.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise RumdectError(name, f"field '{name}': not a count: {str(value)[:40]!r}")


def _epoch(rec: dict[str, Any], name: str, required: bool) -> int | None:
    """Epoch seconds as microseconds (the batch converts whole columns)."""
    value = rec.get(name)
    if value is None or value == "":
        if required:
            raise RumdectError(name, f"field '{name}': missing")
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e11:
        return int(value * 1_000_000)
    raise RumdectError(name, f"field '{name}': not epoch seconds: {str(value)[:40]!r}")


def _text(rec: dict[str, Any], name: str) -> str | None:
    value = rec.get(name)
    if value is None or type(value) is str:
        return value or None
    raise RumdectError(name, f"field '{name}': not a string: {str(value)[:40]!r}")


def _flag(rec: dict[str, Any], name: str) -> bool | None:
    value = rec.get(name)
    if value is None or type(value) is bool:
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise RumdectError(name, f"field '{name}': not true or false: {str(value)[:40]!r}")


def _small_int(rec: dict[str, Any], name: str) -> int | None:
    value = rec.get(name)
    if value is None or type(value) is int:
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,9}", value.strip()):
        return int(value)
    raise RumdectError(name, f"field '{name}': not an integer: {str(value)[:40]!r}")


def _pictures(value: Any) -> int:
    # A picture URL (the set keeps one at most: "has pictures", not how many), or a
    # list of them.
    if isinstance(value, list):
        return len(value)
    return 1 if isinstance(value, str) and value.strip() else 0


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


# What the reader fills of each table, row by row as tuples (the rest is constant or
# null): building dataclasses and reading them back field by field took half the time.
POST_COLUMNS = (
    "post_id",
    "author_id",
    "created_at",
    "text",
    "reposts",
    "comments",
    "likes",
    "retweeted_post_id",
    "parent_post_id",
    "repost_chain",
    "pic_count",
)
ACCOUNT_COLUMNS = (
    "account_id",
    "screen_name",
    "description",
    "verified",
    "verified_type",
    "province_code",
    "city_code",
    "location",
    "gender",
    "created_at",
)
OBSERVATION_COLUMNS = ("account_id", "followers", "friends", "statuses", "favourites")


@dataclass
class _Event:
    """What one event file gave: rows of POST_COLUMNS, ACCOUNT_COLUMNS, OBSERVATION_COLUMNS."""

    posts: list[tuple[Any, ...]] = field(default_factory=list)
    accounts: list[tuple[Any, ...]] = field(default_factory=list)
    observations: list[tuple[Any, ...]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    root: str | None = None
    root_stored: bool = False
    read: int = 0


def read_event(path: Path, raw: bytes) -> _Event:
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
            _add(out, i, rec)
        except RumdectError as exc:
            if lines is None:  # located only when a file has something to quarantine
                lines = element_lines(text)
            raw_rec = json.dumps(rec, ensure_ascii=False)[:2000]
            line = lines[i] if i < len(lines) else 0
            out.rejects.append(Reject(line, i, str(exc), exc.field, raw_rec, where))
    return out


def _add(out: _Event, i: int, rec: Any) -> None:
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
    reposts, comments, likes = _counts(rec, _COUNTS)
    user_counts = _counts(rec, _USER_COUNTS)
    account = (
        uid,
        _text(rec, "screen_name") or _text(rec, "username"),
        _text(rec, "user_description"),
        _flag(rec, "verified"),
        _small_int(rec, "verified_type"),
        _code(rec, "province"),
        _code(rec, "city"),
        _text(rec, "user_location"),
        _text(rec, "gender"),
        _epoch(rec, "user_created_at", required=False),
    )
    picture = rec.get("picture")
    out.posts.append(
        (
            post_id,
            uid,
            when,
            text,
            reposts,
            comments,
            likes,
            None if i == 0 else out.root,
            None if i == 0 else (parent_id or out.root),
            _CHAIN.findall(text) if text and "//@" in text else [],
            _pictures(picture),
        )
    )
    out.root_stored = out.root_stored or i == 0
    out.accounts.append(account)
    out.observations.append((uid, *user_counts))


def _table(
    name: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], stamps: dict[str, Any]
) -> pa.Table:
    """Rows of `columns` as the canonical table; `stamps` fill columns with one value."""
    schema = model.schema_of(name)
    n = len(rows)
    data = dict(zip(columns, zip(*rows, strict=True), strict=True)) if rows else {}
    arrays = []
    for fld in schema:
        if fld.name in data:
            values = data[fld.name]
            if pa.types.is_timestamp(fld.type):
                arrays.append(pa.array(values, pa.int64()).cast(fld.type))
            else:
                arrays.append(pa.array(values, fld.type))
        elif fld.name in stamps:
            arrays.append(model.constant(stamps[fld.name], fld.type, n))
        else:
            arrays.append(pa.nulls(n, fld.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def read_labels(path: Path) -> tuple[dict[str, str], list[Reject], int]:
    """Weibo.txt: event id -> label, the lines it rejects, and its blank lines."""
    labels: dict[str, str] = {}
    rejects: list[Reject] = []
    empty = 0
    where = str(path.resolve())
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path}: not UTF-8 (bad byte at offset {exc.start})") from None
    for n, line in enumerate(text.splitlines(), start=1):
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
                return fh.read(7).removeprefix(b"\xef\xbb\xbf").startswith(b"eid:")
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
        posts: list[tuple[Any, ...]] = []
        accounts: list[tuple[Any, ...]] = []
        observations: list[tuple[Any, ...]] = []
        tags: list[PostLabel] = []
        unlabelled = 0
        seen = source.observed_at
        for path in paths:
            raw = path.read_bytes()
            digest.update(path.name.encode() + raw)
            batch.bytes_read += len(raw)
            got = read_event(path, raw)
            batch.records_read += got.read
            batch.rejects.extend(got.rejects)
            posts += got.posts
            accounts += got.accounts
            observations += got.observations
            label = labels.pop(path.stem, None)
            if label is None:
                unlabelled += 1
            elif got.root is not None and got.root_stored:
                tags.append(PostLabel("weibo", got.root, LABEL_SET, label))
            if len(posts) >= BATCH_POSTS:
                yield _batch(batch, posts, accounts, observations, tags, seen)
                batch, posts, accounts, observations, tags = Batch(), [], [], [], []
        yield _batch(batch, posts, accounts, observations, tags, seen)
        if unlabelled:
            source.notes["events_without_label"] = unlabelled
        if labels and events is not None:
            source.notes["labels_without_file"] = len(labels)
        source.notes["checksum"] = digest.hexdigest()


def _batch(
    batch: Batch,
    posts: list[tuple[Any, ...]],
    accounts: list[tuple[Any, ...]],
    observations: list[tuple[Any, ...]],
    tags: list[PostLabel],
    seen: datetime,
) -> Batch:
    if posts:
        table = _table(
            "posts", POST_COLUMNS, posts, {"platform": "weibo", "counts_observed_at": seen}
        )
        mids = ids_to_mids(table.column("post_id"))
        batch.primary["posts"] = table.set_column(table.schema.get_field_index("mid"), "mid", mids)
    if accounts:
        stamps = {"platform": "weibo", "profile_observed_at": seen}
        batch.secondary["accounts"] = _table("accounts", ACCOUNT_COLUMNS, accounts, stamps)
    if observations:
        stamps = {"platform": "weibo", "observed_at": seen}
        table = _table("account_observations", OBSERVATION_COLUMNS, observations, stamps)
        batch.secondary["account_observations"] = table
    if tags:
        batch.secondary["post_labels"] = model.records_to_table("post_labels", tags)
    return batch
