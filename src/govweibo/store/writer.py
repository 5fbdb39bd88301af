"""Idempotent batch writes: natural keys, upserts, quarantine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govweibo import model
from govweibo.store.keys import add_author_keys
from govweibo.store.repeats import RunRepeats
from govweibo.store.stage_files import STUB_TABLES, STUBS, StageFiles, stub_columns

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


def _fills(cols: list[str]) -> list[str]:
    """SETs that fill what the stored row `t` lacks from the re-seen row `d`."""
    return [f'"{c}" = COALESCE(t."{c}", d."{c}")' for c in cols]


@dataclass
class Update:
    """How a re-seen row `d` updates the stored row `t`: the SET list, applied where `d`
    is newer by `newer_by(table)` (if `newer`) or has a value where `t` has none in one
    of `fills`. Rows that would change nothing are never rewritten, so a re-run of the
    same file rewrites nothing."""

    sets: str
    newer: bool
    fills: list[str]


def _update(table: str) -> Update | None:
    """How a re-seen row updates the stored one, or None to keep the stored one."""
    rest = [c for c in model.schema_of(table).names if c not in model.key_of(table)]
    rest = [c for c in rest if c != "run_id"]
    if table == "accounts":
        # Newer profile wins, but a missing field never erases a known one.
        newest = ", ".join(f'"{c}" = COALESCE(d."{c}", t."{c}")' for c in rest)
        return Update(newest, newer=True, fills=[])
    if table == "posts":
        # Counts: the newer observation's. Everything else, and counts a copy lacked:
        # what was stored, filled in from a fuller copy (a post first seen as the stub a
        # repost carries).
        counts = ["reposts", "comments", "likes", "counts_observed_at"]
        sets = _fills([c for c in rest if c not in counts])
        for c in counts:
            sets.append(
                f'"{c}" = CASE WHEN t.counts_observed_at IS NULL OR '
                "d.counts_observed_at > t.counts_observed_at "
                f'THEN COALESCE(d."{c}", t."{c}") ELSE COALESCE(t."{c}", d."{c}") END'
            )
        return Update(", ".join(sets), newer=True, fills=rest)
    if table == "interactions":
        # A comment first seen as the `reply_comment` another comment carries lacks
        # its post; the comment's own record fills it in.
        return Update(", ".join(_fills(rest)), newer=False, fills=rest)
    if table == "post_labels":
        return Update('"label" = d."label", "run_id" = d."run_id"', newer=True, fills=[])
    return None


def _on_keys(table: str, alias: str) -> str:
    """SQL that matches the stored row `t` with the row `alias` on the table's key."""
    return " AND ".join(f't."{k}" = {alias}."{k}"' for k in model.key_of(table))


def _changed(table: str, update: Update, cols: str, source: str) -> str:
    """SQL for the `_seq` of the rows (`SELECT {cols} FROM {source}`) already stored
    (`_old`) that `update` changes. The join carries only the keys, the order column and
    a null flag per column to fill, not the values (a re-run of 900,000 CED reposts
    joined them, texts and all, and ran out of memory)."""
    keys = model.key_of(table)
    o = _NEWER_BY[table]
    kept = [f'"{k}"' for k in keys] + ([f'"{o}"'] if update.newer else [])
    flags = [f'"{c}" IS NULL AS "_null{i}"' for i, c in enumerate(update.fills)]
    narrow = ", ".join(kept + flags)
    when = [f'(t."_null{i}" AND NOT d."_null{i}")' for i in range(len(update.fills))]
    if update.newer:
        when.insert(0, f'(d."{o}" IS NOT NULL AND (t."{o}" IS NULL OR d."{o}" > t."{o}"))')
    seen = f"SELECT s._seq, {cols} FROM {source} SEMI JOIN _old AS o ON o._seq = s._seq"
    return (
        f"SELECT d._seq FROM (SELECT _seq, {narrow} FROM ({seen})) AS d "
        f'JOIN (SELECT {narrow} FROM "{table}") AS t ON {_on_keys(table, "d")} '
        f"WHERE {' OR '.join(when)}"
    )


