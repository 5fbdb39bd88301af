"""Schema DDL (generated from the canonical Arrow schemas) and migrations."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa

from govweibo import model
from govweibo.errors import StoreError
from govweibo.store import keys

SCHEMA_VERSION = 7


def duck_type(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "VARCHAR"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_int32(t):
        return "INTEGER"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_float64(t):
        return "DOUBLE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    if pa.types.is_list(t):
        return duck_type(t.value_type) + "[]"
    raise StoreError(f"no DuckDB type for Arrow type {t}")


def create_table_sql(name: str) -> str:
    schema, key = model.TABLES[name]
    cols = ",\n  ".join(f'"{f.name}" {duck_type(f.type)}' for f in schema)
    pk = ", ".join(f'"{k}"' for k in key)
    return f'CREATE TABLE IF NOT EXISTS "{name}" (\n  {cols},\n  PRIMARY KEY ({pk})\n)'


# Columns stored with FSST compression chosen up front rather than by DuckDB's analysis
# of each segment: ids that are unique per row and free text, which it compresses with
# FSST anyway. The analysis was a third of the cost of writing them: inserting the
# 898,000 posts of the CED corpus took 0.7 s instead of 1.0 s, and 1M synthetic statuses
# 1.0 s instead of 1.4 s, into tables of the same size. Not for columns that are often
# NULL (forced FSST stores an all-NULL segment uncompressed, about 4 bytes a row: so
# for `mid` on platforms other than Weibo) or whose values repeat (author ids; comment
# texts, where the 10M world's took 330 segments under FSST against 220 as DuckDB chose,
# mostly dictionaries). A store created before this keeps DuckDB's choice.
FSST_COLUMNS: dict[str, tuple[str, ...]] = {
    "posts": ("post_id", "mid", "text"),
    "accounts": ("account_id",),
    "interactions": ("interaction_id",),
}


def column_sql(table: str, f: pa.Field, not_null: bool = False) -> str:
    """One column's definition: its type, NOT NULL, and the compression FSST_COLUMNS sets."""
    sql = f'"{f.name}" {duck_type(f.type)}'
    if not_null:
        sql += " NOT NULL"
    if f.name in FSST_COLUMNS.get(table, ()):
        sql += " USING COMPRESSION fsst"
    return sql


def unindexed_table_sql(name: str, as_name: str | None = None) -> str:
    """DDL of a canonical data table from schema version 3: the natural key's columns are
    NOT NULL but carry no PRIMARY KEY index; the writer keeps keys unique (an anti-join
    of each run's stage with the table, store/writer.py), which costs about half of what
    upserts against the index did and keeps memory flat as tables grow."""
    schema, key = model.TABLES[name]
    cols = ",\n  ".join(column_sql(name, f, f.name in key) for f in schema)
    return f'CREATE TABLE "{as_name or name}" (\n  {cols}\n)'


def _v1(con: duckdb.DuckDBPyConnection) -> None:
    for name in model.TABLES:
        con.execute(create_table_sql(name))


# The collector's own state (govweibo.collect.state), not canonical data: the watch
# list, paging cursors and the request log. Fixed DDL, not generated from model.py,
# so that _v1 (which creates model.TABLES) never grows them.
COLLECT_TABLES: dict[str, str] = {
    "watch_list": """CREATE TABLE IF NOT EXISTS watch_list (
        platform VARCHAR NOT NULL, kind VARCHAR NOT NULL, value VARCHAR NOT NULL,
        added_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (platform, kind, value))""",
    "collect_cursors": """CREATE TABLE IF NOT EXISTS collect_cursors (
        platform VARCHAR NOT NULL, account VARCHAR NOT NULL, endpoint VARCHAR NOT NULL,
        since_id VARCHAR, max_id VARCHAR, high_id VARCHAR, next_url VARCHAR,
        updated_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (platform, account, endpoint))""",
    "collect_log": """CREATE TABLE IF NOT EXISTS collect_log (
        requested_at TIMESTAMPTZ NOT NULL, platform VARCHAR, endpoint VARCHAR, url VARCHAR,
        status INTEGER, records BIGINT, elapsed_ms BIGINT, message VARCHAR)""",
}


def _v2(con: duckdb.DuckDBPyConnection) -> None:
    # IF NOT EXISTS: collectors before version 2 created these tables on first use,
    # with the same columns, so a version-1 store that has them keeps its rows.
    for ddl in COLLECT_TABLES.values():
        con.execute(ddl)


def _v3(con: duckdb.DuckDBPyConnection) -> None:
    # Rebuild each data table without its primary-key index, rows kept as they are.
    for name in model.DATA_TABLES:
        con.execute(unindexed_table_sql(name, f"{name}__v3"))
        # By name: the table may predate columns the model has since gained (_v4).
        con.execute(f'INSERT INTO "{name}__v3" BY NAME SELECT * FROM "{name}"')
        con.execute(f'DROP TABLE "{name}"')
        con.execute(f'ALTER TABLE "{name}__v3" RENAME TO "{name}"')


