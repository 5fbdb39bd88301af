"""Idempotent batch writes: natural keys, upserts, quarantine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govweibo import model
from govweibo.store.keys import with_author_keys

# Which timestamp decides that one version of a row is newer than another.
_NEWER_BY = {
    "accounts": "profile_observed_at",
    "account_observations": "observed_at",
    "posts": "counts_observed_at",
    "interactions": "created_at",
    "post_labels": "run_id",
    "timeline_sightings": "observed_at",
}


def newer_by(table: str) -> str:
    """The column that says which of two versions of a row is the newer."""
    return _NEWER_BY[table]


def _newer(table: str) -> str:
    o = _NEWER_BY[table]
    return f'd."{o}" IS NOT NULL AND (t."{o}" IS NULL OR d."{o}" > t."{o}")'


def _fills(cols: list[str]) -> tuple[list[str], str]:
    """SETs that fill what the stored row lacks, and whether there is anything to fill."""
    sets = [f'"{c}" = COALESCE(t."{c}", d."{c}")' for c in cols]
    return sets, " OR ".join(f'(t."{c}" IS NULL AND d."{c}" IS NOT NULL)' for c in cols)


def _update(table: str) -> tuple[str, str] | None:
    """How a re-seen row `d` updates the stored row `t`: (SET list, when), or None to
    keep the stored one. Rows that would change nothing are never rewritten, so a
    re-run of the same file rewrites nothing."""
    rest = [c for c in model.schema_of(table).names if c not in model.key_of(table)]
    rest = [c for c in rest if c != "run_id"]
    if table == "accounts":
        # Newer profile wins, but a missing field never erases a known one.
        return ", ".join(f'"{c}" = COALESCE(d."{c}", t."{c}")' for c in rest), _newer(table)
    if table == "posts":
        # Counts: the newer observation's. Everything else, and counts a copy lacked:
        # what was stored, filled in from a fuller copy (a post first seen as the stub a
        # repost carries).
        counts = ["reposts", "comments", "likes", "counts_observed_at"]
        sets, _ = _fills([c for c in rest if c not in counts])
        _, missing = _fills(rest)
        for c in counts:
            sets.append(
                f'"{c}" = CASE WHEN t.counts_observed_at IS NULL OR '
                "d.counts_observed_at > t.counts_observed_at "
                f'THEN COALESCE(d."{c}", t."{c}") ELSE COALESCE(t."{c}", d."{c}") END'
            )
        return ", ".join(sets), f"({_newer(table)}) OR {missing}"
    if table == "interactions":
        # A comment first seen as the `reply_comment` another comment carries lacks
        # its post; the comment's own record fills it in.
        sets, missing = _fills(rest)
        return ", ".join(sets), missing
    if table == "post_labels":
        return '"label" = d."label", "run_id" = d."run_id"', _newer(table)
    return None


@dataclass
class WriteCounts:
    stored: int = 0
    duplicate: int = 0


def _newest_per_key(con: duckdb.DuckDBPyConnection, data: pa.Table, table: str) -> np.ndarray:
    """Row numbers of one row per key of `data`: the newest by `newer_by(table)`, nulls
    oldest, the first row among equals."""
    order = data.column(_NEWER_BY[table]).cast(pa.int64())
    narrow = pa.table(
        {
            **{f"k{i}": data.column(k) for i, k in enumerate(model.key_of(table))},
            "_o": pc.fill_null(order, np.iinfo(np.int64).min),
            "_i": np.arange(data.num_rows, dtype=np.int64),
        }
    )
    keys = ", ".join(f"k{i}" for i in range(len(model.key_of(table))))
    con.register("_keys", narrow)
    try:
        # (order, -row) packed into one HUGEINT: a fixed-width arg_max is far cheaper
        # than one over a struct.
        got = con.execute(
            f"SELECT arg_max(_i, _o::HUGEINT * 4294967296 - _i) AS i FROM _keys GROUP BY {keys}"
        )
        return got.fetchnumpy()["i"]
    finally:
        con.unregister("_keys")


def _upsert(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> tuple[int, int]:
    """Insert rows whose key is new, update re-seen ones that carry something newer;
    return (new rows, distinct rows offered).

    The data tables have no key index (schema version 3): keys stay unique because
    every write goes through here, inside one transaction, and DuckDB lets one
    process write a store at a time."""
    if data.num_rows == 0:
        return 0, 0
    data = model.conform(table, data)
    if table == "posts":
        data = with_author_keys(con, data)
    join = " AND ".join(f't."{k}" = d."{k}"' for k in model.key_of(table))
    view = f"_batch_{table}"
    con.register(view, data)
    try:
        # One row per key, the newest (ties: the first): chosen over the key and
        # order columns alone, then taken in Arrow, so wide rows are never copied
        # through a window. Most batches of posts repeat no key and are used as they are.
        winners = _newest_per_key(con, data, table)
        offered = len(winners)
        source = view
        if offered < data.num_rows:
            con.register("_dedup", data.take(pa.array(np.sort(winners))))
            source = "_dedup"
        # An anti-join: DuckDB builds its hash table on the batch and streams the
        # stored keys past it.
        new = con.execute(
            f'INSERT INTO "{table}" SELECT * FROM {source} AS d '
            f'WHERE NOT EXISTS (SELECT 1 FROM "{table}" AS t WHERE {join})'
        ).fetchone()[0]  # type: ignore[index]
        update = _update(table)
        if update and new < offered:
            # Rows just inserted are equal to their stored copy: `when` leaves them alone.
            sets, when = update
            con.execute(
                f'UPDATE "{table}" AS t SET {sets} FROM {source} AS d WHERE {join} AND ({when})'
            )
    finally:
        con.unregister(view)
        con.unregister("_dedup")
    return int(new), int(offered)


def write_batch(
    con: duckdb.DuckDBPyConnection,
    batch: model.Batch,
    *,
    run_id: int,
    source_path: str,
    fmt: str,
) -> WriteCounts:
    """Write one batch inside the caller's transaction."""
    counts = WriteCounts()
    for table in model.DATA_TABLES:
        if table in batch.primary:
            new, offered = _upsert(con, table, _with_run(batch.primary[table], run_id))
            counts.stored += new
            counts.duplicate += offered - new
            # Rows repeated inside the batch itself are duplicates too.
            counts.duplicate += batch.primary[table].num_rows - offered
        if table in batch.secondary:
            _upsert(con, table, _with_run(batch.secondary[table], run_id))
    if batch.rejects:
        write_rejects(con, batch.rejects, run_id=run_id, source_path=source_path, fmt=fmt)
    return counts


