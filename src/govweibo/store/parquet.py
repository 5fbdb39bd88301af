"""The Parquet layout: every table as Hive-partitioned Parquet, for Spark and other engines.

    DIR/<table>/platform=<p>/month=<YYYY-MM>/*.parquet   (tables with a time column)
    DIR/<table>/platform=<p>/*.parquet                   (the others)
    DIR/_layout.json                                     (tables, partition keys, version)

The month is the UTC month of the table's time column (posts.created_at,
interactions.created_at, account_observations.observed_at, timeline_sightings.observed_at).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

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
        select = "*"
        if "month" in keys:
            select = f"*, strftime({_q(MONTH_COLUMN[name])}, '%Y-%m') AS month"
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
    (out / LAYOUT_FILE).write_text(json.dumps(layout, indent=2), encoding="utf-8")
    return counts


def _all_tables(store: Store) -> list[str]:
    rows = store.con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_name <> 'schema_meta' ORDER BY table_name"
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
