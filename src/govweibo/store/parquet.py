"""The Parquet layout: every table as Hive-partitioned Parquet, for Spark and other engines.

    DIR/<table>/platform=<p>/month=<YYYY-MM>/*.parquet   (tables with a time column)
    DIR/<table>/platform=<p>/*.parquet                   (the others)
    DIR/_layout.json                                     (tables, partition keys, version)

The month is the UTC month of the table's time column (posts.created_at,
interactions.created_at, account_observations.observed_at, timeline_sightings.observed_at).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from govweibo import model
from govweibo.errors import StoreError
from govweibo.store import Store
from govweibo.store.schema import SCHEMA_VERSION

MONTH_COLUMN = {
    "posts": "created_at",
    "interactions": "created_at",
    "account_observations": "observed_at",
    "timeline_sightings": "observed_at",
}
LAYOUT_FILE = "_layout.json"


def partition_keys(table: str) -> list[str]:
    schema = model.schema_of(table)
    keys = ["platform"] if "platform" in schema.names else []
    return keys + (["month"] if table in MONTH_COLUMN else [])


def layout_select(table: str) -> str:
    """The select list that adds a table's `month` partition column, if it has one."""
    if table in MONTH_COLUMN:
        return f"*, strftime({_q(MONTH_COLUMN[table])}, '%Y-%m') AS month"
    return "*"


def write_layout(root: Path, layout: dict[str, Any]) -> None:
    """Write `_layout.json` under a temporary name and rename it: a reader never sees half."""
    tmp = root / f".{LAYOUT_FILE}.{uuid.uuid4().hex}"
    tmp.write_text(json.dumps(layout, indent=2), encoding="utf-8")
    os.replace(tmp, root / LAYOUT_FILE)


def export_parquet(
    store: Store, out_dir: str | Path, *, tables: list[str] | None = None, overwrite: bool = False
) -> dict[str, int]:
    """Write tables (default: all canonical and derived ones) in the layout; return row counts."""
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise StoreError(f"{out} is not empty; pass overwrite=True (--overwrite) to replace it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    names = tables or _all_tables(store)
    counts: dict[str, int] = {}
    layout: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "tables": {}}
    for name in names:
        if not store.has_table(name):
            raise StoreError(f"no table '{name}' in the store")
        keys = partition_keys(name) if name in model.TABLES else []
        select = layout_select(name)
        target = out / name
        n = int(store.con.execute(f"SELECT count(*) FROM {_q(name)}").fetchone()[0])  # type: ignore[index]
        if keys:
            store.con.execute(
                f"COPY (SELECT {select} FROM {_q(name)}) TO ? "
                f"(FORMAT parquet, PARTITION_BY ({', '.join(keys)}), OVERWRITE_OR_IGNORE)",
                [str(target)],
            )
        else:
            target.mkdir(parents=True, exist_ok=True)
            store.con.execute(
                f"COPY (SELECT * FROM {_q(name)}) TO ? (FORMAT parquet)",
                [str(target / "part-0.parquet")],
            )
        counts[name] = n
        layout["tables"][name] = {"partition_by": keys, "rows": n}
    write_layout(out, layout)
    return counts


def _all_tables(store: Store) -> list[str]:
    rows = store.con.execute(
        # Only the store's own tables: Ibis registers memtables as temporary views, which
        # the catalogue lists under 'main' of the 'temp' catalog; ingest's stages
        # (store/writer.py) are empty between runs and not data.
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_catalog = current_database() AND table_type = 'BASE TABLE' "
        "AND table_name <> 'schema_meta' AND NOT starts_with(table_name, '_stage_') "
        "ORDER BY table_name"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _q(identifier: str) -> str:
    # Table and column names come from the model or the store's own catalogue, never from
    # user text; quoting keeps odd names working.
    return '"' + identifier.replace('"', '""') + '"'


def read_layout(path: str | Path) -> dict[str, Any]:
    layout = Path(path) / LAYOUT_FILE
    if not layout.exists():
        raise StoreError(f"{path} is not a govweibo Parquet layout (no {LAYOUT_FILE})")
    return json.loads(layout.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def write_derived(layout_dir: str | Path, name: str, data: pa.Table) -> None:
    """Replace a derived table (an analysis output such as account_profiles) in the layout.

    The table goes where `export_parquet` puts derived tables (DIR/<name>/part-0.parquet,
    unpartitioned) and `_layout.json` records it. The file is written beside the table
    and swapped in by renames, so a reader never sees half of one.
    """
    if name in model.TABLES:
        raise StoreError(f"'{name}' is a canonical table; analyses cannot replace it")
    root = Path(layout_dir)
    layout = read_layout(root)
    tmp = root / f".{name}.{uuid.uuid4().hex}"
    tmp.mkdir()
    pq.write_table(data, tmp / "part-0.parquet")
    target, old = root / name, root / f".{name}.{uuid.uuid4().hex}.old"
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    layout["tables"][name] = {"partition_by": [], "rows": data.num_rows}
    write_layout(root, layout)
