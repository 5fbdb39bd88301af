"""Canonical records: the one shape every source is turned into.

Each table has an Arrow schema (the storage and interchange truth) and, for the
tables readers build row by row, a dataclass with the same fields. The store's
DDL is generated from these schemas, so there is one definition of every column.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")
STR = pa.string()
I64 = pa.int64()

ACCOUNTS = pa.schema(
    [
        ("platform", STR),
        ("account_id", STR),
        ("screen_name", STR),
        ("description", STR),
        ("url", STR),
        ("verified", pa.bool_()),
        ("verified_type", pa.int32()),
        ("verified_reason", STR),
        ("province_code", STR),
        ("city_code", STR),
        ("location", STR),
        ("gender", STR),
        ("created_at", TS),
        ("profile_observed_at", TS),
        ("run_id", I64),
    ]
)

ACCOUNT_OBSERVATIONS = pa.schema(
    [
        ("platform", STR),
        ("account_id", STR),
        ("observed_at", TS),
        ("followers", I64),
        ("friends", I64),
        ("statuses", I64),
        ("favourites", I64),
        ("run_id", I64),
    ]
)

POSTS = pa.schema(
    [
        ("platform", STR),
        ("post_id", STR),
        ("mid", STR),
        ("author_id", STR),
        ("created_at", TS),
        ("text", STR),
        ("source", STR),
        ("reposts", I64),
        ("comments", I64),
        ("likes", I64),
        ("counts_observed_at", TS),
        ("retweeted_post_id", STR),
        ("parent_post_id", STR),
        ("repost_chain", pa.list_(STR)),
        ("is_truncated", pa.bool_()),
        ("pic_count", pa.int32()),
        ("has_video", pa.bool_()),
        ("has_url", pa.bool_()),
        ("run_id", I64),
        # The store's integer for (platform, author_id), set by its writer (store/keys.py);
        # readers leave it null.
        ("author_key", pa.int32()),
    ]
)

INTERACTIONS = pa.schema(
    [
        ("platform", STR),
        ("interaction_id", STR),
        ("kind", STR),
        ("actor_id", STR),
        ("actor_name", STR),
        ("post_id", STR),
        ("target_account_id", STR),
        ("reply_to_id", STR),
        ("reply_to_account_id", STR),
        ("created_at", TS),
        ("text", STR),
        ("likes", I64),
        ("run_id", I64),
    ]
)

POST_LABELS = pa.schema(
    [
        ("platform", STR),
        ("post_id", STR),
        ("label_set", STR),
        ("label", STR),
        ("run_id", I64),
    ]
)

TIMELINE_SIGHTINGS = pa.schema(
    [
        ("platform", STR),
        ("account_id", STR),
        ("post_id", STR),
        ("observed_at", TS),
        ("run_id", I64),
    ]
)

INGEST_RUNS = pa.schema(
    [
        ("run_id", I64),
        ("source_path", STR),
        ("format", STR),
        ("checksum", STR),
        ("size_bytes", I64),
        ("options", STR),
        ("records_read", I64),
        ("stored", I64),
        ("duplicate", I64),
        ("rejected", I64),
        ("empty", I64),
        ("status", STR),
        ("started_at", TS),
        ("finished_at", TS),
        ("message", STR),
    ]
)

QUARANTINE = pa.schema(
    [
        ("source_path", STR),
        ("line", I64),
        ("item", I64),
        ("run_id", I64),
        ("format", STR),
        ("field", STR),
        ("reason", STR),
        ("raw", STR),
        ("quarantined_at", TS),
    ]
)

# Table name -> (schema, natural key). Data tables come first; the order is the
# order a batch is written in, so a post's author exists before the post.
TABLES: dict[str, tuple[pa.Schema, tuple[str, ...]]] = {
    "accounts": (ACCOUNTS, ("platform", "account_id")),
    "account_observations": (ACCOUNT_OBSERVATIONS, ("platform", "account_id", "observed_at")),
    "posts": (POSTS, ("platform", "post_id")),
    "interactions": (INTERACTIONS, ("platform", "interaction_id")),
    "post_labels": (POST_LABELS, ("platform", "post_id", "label_set")),
    "timeline_sightings": (
        TIMELINE_SIGHTINGS,
        ("platform", "account_id", "post_id", "observed_at"),
    ),
    "ingest_runs": (INGEST_RUNS, ("run_id",)),
    "quarantine": (QUARANTINE, ("source_path", "line", "item")),
}
DATA_TABLES = (
    "accounts",
    "account_observations",
    "posts",
    "interactions",
    "post_labels",
    "timeline_sightings",
)


@dataclass(slots=True)
class Account:
    platform: str
    account_id: str
    screen_name: str | None = None
    description: str | None = None
    url: str | None = None
    verified: bool | None = None
    verified_type: int | None = None
    verified_reason: str | None = None
    province_code: str | None = None
    city_code: str | None = None
    location: str | None = None
    gender: str | None = None
    created_at: datetime | None = None
    profile_observed_at: datetime | None = None
    run_id: int | None = None


@dataclass(slots=True)
class AccountObservation:
    platform: str
    account_id: str
    observed_at: datetime
    followers: int | None = None
    friends: int | None = None
    statuses: int | None = None
    favourites: int | None = None
    run_id: int | None = None


@dataclass(slots=True)
class Post:
    platform: str
    post_id: str
    mid: str | None = None
    author_id: str | None = None
    created_at: datetime | None = None
    text: str | None = None
    source: str | None = None
    reposts: int | None = None
    comments: int | None = None
    likes: int | None = None
    counts_observed_at: datetime | None = None
    retweeted_post_id: str | None = None
    parent_post_id: str | None = None
    repost_chain: list[str] | None = field(default=None)
    is_truncated: bool | None = None
    pic_count: int | None = None
    has_video: bool | None = None
    has_url: bool | None = None
    run_id: int | None = None
    author_key: int | None = None


@dataclass(slots=True)
class Interaction:
    platform: str
    interaction_id: str
    kind: str
    actor_id: str | None = None
    actor_name: str | None = None
    post_id: str | None = None
    target_account_id: str | None = None
    reply_to_id: str | None = None
    reply_to_account_id: str | None = None
    created_at: datetime | None = None
    text: str | None = None
    likes: int | None = None
    run_id: int | None = None


@dataclass(slots=True)
class PostLabel:
    platform: str
    post_id: str
    label_set: str
    label: str
    run_id: int | None = None


RECORD_TABLE: dict[type, str] = {
    Account: "accounts",
    AccountObservation: "account_observations",
    Post: "posts",
    Interaction: "interactions",
    PostLabel: "post_labels",
}

# mention: Mastodon and X statuses name accounts in structured fields (Weibo mentions
# stay in the text, parsed by the text pipeline).
INTERACTION_KINDS = ("comment", "reply", "mention")


def schema_of(table: str) -> pa.Schema:
    return TABLES[table][0]


def key_of(table: str) -> tuple[str, ...]:
    return TABLES[table][1]


def records_to_table(table: str, records: Sequence[Any]) -> pa.Table:
    """Dataclass records of one kind -> an Arrow table with the canonical schema."""
    schema = schema_of(table)
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for rec in records:
        for name in schema.names:
            columns[name].append(getattr(rec, name))
    return pa.table(columns, schema=schema)


def constant(value: datetime | str | int, type_: pa.DataType, n: int) -> pa.Array:
    """`value` repeated n times, built from buffers: readers and writers stamp every row of
    a batch with its observation time, platform or run, and a Python list of n values is
    slow. `type_`: a string, or a 64-bit integer or timestamp type."""
    if isinstance(value, str):
        raw = value.encode()
        offsets = np.arange(n + 1, dtype=np.int32) * len(raw)
        return pa.Array.from_buffers(
            pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(raw * n)]
        )
    stamp = pa.scalar(value, type_).cast(pa.int64()).as_py()
    return pa.Array.from_buffers(type_, n, [None, pa.py_buffer(np.full(n, stamp, dtype=np.int64))])


def empty_table(table: str) -> pa.Table:
    return schema_of(table).empty_table()


def conform(table: str, data: pa.Table) -> pa.Table:
    """Reorder, add missing (null) columns and cast to the canonical schema."""
    schema = schema_of(table)
    cols = []
    for fld in schema:
        if fld.name in data.column_names:
            cols.append(data.column(fld.name).cast(fld.type))
        else:
            cols.append(pa.nulls(data.num_rows, fld.type))
    return pa.Table.from_arrays(cols, schema=schema)


def table_to_records(table: str, data: pa.Table) -> list[Any]:
    """Arrow rows -> dataclass records (the inverse of records_to_table)."""
    cls = next(c for c, t in RECORD_TABLE.items() if t == table)
    names = [f.name for f in dataclasses.fields(cls)]
    return [cls(**{n: row[n] for n in names}) for row in data.select(names).to_pylist()]


def group_records(records: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for rec in records:
        out.setdefault(RECORD_TABLE[type(rec)], []).append(rec)
    return out


@dataclass(slots=True)
class Reject:
    """A record that could not be turned into canonical rows, and why."""

    line: int
    item: int
    reason: str
    field: str | None = None
    raw: str | None = None
    # Set when a folder format reads many files under one run.
    path: str | None = None


@dataclass(slots=True)
class Batch:
    """What a reader yields: canonical rows plus the records it rejected.

    `primary` holds the rows each record stands for (the status, the comment, the
    user snapshot); `secondary` the rows nested inside it (a status's author, the
    reposted status). Only primary rows count as stored or duplicate in a summary.
    """

    primary: dict[str, pa.Table] = field(default_factory=dict)
    secondary: dict[str, pa.Table] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    records_read: int = 0
    empty: int = 0
    bytes_read: int = 0
