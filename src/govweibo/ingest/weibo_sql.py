"""Sina open-API objects -> canonical rows, as DuckDB SQL over one JSON parse per record.

Every statement here is built from the constant field lists below; data never
enters SQL text. Each record is parsed once by `json_transform` into a nested
struct; nested objects that are present but of the wrong type come back as a
struct of all-NULL fields, which the checks report as a missing id.
"""

from __future__ import annotations

import json

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
STATUS.update({"pic_urls": "JSON", "page_info": "JSON", "user": USER})
COMMENT: dict[str, object] = {
    k: "VARCHAR" for k in ["id", "idstr", "created_at", "text", "source", "like_counts"]
}
COMMENT["user"] = USER


def top_structure(comments: bool) -> str:
    """The json_transform structure. Comment branches are left out of chunks without
    comments: materialising a wide, mostly-NULL struct is the main cost of a chunk."""
    top: dict[str, object] = {**USER, **STATUS, "retweeted_status": STATUS}
    if comments:
        top.update(
            {
                "like_counts": "VARCHAR",
                "status": {**STATUS, "retweeted_status": STATUS},
                "reply_comment": COMMENT,
            }
        )
    return json.dumps(top)


PAGE_KEYS = ("statuses", "comments", "users", "reposts")

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


def _missing_or_bad_id(p: str, label: str) -> str:
    return f"""CASE WHEN {p}.id IS NULL AND {p}.idstr IS NULL
            THEN 'field ''{label}id'': missing'
        WHEN gw_id({p}.idstr, {p}.id) IS NULL
            THEN 'field ''{label}id'': not a numeric id: ' || gw_q(coalesce({p}.idstr, {p}.id))
        END"""


def _date(p: str, label: str, required: bool) -> str:
    missing = f"WHEN {p}.created_at IS NULL THEN 'field ''{label}created_at'': missing'"
    return f"""CASE {missing if required else "WHEN false THEN NULL"}
        WHEN {p}.created_at IS NOT NULL AND gw_ts({p}.created_at) IS NULL
            THEN 'field ''{label}created_at'': not a date in a known format, or impossible: '
                 || gw_q({p}.created_at)
        END"""


def _count(p: str, name: str, label: str) -> str:
    return f"""CASE WHEN {p}.{name} IS NOT NULL AND gw_int({p}.{name}) IS NULL
        THEN 'field ''{label}{name}'': expected a non-negative integer, got ' || gw_q({p}.{name})
        END"""


def _user_checks(p: str, label: str) -> list[str]:
    checks = [_missing_or_bad_id(p, label), _date(p, label, required=False)]
    checks += [
        _count(p, c, label)
        for c in ("followers_count", "friends_count", "statuses_count", "favourites_count")
    ]
    return checks


def _optional(p: str, checks: list[str]) -> list[str]:
    return [f"CASE WHEN {p} IS NOT NULL THEN {c} END" for c in checks]


def _status_checks(p: str, label: str) -> list[str]:
    checks = [_missing_or_bad_id(p, label), _date(p, label, required=True)]
    checks += [_count(p, c, label) for c in ("reposts_count", "comments_count", "attitudes_count")]
    checks += _optional(f"{p}.user", _user_checks(f"{p}.user", f"{label}user."))
    return checks


def _comment_checks(p: str, label: str) -> list[str]:
    checks = [_missing_or_bad_id(p, label), _date(p, label, required=True)]
    checks.append(_count(p, "like_counts", label))
    checks += _optional(f"{p}.user", _user_checks(f"{p}.user", f"{label}user."))
    return checks


def problem_expr(comments: bool) -> str:
    """The first thing wrong with a record, or NULL; `kind` must be computed first."""
    status = _status_checks("s", "") + _optional(
        "s.retweeted_status", _status_checks("s.retweeted_status", "retweeted_status.")
    )
    comment = (
        _comment_checks("s", "")
        + _optional("s.status", _status_checks("s.status", "status."))
        + _optional("s.reply_comment", _comment_checks("s.reply_comment", "reply_comment."))
    )
    user = _user_checks("s", "")
    return f"""CASE kind
        WHEN 'status' THEN coalesce({", ".join(status)})
        {f"WHEN 'comment' THEN coalesce({', '.join(comment)})" if comments else ""}
        WHEN 'user' THEN coalesce({", ".join(user)})
        ELSE 'not a Sina status, comment or user object (no text or screen_name field)'
        END"""


