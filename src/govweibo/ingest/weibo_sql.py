"""Sina open-API objects -> canonical rows, as DuckDB SQL over one JSON parse per record.

Every statement here is built from the constant field lists below; data never
enters SQL text. Each record is parsed once by `json_transform` into a nested
struct and mapped, in the same pass, to every object it carries (the post, its
author, the post it reposts, ...): one wide row per record. Checks compare each
raw value with its mapped one (present but NULL after mapping = wrong), so no
value is converted twice. Nested objects that are present but of the wrong type
come back as a struct of all-NULL fields, which the checks report as a missing id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from govweibo.ingest.sina_ids import SQL_MACROS

USER = {
    k: "VARCHAR"
    for k in [
        "id",
        "idstr",
        "screen_name",
        "name",
        "description",
        "url",
        "verified",
        "verified_type",
        "verified_reason",
        "province",
        "city",
        "location",
        "gender",
        "created_at",
        "followers_count",
        "friends_count",
        "statuses_count",
        "favourites_count",
    ]
}
_STATUS_SCALARS = [
    "id",
    "idstr",
    "mid",
    "created_at",
    "text",
    "source",
    "reposts_count",
    "comments_count",
    "attitudes_count",
    "truncated",
    "thumbnail_pic",
    "deleted",
]
STATUS: dict[str, object] = {k: "VARCHAR" for k in _STATUS_SCALARS}
# Typed here rather than kept as JSON text: a JSON field would be parsed a second time.
STATUS.update({"pic_urls": ["JSON"], "page_info": {"type": "VARCHAR"}, "user": USER})
COMMENT: dict[str, object] = {
    k: "VARCHAR" for k in ["id", "idstr", "created_at", "text", "source", "like_counts"]
}
COMMENT["user"] = USER


PAGE_KEYS = ("statuses", "comments", "users", "reposts")
COMMENT_KEYS = ("status", "reply_comment")


def top_structure(comments: bool) -> str:
    """The json_transform structure. Comment branches are left out of chunks without
    comments: materialising a wide, mostly-NULL struct is the main cost of a chunk.
    Keys that say a record is a comment or an API page are then read as JSON markers,
    NULL (and nearly free) where absent, so the caller learns it must map again."""
    top: dict[str, object] = {**USER, **STATUS, "retweeted_status": STATUS}
    if comments:
        top.update(
            {
                "like_counts": "VARCHAR",
                "status": {**STATUS, "retweeted_status": STATUS},
                "reply_comment": COMMENT,
            }
        )
    else:
        top.update({k: "JSON" for k in COMMENT_KEYS})
    top.update({k: "JSON" for k in PAGE_KEYS})
    return json.dumps(top)


def marks(comments: bool) -> list[str]:
    """Columns of the mapped records that say a chunk holds comments or API pages."""
    comment = " OR ".join(f"s.{k} IS NOT NULL" for k in COMMENT_KEYS)
    page = " OR ".join(f"s.{k} IS NOT NULL" for k in PAGE_KEYS)
    return [f"{'false' if comments else comment} AS comment_mark", f"({page}) AS page_mark"]


MACROS = [
    *SQL_MACROS,
    r"""CREATE OR REPLACE TEMP MACRO gw_digits(x) AS
        CASE WHEN regexp_full_match(x, '[0-9]{1,20}') THEN x END""",
    "CREATE OR REPLACE TEMP MACRO gw_id(a, b) AS coalesce(gw_digits(a), gw_digits(b))",
    "CREATE OR REPLACE TEMP MACRO gw_int(x) AS TRY_CAST(gw_digits(x) AS BIGINT)",
    """CREATE OR REPLACE TEMP MACRO gw_bool(x) AS CASE lower(x)
        WHEN 'true' THEN true WHEN '1' THEN true WHEN 'false' THEN false WHEN '0' THEN false END""",
    "CREATE OR REPLACE TEMP MACRO gw_q(x) AS '''' || left(x, 60) || ''''",
    # Sina's own format first; ISO with an offset; naive times are Beijing time;
    # bare epoch seconds.
    r"""CREATE OR REPLACE TEMP MACRO gw_ts_raw(x) AS coalesce(
        try_strptime(x, '%a %b %d %H:%M:%S %z %Y'),
        CASE WHEN regexp_full_match(x, '\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)')
             THEN TRY_CAST(x AS TIMESTAMPTZ) END,
        CASE WHEN regexp_full_match(x, '\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?')
             THEN (TRY_CAST(replace(x, 'T', ' ') AS TIMESTAMP) - INTERVAL 8 HOUR)::TIMESTAMPTZ END,
        CASE WHEN regexp_full_match(x, '\d{9,10}') THEN to_timestamp(TRY_CAST(x AS BIGINT)) END)""",
    """CREATE OR REPLACE TEMP MACRO gw_ts(x) AS CASE
        WHEN gw_ts_raw(x) BETWEEN TIMESTAMPTZ '2000-01-01 00:00:00+00'
             AND now() + INTERVAL 1 DAY THEN gw_ts_raw(x) END""",
    r"""CREATE OR REPLACE TEMP MACRO gw_chain(t) AS
        regexp_extract_all(t, '//@([^:：\s/]{1,40})[:：]', 1)""",
    """CREATE OR REPLACE TEMP MACRO gw_source(s) AS
        coalesce(nullif(regexp_extract(s, '>([^<]*)</a>', 1), ''), s)""",
]


def _post_fields(p: str) -> list[tuple[str, str]]:
    rt = (
        f"gw_id({p}.retweeted_status.idstr, {p}.retweeted_status.id)"
        if p in ("s", "s.status")
        else "NULL::VARCHAR"
    )
    return [
        ("post_id", f"gw_id({p}.idstr, {p}.id)"),
        ("mid", f"gw_mid(gw_id({p}.idstr, {p}.id))"),
        ("author_id", f"gw_id({p}.user.idstr, {p}.user.id)"),
        ("created_at", f"gw_ts({p}.created_at)"),
        ("text", f"{p}.text"),
        ("source", f"gw_source({p}.source)"),
        ("reposts", f"gw_int({p}.reposts_count)"),
        ("comments", f"gw_int({p}.comments_count)"),
        ("likes", f"gw_int({p}.attitudes_count)"),
        ("retweeted_post_id", rt),
        ("repost_chain", f"gw_chain({p}.text)"),
        ("is_truncated", f"coalesce(gw_bool({p}.truncated), false)"),
        (
            "pic_count",
            f"coalesce(len({p}.pic_urls)::INTEGER, "
            f"CASE WHEN {p}.thumbnail_pic IS NOT NULL THEN 1 ELSE 0 END)",
        ),
        ("has_video", f"coalesce({p}.page_info.type = 'video', false)"),
        (
            "has_url",
            f"coalesce(contains({p}.text, 'http://') OR contains({p}.text, 'https://'), false)",
        ),
    ]


def _user_fields(p: str) -> list[tuple[str, str]]:
    return [
        ("account_id", f"gw_id({p}.idstr, {p}.id)"),
        ("screen_name", f"coalesce({p}.screen_name, {p}.name)"),
        ("description", f"{p}.description"),
        ("url", f"nullif({p}.url, '')"),
        ("verified", f"gw_bool({p}.verified)"),
        ("verified_type", f"TRY_CAST({p}.verified_type AS INTEGER)"),
        ("verified_reason", f"nullif({p}.verified_reason, '')"),
        ("province_code", f"{p}.province"),
        ("city_code", f"{p}.city"),
        ("location", f"{p}.location"),
        ("gender", f"{p}.gender"),
        ("created_at", f"gw_ts({p}.created_at)"),
        ("followers", f"gw_int({p}.followers_count)"),
        ("friends", f"gw_int({p}.friends_count)"),
        ("statuses", f"gw_int({p}.statuses_count)"),
        ("favourites", f"gw_int({p}.favourites_count)"),
    ]


def _interaction_fields(p: str, status: str | None) -> list[tuple[str, str]]:
    reply = "s.reply_comment" if p == "s" else None
    none = "NULL::VARCHAR"
    return [
        ("interaction_id", f"gw_id({p}.idstr, {p}.id)"),
        (
            "kind",
            "CASE WHEN s.reply_comment IS NOT NULL THEN 'reply' ELSE 'comment' END"
            if reply
            else "'comment'",
        ),
        ("actor_id", f"gw_id({p}.user.idstr, {p}.user.id)"),
        ("actor_name", f"coalesce({p}.user.screen_name, {p}.user.name)"),
        ("post_id", f"gw_id({status}.idstr, {status}.id)" if status else none),
        ("target_account_id", f"gw_id({status}.user.idstr, {status}.user.id)" if status else none),
        ("reply_to_id", f"gw_id({reply}.idstr, {reply}.id)" if reply else none),
        ("reply_to_account_id", f"gw_id({reply}.user.idstr, {reply}.user.id)" if reply else none),
        ("created_at", f"gw_ts({p}.created_at)"),
        ("text", f"{p}.text"),
        ("likes", f"gw_int({p}.like_counts)"),
    ]


@dataclass(frozen=True)
class Entity:
    """One object a record may carry, mapped to rows of one table."""

    alias: str  # column prefix in the mapped table
    path: str  # where the object sits in the parsed record `s`
    table: str  # posts | users | interactions
    role: str  # p: the record itself; u: a user record itself; s: an object it carries
    kinds: tuple[str, ...]  # the record kinds it is read from
    check: str | None = None  # status | user | comment: how it is validated
    label: str = ""  # prefix of field names in reasons
    required: bool = False  # the record itself is always checked, a carried object if present


KEYS = {"posts": "post_id", "users": "account_id", "interactions": "interaction_id"}

# Raw count field -> mapped column, per kind of check, in the order reasons are sought.
_COUNTS = {
    "status": [
        ("reposts_count", "reposts"),
        ("comments_count", "comments"),
        ("attitudes_count", "likes"),
    ],
    "user": [
        ("followers_count", "followers"),
        ("friends_count", "friends"),
        ("statuses_count", "statuses"),
        ("favourites_count", "favourites"),
    ],
    "comment": [("like_counts", "likes")],
}
_KEY_OF_CHECK = {"status": "post_id", "user": "account_id", "comment": "interaction_id"}


def entities(comments: bool, users: bool) -> list[Entity]:
    """What a chunk's records are mapped to; per record kind, in the order checks run."""
    st, cm = ("status",), ("comment",)
    out = [
        Entity("P", "s", "posts", "p", st, "status", "", True),
        Entity("U1", "s.user", "users", "s", st + cm, "user", "user."),
        Entity("R", "s.retweeted_status", "posts", "s", st, "status", "retweeted_status."),
        Entity("U2", "s.retweeted_status.user", "users", "s", st, "user", "retweeted_status.user."),
    ]
    if users:
        out.append(Entity("U0", "s", "users", "u", ("user",), "user", "", True))
    if comments:
        out += [
            Entity("C", "s", "interactions", "p", cm, "comment", "", True),
            Entity("S", "s.status", "posts", "s", cm, "status", "status."),
            Entity("U3", "s.status.user", "users", "s", cm, "user", "status.user."),
            Entity("SR", "s.status.retweeted_status", "posts", "s", cm),
            Entity("U4", "s.status.retweeted_status.user", "users", "s", cm),
            Entity("RC", "s.reply_comment", "interactions", "s", cm, "comment", "reply_comment."),
            Entity("U5", "s.reply_comment.user", "users", "s", cm, "user", "reply_comment.user."),
        ]
    return out