def _with_run(data: pa.Table, run_id: int) -> pa.Table:
    col = model.constant(run_id, pa.int64(), data.num_rows)
    if "run_id" in data.column_names:
        return data.set_column(data.column_names.index("run_id"), "run_id", col)
    return data.append_column("run_id", col)


def write_rejects(
    con: duckdb.DuckDBPyConnection,
    rejects: list[model.Reject],
    *,
    run_id: int,
    source_path: str,
    fmt: str,
) -> None:
    now = datetime.now(UTC)
    rows = pa.Table.from_pylist(
        [
            {
                "source_path": r.path or source_path,
                "line": r.line,
                "item": r.item,
                "run_id": run_id,
                "format": fmt,
                "field": r.field,
                "reason": r.reason,
                "raw": r.raw,
                "quarantined_at": now,
            }
            for r in rejects
        ],
        schema=model.QUARANTINE,
    )
    con.register("_rejects", rows)
    try:
        # Re-reading the same file refreshes its rejects instead of doubling them.
        con.execute(
            "INSERT INTO quarantine SELECT * FROM _rejects "
            "QUALIFY row_number() OVER (PARTITION BY source_path, line, item) = 1 "
            "ON CONFLICT (source_path, line, item) DO UPDATE SET run_id = excluded.run_id, "
            "format = excluded.format, field = excluded.field, reason = excluded.reason, "
            "raw = excluded.raw, quarantined_at = excluded.quarantined_at"
        )
    finally:
        con.unregister("_rejects")