@dataclass
class WriteCounts:
    stored: int = 0
    duplicate: int = 0


# Tables whose rows a batch repeats often enough to reduce before staging (every status
# carries its author's profile and follower counts); the merge reduces the others.
REPEATED_PER_BATCH = frozenset({"accounts", "account_observations"})


def _constant(col: pa.ChunkedArray) -> bool:
    if col.null_count or not len(col):
        return False
    bounds = pc.min_max(col)
    return bool(bounds["min"] == bounds["max"])


def _newest_per_key(con: duckdb.DuckDBPyConnection, data: pa.Table, table: str) -> np.ndarray:
    """Row numbers of one row per key of `data`: the newest by `newer_by(table)`, nulls
    oldest, the first row among equals."""
    order = data.column(_NEWER_BY[table]).cast(pa.int64())
    # A key column with one value throughout (the platform, as a rule) tells no rows
    # apart: grouping by it too took twice as long.
    keys = {
        f"k{i}": data.column(k)
        for i, k in enumerate(model.key_of(table))
        if not _constant(data.column(k))
    }
    if not keys:
        keys = {"k0": data.column(model.key_of(table)[0])}
    rows = np.arange(data.num_rows, dtype=np.int64)
    bounds = pc.min_max(order)
    if bounds["min"] == bounds["max"] or order.null_count == len(order):
        # At most one observation time in the batch (a file's records; the stubs a record
        # carries have none): the first row of each key that has it wins, else the first
        # row. Arrow's hash aggregate does it without a round trip to DuckDB.
        timed = pa.array(rows, mask=order.is_null().to_numpy(zero_copy_only=False))
        firsts = (
            pa.table({**keys, "_i": rows, "_t": timed})
            .group_by(list(keys), use_threads=False)
            .aggregate([("_i", "min"), ("_t", "min")])
        )
        return pc.coalesce(firsts.column("_t_min"), firsts.column("_i_min")).to_numpy()
    narrow = pa.table({**keys, "_o": pc.fill_null(order, np.iinfo(np.int64).min), "_i": rows})
    con.register("_keys", narrow)
    try:
        # (order, -row) packed into one HUGEINT: a fixed-width arg_max is far cheaper
        # than one over a struct.
        got = con.execute(
            "SELECT arg_max(_i, _o::HUGEINT * 4294967296 - _i) AS i FROM _keys "
            f"GROUP BY {', '.join(keys)}"
        )
        return got.fetchnumpy()["i"]
    finally:
        con.unregister("_keys")


def stage_batch(
    con: duckdb.DuckDBPyConnection,
    batch: model.Batch,
    *,
    run_id: int,
    seq: int,
    source_path: str,
    fmt: str,
    stage: StageFiles,
    repeats: RunRepeats | None = None,
) -> tuple[int, int]:
    """Append one batch to the stage (pending until the caller publishes it); return
    (rows repeated within the batch's own primary records, next `seq`).

    Nothing is joined with the stored tables here: rows are appended, accounts and their
    observations first reduced to the newest per key within the batch (a source's user
    repeats on every status), and the stubs of STUB_TABLES staged apart. `merge_stage`
    joins the whole run with the store once, so ingest costs time in proportion to the
    data rather than to the data times the store."""
    repeated = 0
    for role, tables in ((True, batch.primary), (False, batch.secondary)):
        for table, raw in tables.items():
            if raw.num_rows == 0:
                continue
            data = model.conform(table, _with_run(raw, run_id))
            if not role and table in STUB_TABLES:
                # Stubs first: they need neither the reduction nor the repeats check
                # (their merge takes each key once, and only where nothing else has it).
                stub = _stubs(data, table)
                if stub.any():
                    stubs = data.filter(pa.array(stub)).select(stub_columns(table))
                    n = stubs.num_rows
                    seqs = pa.array(np.arange(seq, seq + n, dtype=np.int64))
                    stage.write(table + STUBS, stubs.append_column("_seq", seqs))
                    seq += n
                    data = data.filter(pa.array(~stub))
                    if not data.num_rows:
                        continue
            if table not in REPEATED_PER_BATCH:
                winners = np.arange(data.num_rows)
            else:
                winners = _newest_per_key(con, data, table)
            if len(winners) < data.num_rows:
                if role:
                    repeated += data.num_rows - len(winners)
                data = data.take(pa.array(np.sort(winners)))
            if not role and repeats is not None:
                data = repeats.new_rows(table, data)
                if data.num_rows == 0:
                    continue
            n = data.num_rows
            data = data.append_column("_seq", pa.array(np.arange(seq, seq + n, dtype=np.int64)))
            data = data.append_column("_primary", pa.array(np.full(n, role)))
            seq += n
            stage.write(table, data)
    if batch.rejects:
        write_rejects(con, batch.rejects, run_id=run_id, source_path=source_path, fmt=fmt)
    return repeated, seq