def _fields(e: Entity) -> list[tuple[str, str]]:
    if e.table == "posts":
        # The base62 mid is derived from post_id (sina_ids.ids_to_mids) only for rows kept.
        return [f for f in _post_fields(e.path) if f[0] != "mid"]
    if e.table == "users":
        return _user_fields(e.path)
    return _interaction_fields(e.path, "s.status" if e.path == "s" else None)


def kind_expr(comments: bool) -> str:
    comment = "WHEN s.status IS NOT NULL OR s.reply_comment IS NOT NULL THEN 'comment'"
    return f"""CASE
    {comment if comments else ""}
    WHEN s.text IS NOT NULL THEN 'status'
    WHEN s.screen_name IS NOT NULL OR s.followers_count IS NOT NULL THEN 'user'
    END"""


def _raw_columns(e: Entity) -> list[str]:
    """The unmapped values a check quotes, and whether the object is there at all."""
    assert e.check is not None
    a, p = e.alias, e.path
    cols = [
        f"({p} IS NOT NULL) AS {a}__present",
        f"coalesce({p}.idstr, {p}.id) AS {a}__rid",
        f"{p}.created_at AS {a}__rcreated",
    ]
    cols += [f"{p}.{raw} AS {a}__r{raw}" for raw, _ in _COUNTS[e.check]]
    if e.check == "user":
        cols.append(f"{p}.verified_type AS {a}__rverified_type")
    return cols