def kind_expr(comments: bool) -> str:
    comment = "WHEN s.status IS NOT NULL OR s.reply_comment IS NOT NULL THEN 'comment'"
    return f"""CASE
    {comment if comments else ""}
    WHEN s.text IS NOT NULL THEN 'status'
    WHEN s.screen_name IS NOT NULL OR s.followers_count IS NOT NULL THEN 'user'
    END"""


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
            f"coalesce(json_array_length({p}.pic_urls)::INTEGER, "
            f"CASE WHEN {p}.thumbnail_pic IS NOT NULL THEN 1 ELSE 0 END)",
        ),
        ("has_video", f"coalesce(json_extract_string({p}.page_info, '$.type') = 'video', false)"),
        ("has_url", f"regexp_matches(coalesce({p}.text, ''), 'https?://')"),
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


def _struct(fields: list[tuple[str, str]], role: str, keep: str) -> str:
    body = ", ".join(f"{name} := {expr}" for name, expr in fields)
    return f"struct_pack(role := '{role}', keep := ({keep}), {body})"


def entity_query(table: str, comments: bool, source: str, exclude_bad: bool) -> str | None:
    """A SELECT over `source` (line, item, text) giving every entity row of one kind.

    Each query parses the JSON once with a structure narrowed to what it needs;
    rows of rejected records (the temp table `bad`) are left out.
    """
    only = (lambda xs: xs) if comments else (lambda xs: [])
    if table == "posts":
        entries = [
            (_post_fields("s"), "p", "kind = 'status'", "s"),
            (_post_fields("s.retweeted_status"), "s", "kind = 'status'", "s.retweeted_status"),
            *only(
                [
                    (_post_fields("s.status"), "s", "kind = 'comment'", "s.status"),
                    (
                        _post_fields("s.status.retweeted_status"),
                        "s",
                        "kind = 'comment'",
                        "s.status.retweeted_status",
                    ),
                ]
            ),
        ]
        key = "post_id"
    elif table == "users":
        entries = [
            (_user_fields("s"), "u", "kind = 'user'", "s"),
            (_user_fields("s.user"), "s", "kind IN ('status', 'comment')", "s.user"),
            (
                _user_fields("s.retweeted_status.user"),
                "s",
                "kind = 'status'",
                "s.retweeted_status.user",
            ),
            *only(
                [
                    (_user_fields(p), "s", "kind = 'comment'", p)
                    for p in (
                        "s.status.user",
                        "s.status.retweeted_status.user",
                        "s.reply_comment.user",
                    )
                ]
            ),
        ]
        key = "account_id"
    elif table == "interactions":
        if not comments:
            return None
        entries = [
            (_interaction_fields("s", "s.status"), "p", "kind = 'comment'", "s"),
            (
                _interaction_fields("s.reply_comment", None),
                "s",
                "kind = 'comment'",
                "s.reply_comment",
            ),
        ]
        key = "interaction_id"
    else:
        raise ValueError(table)
    items = ", ".join(
        _struct(fields, role, f"({keep}) AND {dict(fields)[key]} IS NOT NULL")
        for fields, role, keep, _p in entries
    )
    anti = (
        "WHERE NOT EXISTS (SELECT 1 FROM bad WHERE bad.line = r.line AND bad.item = r.item)"
        if exclude_bad
        else ""
    )
    return f"""SELECT u.* EXCLUDE (keep) FROM (
        SELECT unnest([{items}]) AS u FROM (
            SELECT s, {kind_expr(comments)} AS kind FROM (
                SELECT json_transform(r.text, '{top_structure(comments)}') AS s
                FROM ({source}) AS r {anti})))
        WHERE u.keep"""


def problem_query(comments: bool, source: str) -> str:
    """Only the rejected records: line, item and the first thing wrong with each."""
    return f"""SELECT line, item, problem FROM (
        SELECT line, item, {problem_expr(comments)} AS problem FROM (
            SELECT line, item, s, {kind_expr(comments)} AS kind FROM (
                SELECT line, item, json_transform(text, '{top_structure(comments)}') AS s
                FROM ({source}))))
        WHERE problem IS NOT NULL"""
