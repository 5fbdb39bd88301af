"""Read-only views of the store's own state, for faces to render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from govweibo.store import Store
from govweibo.store.schema import COLLECT_TABLES


@dataclass
class StoreStatus:
    path: str
    counts: dict[str, int]
    first_post: datetime | None
    last_post: datetime | None
    platforms: list[tuple[str, int, int, int]]
    schema_version: int = 0
    # Collector state (watch list, cursors, request log); absent from a read-only
    # store that was last opened by a govweibo before schema version 2.
    collect_counts: dict[str, int] = field(default_factory=dict)


def status(store: Store) -> StoreStatus:
    span = store.con.execute("SELECT min(created_at), max(created_at) FROM posts").fetchone()
    platforms = store.con.execute(
        """SELECT platform, coalesce(a.n, 0), coalesce(a.verified, 0), coalesce(p.n, 0)
        FROM (SELECT platform, count(*) AS n, count(*) FILTER (WHERE verified) AS verified
              FROM accounts GROUP BY platform) a
        FULL JOIN (SELECT platform, count(*) AS n FROM posts GROUP BY platform) p USING (platform)
        ORDER BY platform"""
    ).fetchall()
    return StoreStatus(
        path=store.path,
        counts=store.counts(),
        first_post=span[0] if span else None,
        last_post=span[1] if span else None,
        platforms=[(str(p), int(a), int(v), int(n)) for p, a, v, n in platforms],
        schema_version=store.schema_version(),
        collect_counts={
            name: int(store.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # type: ignore[index]
            for name in COLLECT_TABLES
            if store.has_table(name)
        },
    )


def runs(store: Store, *, limit: int = 50) -> list[dict[str, Any]]:
    return store.arrow(
        "SELECT * FROM ingest_runs ORDER BY run_id DESC LIMIT ?", [limit]
    ).to_pylist()


def quarantine(
    store: Store, *, limit: int = 100, source: str | None = None
) -> tuple[int, list[dict[str, Any]]]:
    where = "WHERE contains(source_path, ?)" if source else ""
    params: list[Any] = [source] if source else []
    total = store.con.execute(f"SELECT count(*) FROM quarantine {where}", params).fetchone()
    rows = store.arrow(
        f"SELECT * FROM quarantine {where} ORDER BY source_path, line, item LIMIT ?",
        [*params, limit],
    ).to_pylist()
    return int(total[0]) if total else 0, rows