def _checks(e: Entity) -> list[str]:
    """Reasons, first one wrong wins: a raw value present whose mapped value is NULL."""
    assert e.check is not None
    a, lab = e.alias, e.label
    key = f"{a}__{_KEY_OF_CHECK[e.check]}"
    checks = [
        f"""CASE WHEN {a}__rid IS NULL THEN 'field ''{lab}id'': missing'
            WHEN {key} IS NULL THEN 'field ''{lab}id'': not a numeric id: ' || gw_q({a}__rid) END""",
        f"""CASE {f"WHEN {a}__rcreated IS NULL THEN 'field ''{lab}created_at'': missing'" if e.check != "user" else ""}
            WHEN {a}__rcreated IS NOT NULL AND {a}__created_at IS NULL
            THEN 'field ''{lab}created_at'': not a date in a known format, or impossible: '
                 || gw_q({a}__rcreated) END""",
    ]
    checks += [
        f"""CASE WHEN {a}__r{raw} IS NOT NULL AND {a}__{col} IS NULL
            THEN 'field ''{lab}{raw}'': expected a non-negative integer, got ' || gw_q({a}__r{raw})
            END"""
        for raw, col in _COUNTS[e.check]
    ]
    if e.check == "user":
        # Not silently NULL: a verified_type that is no 32-bit integer says the record is
        # not what it claims (the native scan declines such a chunk, so SQL judges).
        checks.append(
            f"""CASE WHEN {a}__rverified_type IS NOT NULL AND {a}__verified_type IS NULL
            THEN 'field ''{lab}verified_type'': expected a 32-bit integer, got '
                 || gw_q({a}__rverified_type) END"""
        )
    if e.required:
        return checks
    return [f"CASE WHEN {a}__present THEN {c} END" for c in checks]


