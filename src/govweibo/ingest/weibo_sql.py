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


def post_select(p: str) -> str:
    return f"""SELECT 'weibo' AS platform,
        gw_id({p}.idstr, {p}.id) AS post_id,
        gw_mid(gw_id({p}.idstr, {p}.id)) AS mid,
        gw_id({p}.user.idstr, {p}.user.id) AS author_id,
        gw_ts({p}.created_at) AS created_at,
        {p}.text AS text,
        gw_source({p}.source) AS source,
        gw_int({p}.reposts_count) AS reposts,
        gw_int({p}.comments_count) AS comments,
        gw_int({p}.attitudes_count) AS likes,
        $observed_at AS counts_observed_at,
        {
        "gw_id(" + p + ".retweeted_status.idstr, " + p + ".retweeted_status.id)"
        if p in ("s", "s.status")
        else "NULL"
    } AS retweeted_post_id,
        NULL AS parent_post_id,
        gw_chain({p}.text) AS repost_chain,
        coalesce(gw_bool({p}.truncated), false) AS is_truncated,
        coalesce(json_array_length({p}.pic_urls)::INTEGER,
                 CASE WHEN {p}.thumbnail_pic IS NOT NULL THEN 1 ELSE 0 END) AS pic_count,
        coalesce(json_extract_string({p}.page_info, '$.type') = 'video', false) AS has_video,
        regexp_matches(coalesce({p}.text, ''), 'https?://') AS has_url
    FROM v"""


def account_select(p: str) -> str:
    return f"""SELECT 'weibo' AS platform,
        gw_id({p}.idstr, {p}.id) AS account_id,
        coalesce({p}.screen_name, {p}.name) AS screen_name,
        {p}.description AS description,
        nullif({p}.url, '') AS url,
        gw_bool({p}.verified) AS verified,
        TRY_CAST({p}.verified_type AS INTEGER) AS verified_type,
        nullif({p}.verified_reason, '') AS verified_reason,
        {p}.province AS province_code,
        {p}.city AS city_code,
        {p}.location AS location,
        {p}.gender AS gender,
        gw_ts({p}.created_at) AS created_at,
        $observed_at AS profile_observed_at
    FROM v"""


def observation_select(p: str) -> str:
    return f"""SELECT 'weibo' AS platform,
        gw_id({p}.idstr, {p}.id) AS account_id,
        $observed_at AS observed_at,
        gw_int({p}.followers_count) AS followers,
        gw_int({p}.friends_count) AS friends,
        gw_int({p}.statuses_count) AS statuses,
        gw_int({p}.favourites_count) AS favourites
    FROM v"""


def interaction_select(p: str, status: str | None) -> str:
    post = f"gw_id({status}.idstr, {status}.id)" if status else "NULL"
    target = f"gw_id({status}.user.idstr, {status}.user.id)" if status else "NULL"
    reply = "s.reply_comment" if p == "s" else None
    return f"""SELECT 'weibo' AS platform,
        gw_id({p}.idstr, {p}.id) AS interaction_id,
        {
        "CASE WHEN s.reply_comment IS NOT NULL THEN 'reply' ELSE 'comment' END"
        if reply
        else "'comment'"
    } AS kind,
        gw_id({p}.user.idstr, {p}.user.id) AS actor_id,
        coalesce({p}.user.screen_name, {p}.user.name) AS actor_name,
        {post} AS post_id,
        {target} AS target_account_id,
        {f"gw_id({reply}.idstr, {reply}.id)" if reply else "NULL"} AS reply_to_id,
        {f"gw_id({reply}.user.idstr, {reply}.user.id)" if reply else "NULL"}
            AS reply_to_account_id,
        gw_ts({p}.created_at) AS created_at,
        {p}.text AS text,
        gw_int({p}.like_counts) AS likes
    FROM v"""


OK = "problem IS NULL"


def output_queries(timeline: bool, comments: bool) -> dict[str, dict[str, list[str]]]:
    """table -> {'primary': [...], 'secondary': [...]} SELECTs over the validated view v."""
    q = _all_queries(timeline, comments)
    if not comments:
        q.pop("interactions")
    return q


def _all_queries(timeline: bool, comments: bool) -> dict[str, dict[str, list[str]]]:
    # Without comment branches in the struct, no query may name them.
    only = (lambda xs: xs) if comments else (lambda xs: [])
    users_nested = [
        ("s.user", "kind IN ('status', 'comment')"),
        ("s.retweeted_status.user", "kind = 'status'"),
        *only(
            [
                ("s.status.user", "kind = 'comment'"),
                ("s.status.retweeted_status.user", "kind = 'comment'"),
                ("s.reply_comment.user", "kind = 'comment'"),
            ]
        ),
    ]
    has_id = "gw_id({p}.idstr, {p}.id) IS NOT NULL"
    q: dict[str, dict[str, list[str]]] = {
        "posts": {
            "primary": [f"{post_select('s')} WHERE {OK} AND kind = 'status'"],
            "secondary": [
                f"{post_select('s.retweeted_status')} WHERE {OK} AND kind = 'status' "
                f"AND {has_id.format(p='s.retweeted_status')}",
                *only(
                    [
                        f"{post_select('s.status')} WHERE {OK} AND kind = 'comment' "
                        f"AND {has_id.format(p='s.status')}",
                        f"{post_select('s.status.retweeted_status')} WHERE {OK} "
                        f"AND kind = 'comment' AND {has_id.format(p='s.status.retweeted_status')}",
                    ]
                ),
            ],
        },
        "accounts": {
            "primary": [],
            "secondary": [f"{account_select('s')} WHERE {OK} AND kind = 'user'"]
            + [
                f"{account_select(p)} WHERE {OK} AND {cond} AND {has_id.format(p=p)}"
                for p, cond in users_nested
            ],
        },
        "account_observations": {
            "primary": [f"{observation_select('s')} WHERE {OK} AND kind = 'user'"],
            "secondary": [
                f"{observation_select(p)} WHERE {OK} AND {cond} AND {has_id.format(p=p)} "
                f"AND {p}.followers_count IS NOT NULL"
                for p, cond in users_nested
            ],
        },
        "interactions": {
            "primary": [f"{interaction_select('s', 's.status')} WHERE {OK} AND kind = 'comment'"],
            "secondary": [
                f"{interaction_select('s.reply_comment', None)} WHERE {OK} AND kind = 'comment' "
                f"AND {has_id.format(p='s.reply_comment')}"
            ],
        },
    }
    if timeline:
        q["timeline_sightings"] = {
            "primary": [],
            "secondary": [
                "SELECT 'weibo' AS platform, gw_id(s.user.idstr, s.user.id) AS account_id, "
                "gw_id(s.idstr, s.id) AS post_id, $observed_at AS observed_at FROM v "
                f"WHERE {OK} AND kind = 'status' AND s.user IS NOT NULL"
            ],
        }
    return q