def _stubs(data: pa.Table, table: str) -> np.ndarray:
    """Which rows hold nothing but their stub columns (key and run)."""
    stub = np.ones(data.num_rows, bool)
    kept = stub_columns(table)
    for name in model.schema_of(table).names:
        if name not in kept:
            col = data.column(name)
            if col.null_count == 0:
                return np.zeros(data.num_rows, bool)
            stub &= col.is_null().to_numpy(zero_copy_only=False)
    return stub


def _order_key(table: str) -> str:
    """SQL for a staged row's place in 'newest wins, ties: first arrived': one HUGEINT."""
    o = _NEWER_BY[table]
    field = model.schema_of(table).field(o)
    value = f'epoch_us("{o}")' if pa.types.is_timestamp(field.type) else f'"{o}"'
    return f"coalesce({value}, -9223372036854775808)::HUGEINT * 4294967296 - _seq"


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def merge_stage(con: duckdb.DuckDBPyConnection, sources: dict[str, str]) -> WriteCounts:
    """Merge staged rows into their tables inside the caller's transaction; `sources`
    names, per data table, the relation holding its staged rows (stage_files registers
    them); the caller empties the stage once the transaction has committed. Return what
    the staged primary records came to: stored (keys new to the store) and duplicate
    (the rest).

    Per table: the newest staged row per key wins (ties: the first to arrive), filled in
    from its other copies; keys the store lacks are inserted, stored rows are updated as
    `_update` says. Then its stubs (stage_files.STUB_TABLES), if any: keys that nothing
    holds yet. The stored table is read twice per run (its keys, then the rows to
    update), never per batch."""
    counts = WriteCounts()
    for table in model.DATA_TABLES:
        stage = sources.get(table)
        if stage is not None and _count(con, f'SELECT count(*) FROM "{stage}"'):
            _merge_table(con, table, stage, counts)
        if table + STUBS in sources:
            _insert_stubs(con, table, sources[table + STUBS])
    return counts


def _insert_stubs(con: duckdb.DuckDBPyConnection, table: str, stubs: str) -> None:
    """The keys of a table's staged stubs that neither the store nor the run's other rows
    (merged already) hold, as rows of their key alone (the first stub's run)."""
    klist = ", ".join(f'"{k}"' for k in model.key_of(table))
    con.execute(
        f'INSERT INTO "{table}" BY NAME SELECT s.* FROM (SELECT {klist}, '
        f'arg_min(run_id, _seq) AS run_id FROM "{stubs}" GROUP BY {klist}) AS s '
        f'ANTI JOIN "{table}" AS t ON {_on_keys(table, "s")}'
    )


