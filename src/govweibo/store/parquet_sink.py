"""Ingest straight into the Parquet layout, streaming, with no DuckDB store file.

For inputs too large to go through one DuckDB file: each batch is appended to its
partitions as new files (`staged-run<id>-...`), and when the run ends every
partition it touched is compacted into one file, keeping one row per natural key
(the newest observation, as the store's upserts do). The layout is the one
`export_parquet` writes (docs/scale.md), so Spark and DuckDB read either alike.

Idempotency and crashes: a re-run of the same input stages rows whose keys are
already in the partition and compaction drops them again, counted as duplicates.
A run that dies leaves staged files and no `ingest_runs` row; the next sink on the
directory deletes them (a re-run restores that data). Compacted files are written
under a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from govweibo import model
from govweibo.errors import StoreError
from govweibo.store import RunInfo
from govweibo.store.parquet import (
    LAYOUT_FILE,
    _q,
    layout_select,
    partition_keys,
    write_layout,
)
from govweibo.store.schema import SCHEMA_VERSION
from govweibo.store.writer import WriteCounts, newer_by

_STAGED = "staged-run"
_PRIMARY = "_primary"


class ParquetSink:
    """What the ingest runner writes to instead of a Store (same four methods)."""

    def __init__(self, out_dir: str | Path):
        self.root = Path(out_dir)
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"{self.root} is not a folder")
        if self.root.exists() and any(self.root.iterdir()) and not self._is_layout():
            raise StoreError(f"{self.root} is neither empty nor a govweibo Parquet layout")
        self.root.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")
        self._runs: dict[int, dict[str, Any]] = {}
        self._touched: dict[int, set[tuple[str, Path]]] = {}
        self._rejects: dict[int, list[model.Reject]] = {}
        self._seq = 0
        self._drop_unfinished()

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    # The four methods the ingest runner calls ------------------------------

    def begin_run(
        self, source_path: str, fmt: str, options: dict[str, Any], size_bytes: int
    ) -> RunInfo:
        run_id = max([*self._finished_run_ids(), *self._runs, 0]) + 1
        self._runs[run_id] = {
            "run_id": run_id,
            "source_path": source_path,
            "format": fmt,
            "checksum": None,
            "size_bytes": size_bytes,
            "options": json.dumps(options, sort_keys=True),
            "records_read": 0,
            "stored": 0,
            "duplicate": 0,
            "rejected": 0,
            "empty": 0,
            "status": "running",
            "started_at": datetime.now(UTC),
            "finished_at": None,
            "message": "",
        }
        self._touched[run_id] = set()
        self._rejects[run_id] = []
        return RunInfo(run_id, source_path, fmt)

    def write(self, run: RunInfo, batch: model.Batch, *, commit: bool = True) -> WriteCounts:
        """Stage a batch; stored and duplicate counts are settled when the run ends."""
        for table in model.DATA_TABLES:
            for data, primary in (
                (batch.primary.get(table), True),
                (batch.secondary.get(table), False),
            ):
                if data is not None and data.num_rows:
                    self._stage(run.run_id, table, data, primary)
        row = self._runs[run.run_id]
        row["records_read"] += batch.records_read
        row["rejected"] += len(batch.rejects)
        row["empty"] += batch.empty
        self._rejects[run.run_id].extend(batch.rejects)
        return WriteCounts()

    def commit(self) -> None:
        """Staged files are durable as written; nothing is pending."""

    def finish_run(
        self, run: RunInfo, *, checksum: str | None, status: str = "done", message: str = ""
    ) -> dict[str, Any]:
        row = self._runs.pop(run.run_id)
        for table, part in sorted(self._touched.pop(run.run_id)):
            stored, duplicate = self._compact(run.run_id, table, part)
            row["stored"] += stored
            row["duplicate"] += duplicate
        row.update(checksum=checksum, status=status, message=message, finished_at=datetime.now(UTC))
        self._write_quarantine(run, self._rejects.pop(run.run_id), replace=status == "done")
        self._write_file(
            self.root / "ingest_runs" / f"run-{run.run_id}.parquet",
            pa.Table.from_pylist([row], schema=model.INGEST_RUNS),
        )
        self._write_layout()
        return row

    def run(self, run_id: int) -> dict[str, Any]:
        rows = self._read("ingest_runs", "run_id = ?", [run_id])
        if not rows:
            raise StoreError(f"no ingest run {run_id}")
        return rows[0]

    # Staging and compaction ------------------------------------------------

    def _stage(self, run_id: int, table: str, data: pa.Table, primary: bool) -> None:
        data = model.conform(table, data)
        data = data.set_column(
            data.column_names.index("run_id"),
            "run_id",
            model.constant(run_id, pa.int64(), data.num_rows),
        )
        data = data.append_column(_PRIMARY, pa.array([primary] * data.num_rows, pa.bool_()))
        keys = partition_keys(table)
        select = layout_select(table)
        self._seq += 1
        self.con.register("_batch", data)
        try:
            parts = self.con.execute(
                f"SELECT DISTINCT {', '.join(keys)} FROM (SELECT {select} FROM _batch)"
            ).fetchall()
            self.con.execute(
                f"COPY (SELECT {select} FROM _batch) TO ? (FORMAT parquet, "
                f"PARTITION_BY ({', '.join(keys)}), APPEND, "
                f"FILENAME_PATTERN '{_STAGED}{run_id}-{self._seq}-{{uuid}}')",
                [str(self.root / table)],
            )
        finally:
            self.con.unregister("_batch")
        for values in parts:
            part = self.root / table
            for k, v in zip(keys, values, strict=True):
                part = part / f"{k}={'__HIVE_DEFAULT_PARTITION__' if v is None else v}"
            self._touched[run_id].add((table, part))

    def _compact(self, run_id: int, table: str, part: Path) -> tuple[int, int]:
        """One file per partition, one row per key; return (new primary keys, duplicates)."""
        files = sorted(str(p) for p in part.glob("*.parquet"))
        fixed = set(partition_keys(table))
        key = [k for k in model.key_of(table) if k not in fixed]
        cols = [c for c in model.schema_of(table).names if c not in fixed]
        keys = ", ".join(_q(k) for k in key)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE _part AS SELECT * FROM read_parquet(?, union_by_name = true)",
            [files],
        )
        if _PRIMARY not in {r[0] for r in self.con.execute("DESCRIBE _part").fetchall()}:
            self.con.execute(f"ALTER TABLE _part ADD COLUMN {_PRIMARY} BOOLEAN")
        offered, new = self.con.execute(
            f"""SELECT count(*) FILTER (run_id = $1 AND {_PRIMARY}),
                (SELECT count(*) FROM (SELECT DISTINCT {keys} FROM _part
                     WHERE run_id = $1 AND {_PRIMARY}) AS k
                 WHERE NOT EXISTS (SELECT 1 FROM _part AS o WHERE o.run_id IS DISTINCT FROM $1
                     AND {" AND ".join(f"o.{_q(k)} IS NOT DISTINCT FROM k.{_q(k)}" for k in key)}))
            FROM _part""",
            [run_id],
        ).fetchone() or (0, 0)
        order = _q(newer_by(table))
        tmp = part / f".compact-{uuid.uuid4().hex}.parquet"
        self.con.execute(
            f"COPY (SELECT {', '.join(_q(c) for c in cols)} FROM _part QUALIFY row_number() "
            f"OVER (PARTITION BY {keys} ORDER BY {order} DESC NULLS LAST, run_id DESC) = 1) "
            "TO ? (FORMAT parquet)",
            [str(tmp)],
        )
        self.con.execute("DROP TABLE _part")
        os.replace(tmp, part / f"data-run{run_id}.parquet")
        for f in files:
            if Path(f).name != f"data-run{run_id}.parquet":
                Path(f).unlink(missing_ok=True)
        return int(new), int(offered) - int(new)

    # Bookkeeping -----------------------------------------------------------

    def _is_layout(self) -> bool:
        return (self.root / LAYOUT_FILE).exists() or (self.root / "ingest_runs").is_dir()

    def _finished_run_ids(self) -> list[int]:
        return [int(r["run_id"]) for r in self._read("ingest_runs", "true", [])]

    def _drop_unfinished(self) -> None:
        finished = set(self._finished_run_ids())
        for f in self.root.glob(f"*/**/{_STAGED}*.parquet"):
            run_id = int(f.name[len(_STAGED) :].split("-", 1)[0])
            if run_id not in finished:
                f.unlink()

    def _read(self, table: str, where: str, params: list[Any]) -> list[dict[str, Any]]:
        files = sorted(str(p) for p in (self.root / table).glob("*.parquet"))
        if not files:
            return []
        return (
            self.con.execute(  # type: ignore[no-any-return]
                f"SELECT * FROM read_parquet(?) WHERE {where}", [files, *params]
            )
            .to_arrow_table()
            .to_pylist()
        )

    def _write_quarantine(
        self, run: RunInfo, rejects: list[model.Reject], *, replace: bool
    ) -> None:
        folder = self.root / "quarantine"
        if replace:
            # As in the store: the rejects of an older read of this path no longer describe it.
            for f in folder.glob("run-*.parquet"):
                old = pq.read_table(f)
                keep = [
                    p != run.source_path and not p.startswith(run.source_path.rstrip("/") + "/")
                    for p in old.column("source_path").to_pylist()
                ]
                if not all(keep):
                    self._write_file(f, old.filter(pa.array(keep)))
        if rejects:
            now = datetime.now(UTC)
            rows = [
                {
                    "source_path": r.path or run.source_path,
                    "line": r.line,
                    "item": r.item,
                    "run_id": run.run_id,
                    "format": run.format,
                    "field": r.field,
                    "reason": r.reason,
                    "raw": r.raw,
                    "quarantined_at": now,
                }
                for r in rejects
            ]
            self._write_file(
                folder / f"run-{run.run_id}.parquet",
                pa.Table.from_pylist(rows, schema=model.QUARANTINE),
            )

    def _write_file(self, path: Path, data: pa.Table) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        pq.write_table(data, tmp)
        os.replace(tmp, path)

    def _write_layout(self) -> None:
        layout: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "tables": {}}
        for name in [*model.DATA_TABLES, "ingest_runs", "quarantine"]:
            files = sorted(str(p) for p in (self.root / name).glob("**/*.parquet"))
            if not files:
                continue
            rows = self.con.execute("SELECT count(*) FROM read_parquet(?)", [files]).fetchone()
            keys = partition_keys(name) if name in model.DATA_TABLES else []
            layout["tables"][name] = {"partition_by": keys, "rows": int(rows[0]) if rows else 0}
        write_layout(self.root, layout)
