"""The store: one embedded DuckDB file. The only package that knows the backend."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from govweibo import model
from govweibo.errors import StoreError
from govweibo.store import lock
from govweibo.store.keys import backfill
from govweibo.store.repeats import RunRepeats
from govweibo.store.schema import SCHEMA_VERSION, migrate
from govweibo.store.stage_files import StageFiles
from govweibo.store.writer import REPEATED_PER_BATCH, WriteCounts, merge_stage, stage_batch

__all__ = ["Store", "RunInfo", "WriteCounts", "SCHEMA_VERSION"]

# How much write-ahead log DuckDB may gather before it checkpoints on its own.
STAGE_CHECKPOINT = "128MB"
# DuckDB's memory limit while an ingest run stages, unless the user set one: its default
# (80 % of RAM) let 1M statuses peak at 1.2-1.5 GB, this keeps them under 1 GB
# (bench/ingest.py). The merge gets MERGE_BYTES_PER_ROW per staged row within
# [INGEST_MEMORY, MERGE_MEMORY_SHARE of RAM], and spills to disk beyond.
INGEST_MEMORY = 500 * 2**20
MERGE_BYTES_PER_ROW = 160
MERGE_MEMORY_SHARE = 0.4


@dataclass
class RunInfo:
    run_id: int
    source_path: str
    format: str


class Store:
    """A govweibo store. Use as a context manager, or call close().

    `lock_wait`: seconds to wait for a file another process holds (store/lock.py).
    `share`: let readers in other processes in while writing: when one waits for the file,
    ingest commits the batch it has written and closes the file (also after a run's start
    and end), reopening it on next use (`release`).
    """

    def __init__(
        self,
        path: str | Path = "govweibo.duckdb",
        *,
        read_only: bool = False,
        threads: int = 0,
        memory_limit: str = "",
        lock_wait: float = 0.0,
        share: bool = False,
    ):
        self.path = str(path)
        self.read_only = read_only
        self.memory_limit = memory_limit
        self.lock_wait = lock_wait
        self.share = share
        if read_only and self.path != ":memory:" and not Path(self.path).exists():
            raise StoreError(f"store {self.path} does not exist (run 'govweibo ingest' first)")
        # No TimeZone setting: it needs the ICU extension, which cannot be fetched
        # offline. TIMESTAMPTZ values are UTC instants either way.
        self._config: dict[str, Any] = {}
        if threads:
            self._config["threads"] = threads
        if memory_limit:
            self._config["memory_limit"] = memory_limit
        self._memory: int | None = None  # the ingest memory limit in force (_limit_memory)
        self._in_transaction = False
        self._ibis: Any = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._con = self._connect()
        if not read_only:
            migrate(self.con)
        self._seq = 0
        self._stage = StageFiles(self.path, self._store_id()) if not read_only else None
        self._repeats = RunRepeats(REPEATED_PER_BATCH)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._stage is not None:
            self.stage.close()

    @property
    def is_open(self) -> bool:
        """Whether the file is open now (not released)."""
        return self._con is not None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, reopened on first use after `release`."""
        if self._con is None:
            self._con = self._connect()
        return self._con

    @con.setter
    def con(self, value: duckdb.DuckDBPyConnection) -> None:
        self._con = value

    def _connect(self) -> duckdb.DuckDBPyConnection:
        con = lock.connect(
            self.path, read_only=self.read_only, config=self._config, wait=self.lock_wait
        )
        try:
            con.execute("SET enable_progress_bar = false")
            # Aggregate by integer keys of up to 2^18 values (posts by author_key, for
            # 100,000s of accounts) in a perfect hash table instead of a hash table
            # (DuckDB's default stops at 2^12): measured 0.45 s instead of 0.6 s for the
            # index's grouped pass over 10M posts. Beyond 2^18 the table would cost more
            # memory than it saves, and DuckDB falls back to hashing.
            con.execute("SET perfect_ht_threshold = 18")
            if not self.read_only:
                # Checkpoints come at the end of each merge; between them DuckDB may gather
                # this much log (small writes: run totals, rejects, collector state) rather
                # than checkpoint at its default 16 MB in the middle of a run. (When stages
                # were tables, checkpointing them before the merge deleted them cost more
                # than the merge itself.)
                con.execute(f"SET checkpoint_threshold = '{STAGE_CHECKPOINT}'")
            if self._memory is not None and not self.memory_limit:
                con.execute(f"SET memory_limit = '{self._memory // 2**20}MB'")
        except duckdb.Error as exc:
            con.close()
            raise StoreError(f"cannot open store {self.path}: {exc}") from None
        return con

    def release(self) -> None:
        """Close the file so that other processes may open it; the next use reopens it.
        Does nothing inside a transaction (the batches of a group in progress)."""
        if self._con is None or self._in_transaction:
            return
        self._con.close()
        self._con = None
        self._ibis = None

    def _shared(self) -> None:
        # Only for a reader that waits: closing and reopening the file costs ~0.2 s a batch.
        if self.share and lock.readers_waiting(self.path):
            self.release()

    def _store_id(self) -> str:
        """This store's own id (schema_meta 'store_id'), made on first need: it tells its
        stage folder from one left by another store of the same file name."""
        row = self.con.execute("SELECT value FROM schema_meta WHERE key = 'store_id'").fetchone()
        if row:
            return str(row[0])
        store_id = uuid.uuid4().hex
        self.con.execute("INSERT INTO schema_meta VALUES ('store_id', ?)", [store_id])
        return store_id

    @property
    def stage(self) -> StageFiles:
        if self._stage is None:
            raise StoreError(f"store {self.path} is open read-only: it cannot ingest")
        return self._stage

    # Reading -------------------------------------------------------------

    def ibis(self) -> Any:
        """An Ibis backend over this store, for analyses."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    def table(self, name: str) -> Any:
        """An Ibis table expression."""
        return self.ibis().table(name)

    def arrow(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        """Run a parameterised query and return Arrow. Never format user input into sql."""
        return self.con.execute(sql, params or []).to_arrow_table()

    def has_table(self, name: str) -> bool:
        row = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()
        return bool(row and row[0])

    def counts(self) -> dict[str, int]:
        return {
            name: int(self.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # type: ignore[index]
            for name in model.TABLES
        }

    def schema_version(self) -> int:
        row = self.con.execute("SELECT value FROM schema_meta WHERE key = 'version'").fetchone()
        return int(row[0]) if row else 0

    # Writing -------------------------------------------------------------

    def write_result(self, name: str, data: pa.Table) -> None:
        """Replace a derived table (an analysis output) atomically."""
        if name in model.TABLES:
            raise StoreError(f"'{name}' is a canonical table; analyses cannot replace it")
        self.con.register("_result", data)
        try:
            self.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _result')
        finally:
            self.con.unregister("_result")

    def begin_run(
        self, source_path: str, fmt: str, options: dict[str, Any], size_bytes: int
    ) -> RunInfo:
        # A run left 'running' is from a process that died: the file lock means
        # no other writer can be active now. What it staged and committed is kept:
        # merged now, counted to that run.
        self._merge_leftovers()
        self.con.execute(
            "UPDATE ingest_runs SET status = 'interrupted', message = ? WHERE status = 'running'",
            [
                "interrupted: the process ended before this run finished (found when the next "
                "run began; what it had committed is kept)"
            ],
        )
        # max+1, not a sequence: a sequence's position is not reliably restored when
        # the write-ahead log of a killed process is replayed. One writer at a time
        # is guaranteed by DuckDB's file lock.
        row = self.con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs").fetchone()
        run_id = int(row[0]) if row else 1
        self.con.execute(
            "INSERT INTO ingest_runs (run_id, source_path, format, size_bytes, options, "
            "records_read, stored, duplicate, rejected, empty, status, started_at) "
            "VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 'running', ?)",
            [
                run_id,
                source_path,
                fmt,
                size_bytes,
                json.dumps(options, sort_keys=True),
                datetime.now(UTC),
            ],
        )
        self._seq = 0
        self._repeats.reset()
        self._limit_memory(INGEST_MEMORY)
        self._shared()
        return RunInfo(run_id, source_path, fmt)

    def _limit_memory(self, nbytes: int | None) -> None:
        """DuckDB's memory limit for ingest work (None: back to its default), unless the
        user chose one."""
        if self.memory_limit:
            return
        self._memory = nbytes
        if nbytes is None:
            self.con.execute("RESET memory_limit")
        else:
            self.con.execute(f"SET memory_limit = '{nbytes // 2**20}MB'")

    def write(self, run: RunInfo, batch: model.Batch, *, commit: bool = True) -> int:
        """Stage a batch and the run's running totals in one transaction; return the
        rows staged. The batch reaches the data tables when the run ends
        (`finish_run`), which also counts its records stored and duplicate.

        With commit=False the transaction stays open for the next batches (call
        `commit()`): a batch is never half staged, and a group of batches large
        enough lets DuckDB write whole row groups to the file instead of its log.
        """
        if not self._in_transaction:
            self.con.execute("BEGIN TRANSACTION")
            self._in_transaction = True
        try:
            before = self._seq
            repeated, self._seq = stage_batch(
                self.con,
                batch,
                run_id=run.run_id,
                seq=self._seq,
                source_path=run.source_path,
                fmt=run.format,
                stage=self.stage,
                repeats=self._repeats,
            )
            self.con.execute(
                "UPDATE ingest_runs SET records_read = records_read + ?, "
                "duplicate = duplicate + ?, rejected = rejected + ?, empty = empty + ? "
                "WHERE run_id = ?",
                [batch.records_read, repeated, len(batch.rejects), batch.empty, run.run_id],
            )
        except Exception:
            self._in_transaction = False
            self.con.execute("ROLLBACK")
            self.stage.discard_pending()
            raise
        # Shared and a reader waits: commit now (a group would hold the file to its end).
        if commit or (self.share and lock.readers_waiting(self.path)):
            self.commit()
            self._shared()
        return self._seq - before

    def commit(self) -> None:
        """Commit the batches written with commit=False, if any."""
        if self._in_transaction:
            self._in_transaction = False
            # Files first: a process killed between the two leaves rows staged whose
            # counts the run lacks, never counts without their rows.
            self.stage.publish()
            self.con.execute("COMMIT")

    def _merge(self, run_id: int) -> None:
        """Merge the staged rows into the data tables and add what they came to to the
        run's counts: one transaction, so a process killed here leaves them staged."""
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        want = self.stage.rows() * MERGE_BYTES_PER_ROW
        self._limit_memory(max(INGEST_MEMORY, min(want, int(ram * MERGE_MEMORY_SHARE))))
        tables = self.stage.register(self.con)
        self.con.execute("BEGIN TRANSACTION")
        try:
            counts = merge_stage(self.con, {t: f"_staged_{t}" for t in tables})
            self.con.execute(
                "UPDATE ingest_runs SET stored = stored + ?, duplicate = duplicate + ? "
                "WHERE run_id = ?",
                [counts.stored, counts.duplicate, run_id],
            )
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        finally:
            for t in tables:
                self.con.execute(f'DROP VIEW IF EXISTS "_staged_{t}"')
        self.stage.clear()
        self.con.execute("CHECKPOINT")

    def _merge_leftovers(self) -> None:
        if not self.stage.rows():
            return
        row = self.con.execute(
            "SELECT max(run_id) FROM ingest_runs WHERE status IN ('running', 'interrupted')"
        ).fetchone()
        self._merge(int(row[0]) if row and row[0] is not None else 0)

    def fill_author_keys(self) -> int:
        """Give an author key (store/keys.py) to every post inserted by SQL rather than by
        the writer; returns how many posts were keyed."""
        self.commit()
        self.con.execute("BEGIN TRANSACTION")
        try:
            n = backfill(self.con)
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")
        return n

    def finish_run(
        self, run: RunInfo, *, checksum: str | None, status: str = "done", message: str = ""
    ) -> dict[str, Any]:
        self.commit()
        # Whatever the status: what was read is kept. (A run that staged nothing, a file
        # of rejects only, has nothing to merge: its checkpoint would cost most of it.)
        if self.stage.rows():
            self._merge(run.run_id)
        self._limit_memory(None)
        self.con.execute("BEGIN TRANSACTION")
        self.con.execute(
            "UPDATE ingest_runs SET status = ?, checksum = ?, finished_at = ?, message = ? "
            "WHERE run_id = ?",
            [status, checksum, datetime.now(UTC), message, run.run_id],
        )
        if status == "done":
            # Rejects of an older version of this file no longer describe it.
            self.con.execute(
                "DELETE FROM quarantine WHERE (source_path = ? OR starts_with(source_path, ?)) "
                "AND run_id <> ?",
                [run.source_path, run.source_path.rstrip("/") + "/", run.run_id],
            )
        self.con.execute("COMMIT")
        row = self.run(run.run_id)
        self._shared()
        return row

    def run(self, run_id: int) -> dict[str, Any]:
        rows = self.arrow("SELECT * FROM ingest_runs WHERE run_id = ?", [run_id]).to_pylist()
        if not rows:
            raise StoreError(f"no ingest run {run_id}")
        return rows[0]