def _merge_table(
    con: duckdb.DuckDBPyConnection, table: str, stage: str, counts: WriteCounts
) -> None:
    """merge_stage for one table: its staged rows, `stage`, into it; adds to `counts`."""
    keys = model.key_of(table)
    klist = ", ".join(f'"{k}"' for k in keys)
    order = _order_key(table)
    # Keys staged more than once, and how many of their copies are primary records.
    # (Only these need ranking: the rest of the stage is one row per key.)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _multikeys AS SELECT {klist}, "
        f'count(*) FILTER (WHERE _primary) AS _np FROM "{stage}" '
        f"GROUP BY {klist} HAVING count(*) > 1"
    )
    # A key staged more than once: the winner's values, and where it lacks one, the
    # next copy's in the same order (a post first seen as the stub a repost carries
    # is completed by its own record, whichever came first).
    # (A window, not arg_max aggregates: it sorts, and sorts spill to disk; string
    # arg_max states ran out of memory at 5M posts under the ingest's memory limit.)
    fills = ", ".join(
        f'last_value("{c}" IGNORE NULLS) OVER w AS "{c}"'
        for c in model.schema_of(table).names
        if c not in keys
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _multi AS SELECT {klist}, {fills}, _seq, "
        f'bool_or(_primary) OVER w AS _primary FROM (SELECT *, {order} AS _o FROM "{stage}" '
        f"SEMI JOIN _multikeys AS m USING ({klist})) "
        f"WINDOW w AS (PARTITION BY {klist} ORDER BY _o "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) "
        f"QUALIFY row_number() OVER (PARTITION BY {klist} ORDER BY _o DESC) = 1"
    )
    # One row per key: those of keys staged once, and the merged rows of the others.
    rows = (
        f'(SELECT * FROM "{stage}" ANTI JOIN _multikeys AS m USING ({klist}) '
        "UNION ALL BY NAME SELECT * FROM _multi)"
        if _count(con, "SELECT count(*) FROM _multikeys")
        # Every key staged once (a file's own statuses): the stage is the rows.
        else f'"{stage}"'
    )
    # The rows whose key the store holds already (none when the table is empty).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _old AS SELECT s._seq, s._primary "
        f'FROM {rows} AS s SEMI JOIN "{table}" AS t ON {_on_keys(table, "s")}'
    )
    row = con.execute(
        f'SELECT (SELECT count(*) FILTER (WHERE _primary) FROM "{stage}"), '
        "(SELECT coalesce(sum(_np - 1) FILTER (WHERE _np > 0), 0) FROM _multikeys), "
        "(SELECT count(*) FILTER (WHERE _primary) FROM _old)"
    ).fetchone()
    primary_rows, repeats, old = (int(v) for v in row)  # type: ignore[union-attr]
    new_primary = primary_rows - repeats - old
    counts.stored += new_primary
    counts.duplicate += primary_rows - new_primary
    cols = "s.* EXCLUDE (_seq, _primary)"
    source = f"{rows} AS s"
    if table == "posts":
        # Author keys (store/keys.py) for the run's authors, new ones first.
        add_author_keys(
            con,
            "SELECT s.platform, s.author_id AS account_id, min(s._seq) AS first FROM "
            f"{source} WHERE s.author_id IS NOT NULL GROUP BY ALL",
        )
        cols += " REPLACE (k.account_key AS author_key)"
        source += (
            " LEFT JOIN account_keys AS k ON k.platform = s.platform AND k.account_id = s.author_id"
        )
    con.execute(
        f'INSERT INTO "{table}" BY NAME SELECT {cols} FROM {source} ANTI JOIN _old AS o ON o._seq = s._seq'
    )
    update = _update(table)
    if update and _count(con, "SELECT count(*) FROM _old"):
        changed = _changed(table, update, cols, source)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _upd AS {changed}")
        if _count(con, "SELECT count(*) FROM _upd"):
            con.execute(
                f'UPDATE "{table}" AS t SET {update.sets} FROM (SELECT {cols} FROM {source} '
                f"SEMI JOIN _upd AS u ON u._seq = s._seq) AS d "
                f"WHERE {_on_keys(table, 'd')}"
            )
        con.execute("DROP TABLE _upd")
    for temp in ("_multikeys", "_multi", "_old"):
        con.execute(f"DROP TABLE {temp}")


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