def _v4(con: duckdb.DuckDBPyConnection) -> None:
    # Integer author keys (store/keys.py). The column is already there when _v1 or _v3
    # created posts from today's model.
    con.execute(keys.ACCOUNT_KEYS_DDL)
    con.execute('ALTER TABLE posts ADD COLUMN IF NOT EXISTS "author_key" INTEGER')
    keys.backfill(con)


def stage_table(name: str) -> str:
    return f"_stage_{name}"


def stage_table_sql(name: str) -> str:
    """DDL of a data table's stage (store/writer.py): the canonical columns, then the
    row's arrival order within the run (`_seq`) and whether it is a record the source is
    about (`_primary`) or one such a record carries (a repost's root, a status's user)."""
    cols = ",\n  ".join(f'"{f.name}" {duck_type(f.type)}' for f in model.schema_of(name))
    return (
        f'CREATE TABLE IF NOT EXISTS "{stage_table(name)}" (\n  {cols},\n'
        '  "_seq" BIGINT NOT NULL,\n  "_primary" BOOLEAN NOT NULL\n)'
    )


def _v5(con: duckdb.DuckDBPyConnection) -> None:
    # Ingest appends each run to these and merges it into the data tables at its end.
    for name in model.DATA_TABLES:
        con.execute(stage_table_sql(name))


def _v6(con: duckdb.DuckDBPyConnection) -> None:
    # Stages moved to Parquet files beside the store (store/stage_files.py). Rows a killed
    # run of an older govweibo left staged are merged now, as its next run would have.
    from govweibo.store.writer import merge_stage

    merge_stage(con, {name: stage_table(name) for name in model.DATA_TABLES})
    for name in model.DATA_TABLES:
        con.execute(f'DROP TABLE "{stage_table(name)}"')


# The observer's own state (govweibo.observe), not canonical data: its alerts (one row
# per kind and subject, kept across cycles), cycle bookkeeping, and the hourly term
# counts of recent posts with the posts already counted (so a cycle reads what arrived,
# not the store). Fixed DDL, like COLLECT_TABLES.
OBSERVE_TABLES: dict[str, str] = {
    "alerts": """CREATE TABLE IF NOT EXISTS alerts (
        alert_id BIGINT NOT NULL, kind VARCHAR NOT NULL, subject VARCHAR NOT NULL,
        title VARCHAR, evidence VARCHAR, first_seen TIMESTAMPTZ NOT NULL,
        last_seen TIMESTAMPTZ NOT NULL, first_cycle BIGINT, last_cycle BIGINT,
        state VARCHAR NOT NULL, state_changed_at TIMESTAMPTZ, delivered_at TIMESTAMPTZ,
        PRIMARY KEY (kind, subject))""",
    "observe_state": """CREATE TABLE IF NOT EXISTS observe_state (
        key VARCHAR PRIMARY KEY, value VARCHAR)""",
    "observe_terms": """CREATE TABLE IF NOT EXISTS observe_terms (
        hour TIMESTAMPTZ NOT NULL, term VARCHAR NOT NULL, n BIGINT NOT NULL,
        PRIMARY KEY (hour, term))""",
    "observe_seen": """CREATE TABLE IF NOT EXISTS observe_seen (
        platform VARCHAR NOT NULL, post_id VARCHAR NOT NULL, hour TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (platform, post_id))""",
}


def _v7(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in OBSERVE_TABLES.values():
        con.execute(ddl)


# Each migration takes the store from version i-1 to i; append, never edit.
MIGRATIONS: list[Callable[[duckdb.DuckDBPyConnection], None]] = [
    _v1,
    _v2,
    _v3,
    _v4,
    _v5,
    _v6,
    _v7,
]
assert len(MIGRATIONS) == SCHEMA_VERSION


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    con.execute("CREATE TABLE IF NOT EXISTS schema_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    row = con.execute("SELECT value FROM schema_meta WHERE key = 'version'").fetchone()
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the store to SCHEMA_VERSION; returns the version it was at."""
    start = current_version(con)
    if start > SCHEMA_VERSION:
        raise StoreError(
            f"store schema version {start} is newer than this govweibo ({SCHEMA_VERSION}); "
            "upgrade govweibo"
        )
    for version in range(start + 1, SCHEMA_VERSION + 1):
        con.execute("BEGIN TRANSACTION")
        try:
            MIGRATIONS[version - 1](con)
            con.execute("INSERT OR REPLACE INTO schema_meta VALUES ('version', ?)", [str(version)])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return start
