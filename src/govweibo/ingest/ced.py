"""The CED rumour corpus (Song et al. 2018) in its folder layout.

original-microblog/{idx}_{mid}_{uid}.json holds a source post and its author;
rumor-repost/ and non-rumor-repost/ hold, under the same file name, the reposts
as [{mid, uid, parent, text, date}], and the folder is the label. Post ids are
stored in Sina's numeric form; the base62 mid is kept beside it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from govweibo import model
from govweibo.ingest.base import ReadOptions, Source
from govweibo.ingest.ced_reposts import RepostFile, convert, read_repost_files
from govweibo.ingest.sina_ids import mid_to_id
from govweibo.model import Account, AccountObservation, Batch, Post, PostLabel, Reject

BEIJING = timezone(timedelta(hours=8))
SOURCE_DIR = "original-microblog"
LABEL_DIRS = {"rumor-repost": "rumour", "non-rumor-repost": "non-rumour"}
# A batch's input: about 50,000 reposts.
BATCH_BYTES = 8_000_000
_YEARLESS = re.compile(r"(\d{1,2})月(\d{1,2})日\s*(\d{1,2}):(\d{2})")
_CHAIN = re.compile(r"//@([^:：\s/]{1,40})[:：]")
_SINA_TIME = "%a %b %d %H:%M:%S %z %Y"


class CedError(ValueError):
    """A CED record that cannot be read; carries the field it is about."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _post_id(mid: Any, field: str) -> str:
    if not isinstance(mid, str) or not mid:
        raise CedError(field, f"field '{field}': missing or not a string")
    try:
        return mid_to_id(mid)
    except ValueError:
        raise CedError(field, f"field '{field}': not a Sina mid: {mid[:40]!r}") from None


# Times outside these bounds are quarantined, not stored (the native scan keeps the same).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_INT64 = 2**63 - 1
_INT32 = 2**31 - 1


def _in_range(when: datetime, field: str, value: Any) -> datetime:
    if not EARLIEST <= when < LATEST:
        raise CedError(field, f"field '{field}': outside 2000-2100: {str(value)[:40]!r}")
    return when


def _epoch(value: Any, field: str) -> datetime:
    """Epoch seconds, finite and within 2000-2100."""
    if isinstance(value, float) and not math.isfinite(value):
        raise CedError(field, f"field '{field}': not a finite number: {value!r}")
    try:
        when = datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError):
        raise CedError(field, f"field '{field}': outside 2000-2100: {str(value)[:40]!r}") from None
    return _in_range(when, field, value)


def _source_time(value: Any) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _epoch(value, "time")
    if isinstance(value, str):
        try:
            when = datetime.strptime(value, _SINA_TIME).astimezone(UTC)
        except (ValueError, OverflowError):
            pass
        else:
            return _in_range(when, "time", value)
    raise CedError("time", f"field 'time': not an epoch or Sina date: {str(value)[:40]!r}")


def repost_time(value: Any, source_time: datetime | None) -> datetime:
    """A repost's date; year-less dates take the source post's year (Beijing time)."""
    if not isinstance(value, str) or not value.strip():
        raise CedError("date", "field 'date': missing")
    try:
        naive = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        pass
    else:
        if not 1999 <= naive.year <= 2100:  # converting year 1 to UTC would overflow
            raise CedError("date", f"field 'date': outside 2000-2100: {value[:40]!r}")
        return _in_range(naive.replace(tzinfo=BEIJING).astimezone(UTC), "date", value)
    m = _YEARLESS.fullmatch(value.strip())
    if not m:
        raise CedError("date", f"field 'date': not a date in a known format: {value[:40]!r}")
    if source_time is None:
        raise CedError("date", f"field 'date': {value!r} has no year and the source post has none")
    src = source_time.astimezone(BEIJING)
    month, day, hour, minute = (int(g) for g in m.groups())
    try:
        when = datetime(src.year, month, day, hour, minute, tzinfo=BEIJING)
        # A repost never precedes its source; a date before it belongs to the next year.
        if when < src - timedelta(days=1):
            when = when.replace(year=src.year + 1)
    except ValueError:
        raise CedError("date", f"field 'date': impossible date {value!r}") from None
    return _in_range(when.astimezone(UTC), "date", value)


def _int(value: Any, field: str = "", bound: int = _INT64) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int) and value >= 0:
        if value > bound:
            raise CedError(field, f"field '{field}': beyond {bound:,}: {str(value)[:40]}")
        return value
    return None


def _text(value: Any, field: str) -> str | None:
    """A string field's value (None if not a string); a lone surrogate, which json.loads
    lets through from a `\\ud800` escape, is no text and is quarantined."""
    if not isinstance(value, str):
        return None
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise CedError(
                field, f"field '{field}': not valid Unicode (a lone surrogate)"
            ) from None
    return value