def mapped_query(comments: bool, users: bool, source: str) -> str:
    """Every record of `source` (line, item, text) parsed once and mapped to every entity
    it may carry, with `problem`: the first thing wrong with it, or NULL."""
    ents = entities(comments, users)
    mapped = [f"{expr} AS {e.alias}__{name}" for e in ents for name, expr in _fields(e)]
    checked = [e for e in ents if e.check]
    raw = [c for e in checked for c in _raw_columns(e)]
    raw_names = [c.rsplit(" AS ", 1)[1] for c in raw]
    branches = []
    for kind in ("status", "comment", "user"):
        group = [c for e in checked if kind in e.kinds for c in _checks(e)]
        if group and (kind != "comment" or comments):
            branches.append(f"WHEN '{kind}' THEN coalesce({', '.join(group)})")
    if not users:
        # Filled in by the caller's second pass, which maps user records too.
        branches.append("WHEN 'user' THEN NULL")
    problem = f"""CASE kind {" ".join(branches)}
        ELSE 'not a Sina status, comment or user object (no text or screen_name field)' END"""
    return f"""SELECT * EXCLUDE ({", ".join(raw_names)}), {problem} AS problem FROM (
        SELECT line, item, kind, {", ".join(mapped + raw + marks(comments))} FROM (
            SELECT line, item, s, {kind_expr(comments)} AS kind FROM (
                SELECT line, item, json_transform(text, '{top_structure(comments)}') AS s
                FROM ({source}))))"""


def entity_query(table: str, comments: bool, users: bool) -> str | None:
    """Rows of one table from the mapped records (temp table `mapped`) that passed."""
    parts = []
    key = KEYS[table]
    for e in entities(comments, users):
        if e.table != table:
            continue
        names = [name for name, _ in _fields(e)]
        cols = [f"{e.alias}__{n} AS {n}" for n in names]
        kinds = ", ".join(f"'{k}'" for k in e.kinds)
        parts.append(
            f"SELECT '{e.role}' AS role, {', '.join(cols)} FROM mapped "
            f"WHERE problem IS NULL AND kind IN ({kinds}) AND {e.alias}__{key} IS NOT NULL"
        )
    return " UNION ALL ".join(parts) if parts else None
