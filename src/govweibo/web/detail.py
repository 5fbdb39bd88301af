"""Account lists, one account's page data, and data health; parameterised SQL only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from govweibo.errors import AnalysisError, NotFoundError
from govweibo.store import inspect
from govweibo.web.queries import FILTERS, INDEX_TABLE, Data, clean

ACCOUNT_COLUMNS = (
    "a.platform, a.account_id, a.screen_name, a.verified, a.verified_type, a.location, a.created_at"
)
PROFILE_COLUMNS = ("is_government", "kind", "sector", "level", "province", "region", "family")


def page(total: int, limit: int, offset: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"total": int(total), "limit": limit, "offset": offset, "items": items}


def accounts(
    data: Data, *, filters: dict[str, str], q: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """Accounts with their classification, filtered by profile columns and a name substring."""
    prof = data.has("account_profiles")
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise AnalysisError(f"unknown filter(s) {sorted(unknown)}")
    where, params = ["TRUE"], []
    if filters and not prof:
        where.append("FALSE")  # nothing is classified yet
    for name, value in sorted(filters.items()):
        if prof:
            where.append(f'p."{name}" = ?')
            params.append(value)
    if q:
        where.append("contains(lower(a.screen_name), lower(?))")
        params.append(q)
    cols = ACCOUNT_COLUMNS
    join = ""
    if prof:
        cols += ", " + ", ".join(f'p."{c}"' for c in PROFILE_COLUMNS if c != "family")
        join = "LEFT JOIN account_profiles p USING (platform, account_id)"
    base = f"FROM accounts a {join} WHERE {' AND '.join(where)}"
    total = data.scalar(f"SELECT count(*) {base}", params)
    rows = data.rows(
        f"SELECT {cols} {base} ORDER BY a.platform, a.account_id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return page(total, limit, offset, rows)


def _evidence(value: Any) -> list[str]:
    """account_profiles.evidence as a list of readable strings (JSON list, list or text)."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            # The registry writes "rule=...; verified_type=...; sector=...".
            return [part.strip() for part in value.split(";") if part.strip()]
    if isinstance(value, dict):
        return [f"{k}: {v}" for k, v in value.items()]
    if isinstance(value, list):
        return [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in value]
    return [str(value)]


def account(data: Data, platform: str, account_id: str) -> dict[str, Any]:
    rows = data.rows(
        "SELECT * EXCLUDE (run_id) FROM accounts WHERE platform = ? AND account_id = ?",
        [platform, account_id],
    )
    if not rows:
        raise NotFoundError(f"no account {platform}/{account_id}")
    out: dict[str, Any] = {"account": rows[0], "profile": None}
    if data.has("account_profiles"):
        prof = data.rows(
            "SELECT * FROM account_profiles WHERE platform = ? AND account_id = ?",
            [platform, account_id],
        )
        if prof:
            prof[0]["evidence"] = _evidence(prof[0].get("evidence"))
            out["profile"] = prof[0]
    return out


def _exists(data: Data, platform: str, account_id: str) -> None:
    if not data.scalar(
        "SELECT count(*) FROM accounts WHERE platform = ? AND account_id = ?",
        [platform, account_id],
    ):
        raise NotFoundError(f"no account {platform}/{account_id}")


def observations(
    data: Data, platform: str, account_id: str, *, limit: int, offset: int
) -> dict[str, Any]:
    _exists(data, platform, account_id)
    where = "FROM account_observations WHERE platform = ? AND account_id = ?"
    params: list[Any] = [platform, account_id]
    total = data.scalar(f"SELECT count(*) {where}", params)
    rows = data.rows(
        f"SELECT observed_at, followers, friends, statuses, favourites {where} "
        "ORDER BY observed_at LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return page(total, limit, offset, rows)


def posts(data: Data, platform: str, account_id: str, *, limit: int, offset: int) -> dict[str, Any]:
    """The account's posts, newest first."""
    _exists(data, platform, account_id)
    where = "FROM posts WHERE platform = ? AND author_id = ?"
    params: list[Any] = [platform, account_id]
    total = data.scalar(f"SELECT count(*) {where}", params)
    rows = data.rows(
        f"SELECT post_id, created_at, text, reposts, comments, likes, retweeted_post_id {where} "
        "ORDER BY created_at DESC NULLS LAST, post_id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return page(total, limit, offset, rows)


def index_history(data: Data, platform: str, account_id: str, method: str) -> list[dict[str, Any]]:
    """The account's score and rank per precomputed period (empty without index_scores)."""
    _exists(data, platform, account_id)
    if not data.has(INDEX_TABLE):
        return []
    return data.rows(
        f'SELECT period, score, "rank" FROM {INDEX_TABLE} '
        "WHERE platform = ? AND account_id = ? AND method = ? ORDER BY period",
        [platform, account_id, method],
    )


# Data health -------------------------------------------------------------------------------


def status(data: Data) -> dict[str, Any]:
    s = inspect.status(data.view())
    return {
        "path": Path(s.path).name,  # the file name only: no server paths on the web
        "counts": s.counts,
        "first_post": s.first_post,
        "last_post": s.last_post,
        "platforms": [
            {"platform": p, "accounts": a, "verified": v, "posts": n} for p, a, v, n in s.platforms
        ],
    }


def runs(data: Data, *, limit: int, offset: int) -> dict[str, Any]:
    if offset == 0:
        rows = clean(inspect.runs(data.view(), limit=limit))
    else:
        rows = data.rows(
            "SELECT * FROM ingest_runs ORDER BY run_id DESC LIMIT ? OFFSET ?", [limit, offset]
        )
    return page(data.scalar("SELECT count(*) FROM ingest_runs"), limit, offset, rows)


def quarantine(data: Data, *, source: str | None, limit: int, offset: int) -> dict[str, Any]:
    if offset == 0:
        total, rows = inspect.quarantine(data.view(), limit=limit, source=source)
        return page(total, limit, offset, clean(rows))
    where = "WHERE contains(source_path, ?)" if source else ""
    params: list[Any] = [source] if source else []
    total = data.scalar(f"SELECT count(*) FROM quarantine {where}", params)
    rows = data.rows(
        f"SELECT * FROM quarantine {where} ORDER BY source_path, line, item LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return page(total, limit, offset, rows)