def printable(text: str) -> str:
    """`text` as valid UTF-8, lone surrogates written as escapes (for quarantine rows)."""
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class CedReader:
    name = "ced"
    description = "CED rumour corpus folder (original-microblog/, rumor-repost/, non-rumor-repost/)"

    def detect(self, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return (path / SOURCE_DIR).is_dir()
        return path.suffix == ".json" and path.parent.name in (SOURCE_DIR, *LABEL_DIRS)

    def files(self, path: Path) -> list[Path]:
        return sorted(path.glob("*/*.json")) if path.is_dir() else [path]

    def read(self, source: Source, opts: ReadOptions) -> Iterator[Batch]:
        root = source.path if source.path.is_dir() else source.path.parent.parent
        names = (
            sorted(p.name for p in (root / SOURCE_DIR).glob("*.json"))
            if source.path.is_dir()
            else [source.path.name]
        )
        digest = hashlib.sha256()
        acc = _Accumulator(source.observed_at, native=opts.native)
        # Which folder holds which file, listed once (a stat per file and folder cost
        # more than a tenth of a second on the corpus).
        listed = {d: set(os.listdir(root / d)) for d in LABEL_DIRS if (root / d).is_dir()}
        for name in names:
            label_dir = next((d for d in LABEL_DIRS if name in listed.get(d, ())), None)
            self._read_event(root, name, label_dir, acc, digest)
            if acc.bytes >= BATCH_BYTES:
                yield acc.flush()
        yield acc.flush()
        source.notes["checksum"] = digest.hexdigest()

    def _read_event(
        self, root: Path, name: str, label_dir: str | None, acc: _Accumulator, digest: Any
    ) -> None:
        label = LABEL_DIRS[label_dir] if label_dir else None
        stem = name.removesuffix(".json").split("_")
        src_path = root / SOURCE_DIR / name
        src_time = None
        src_id = None
        try:
            raw = src_path.read_bytes()
        except FileNotFoundError:
            pass
        except OSError as exc:  # a folder of that name, no permission: this event only
            acc.read += 1
            acc.reject(src_path, 0, f"unreadable file: {exc.strerror or exc}", "")
        else:
            digest.update(name.encode() + raw)
            acc.bytes += len(raw)
            src_id, src_time = acc.add_source(src_path, raw, stem, label)
        if label_dir is None:
            return
        rep_path = root / label_dir / name
        try:
            raw = rep_path.read_bytes()
        except OSError as exc:
            acc.read += 1
            acc.reject(rep_path, 0, f"unreadable file: {exc.strerror or exc}", "")
            return
        digest.update(label_dir.encode() + name.encode() + raw)
        acc.bytes += len(raw)
        acc.add_reposts(rep_path, raw, src_id, src_time)


class _Accumulator:
    def __init__(self, observed_at: datetime, native: bool = True):
        self.observed_at = observed_at
        self.native = native
        self.reset()

    def reset(self) -> None:
        self.posts: list[Post] = []
        self.accounts: list[Account] = []
        self.observations: list[AccountObservation] = []
        self.labels: list[PostLabel] = []
        self.rejects: list[Reject] = []
        self.repost_files: list[RepostFile] = []
        self.pending: list[tuple[Path, bytes, str | None, datetime | None]] = []
        self.read = 0
        self.bytes = 0

    def reject(self, path: Path, item: int, exc: CedError | str, raw: Any) -> None:
        field = exc.field if isinstance(exc, CedError) else None
        self.rejects.append(
            Reject(
                line=0,
                item=item,
                field=field,
                reason=printable(str(exc)),
                raw=printable(
                    json.dumps(raw, ensure_ascii=False)[:2000]
                    if not isinstance(raw, str)
                    else raw[:2000]
                ),
                path=printable(str(path.resolve())),
            )
        )

    def add_source(
        self, path: Path, raw: bytes, stem: list[str], label: str | None
    ) -> tuple[str | None, datetime | None]:
        self.read += 1
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # ValueError: bad JSON or UTF-8, huge int
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            self.reject(path, 0, f"malformed JSON: {reason}", raw.decode("utf-8", "replace"))
            return None, None
        try:
            if not isinstance(doc, dict):
                raise CedError("record", "record: expected a JSON object")
            if len(stem) < 3:
                raise CedError("file name", "file name is not {idx}_{mid}_{uid}.json")
            mid, uid = stem[1], stem[2]
            post_id = _post_id(mid, "mid (file name)")
            _text(uid, "uid (file name)")
            when = _source_time(doc.get("time"))
            text = _text(doc.get("text"), "text")
            post = Post(
                platform="weibo",
                post_id=post_id,
                mid=mid,
                author_id=uid,
                created_at=when,
                text=text,
                source=_text(doc.get("source"), "source"),
                reposts=_int(doc.get("reposts"), "reposts"),
                comments=_int(doc.get("comments"), "comments"),
                likes=_int(doc.get("likes"), "likes"),
                counts_observed_at=self.observed_at,
                repost_chain=_CHAIN.findall(text or ""),
                pic_count=_int(doc.get("pics"), "pics", _INT32),
                has_url=bool(doc.get("has_url")),
                is_truncated=False,
                has_video=False,
            )
            account, observation = self._author(uid, doc.get("user"))
        except CedError as exc:
            self.reject(path, 0, exc, doc)
            return None, None
        self.posts.append(post)
        if label:
            self.labels.append(PostLabel("weibo", post_id, "ced", label))
        if observation is not None:
            self.observations.append(observation)
        self.accounts.append(account)
        return post_id, when

    def _author(self, uid: str, user: Any) -> tuple[Account, AccountObservation | None]:
        """The source post's author, and the counts observed of it (a CedError names a
        field out of range, which quarantines the whole record)."""
        account = Account(platform="weibo", account_id=uid, profile_observed_at=self.observed_at)
        if not isinstance(user, dict):
            return account, None
        account.verified = bool(user.get("verified"))
        vt = user.get("verified_type")
        if isinstance(vt, int) and not isinstance(vt, bool):
            if not -_INT32 - 1 <= vt <= _INT32:
                raise CedError(
                    "user.verified_type",
                    f"field 'user.verified_type': beyond int32: {str(vt)[:40]}",
                )
            account.verified_type = vt
        account.location = _text(user.get("location"), "user.location")
        account.gender = _text(user.get("gender"), "user.gender")
        created = user.get("time")
        if isinstance(created, int | float) and not isinstance(created, bool):
            account.created_at = _epoch(created, "user.time")
        observation = AccountObservation(
            platform="weibo",
            account_id=uid,
            observed_at=self.observed_at,
            followers=_int(user.get("followers"), "user.followers"),
            friends=_int(user.get("friends"), "user.friends"),
            statuses=_int(user.get("messages"), "user.messages"),
        )
        return account, observation

    def add_reposts(
        self, path: Path, raw: bytes, src_id: str | None, src_time: datetime | None
    ) -> None:
        """Read at the flush, all of the batch's files in one native scan."""
        self.pending.append((path, raw, src_id, src_time))

    def _read_reposts(self) -> None:
        files = read_repost_files(self.pending, self.native)
        for (path, raw, _, _), got in zip(self.pending, files, strict=True):
            if isinstance(got, ValueError):
                self.read += 1
                reason = f"malformed repost file: {got}"
                self.reject(path, 0, reason, raw.decode("utf-8", "replace"))
            else:
                self.read += got.count
                self.repost_files.append(got)
        self.pending = []

    def _add_repost(
        self, path: Path, i: int, rec: Any, src_id: str | None, src_time: datetime | None
    ) -> None:
        """One repost the bulk path did not take: checked field by field."""
        try:
            if not isinstance(rec, dict):
                raise CedError("record", "record: expected a JSON object")
            if src_id is None:
                raise CedError("source", "source post missing or rejected; repost has no root")
            post_id = _post_id(rec.get("mid"), "mid")
            parent = rec.get("parent") or ""
            parent_id = _post_id(parent, "parent") if parent else src_id
            uid = rec.get("uid")
            if not isinstance(uid, str | int) or isinstance(uid, bool) or str(uid) == "":
                raise CedError("uid", "field 'uid': missing")
            _text(uid, "uid")
            when = repost_time(rec.get("date"), src_time)
            text = _text(rec.get("text"), "text")
        except CedError as exc:
            self.reject(path, i, exc, rec)
            return
        self.posts.append(
            Post(
                platform="weibo",
                post_id=post_id,
                mid=rec["mid"],
                author_id=str(uid),
                created_at=when,
                text=text,
                retweeted_post_id=src_id,
                parent_post_id=parent_id,
                repost_chain=_CHAIN.findall(text or ""),
            )
        )
        self.accounts.append(Account(platform="weibo", account_id=str(uid)))

    def flush(self) -> Batch:
        self._read_reposts()
        bulk = convert(self.repost_files)
        for f, i in bulk.slow:
            self._add_repost(f.path, i, f.items[i], f.src_id, f.src_time)
        batch = Batch(records_read=self.read, rejects=self.rejects, bytes_read=self.bytes)
        posts = [t for t in (bulk.posts,) if t is not None]
        accounts = [t for t in (bulk.accounts,) if t is not None]
        if self.posts:
            posts.append(model.records_to_table("posts", self.posts))
        if self.accounts:
            accounts.append(model.records_to_table("accounts", self.accounts))
        if posts:
            batch.primary["posts"] = pa.concat_tables(posts)
        if accounts:
            batch.secondary["accounts"] = pa.concat_tables(accounts)
        if self.observations:
            batch.secondary["account_observations"] = model.records_to_table(
                "account_observations", self.observations
            )
        if self.labels:
            batch.secondary["post_labels"] = model.records_to_table("post_labels", self.labels)
        self.reset()
        return batch
