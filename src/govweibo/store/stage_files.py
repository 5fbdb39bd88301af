"""An ingest run's stage: Parquet files beside the store, merged into it when the run ends.

Staging into DuckDB tables wrote every row twice (compressed into the stage at each commit,
then into its table at the merge) and cost as much as reading the input; an uncompressed
Parquet file costs little more than a copy, and DuckDB scans it natively, in parallel and
within its memory limit (an Arrow dataset scanned through pyarrow buffered far more).

A batch's files are written under a temporary name and renamed when the batch's group is
committed (`publish`), so a killed run leaves only whole groups, which the next run merges
(store/writer.py `merge_stage`), as it did with stage tables. The files are deleted once
the merge has committed. The folder names the store it belongs to (its `store_id`): one
left by a store since deleted or replaced under the same name is dropped, not merged.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from govweibo import model

_PENDING = ".pending"
_MARKER = "store-id"  # whose stage it is (schema_meta 'store_id')

# Tables whose carried stubs (rows with nothing but their key, and the run) are staged
# apart, as the key alone: a stub changes no stored row and no other copy of its key, so
# the merge only inserts the keys nothing else holds (store/writer.py). The CED corpus
# carries 847,000 such accounts, its reposters known by id, where it carries 2,300 whole
# ones; merging them apart took half as long as ranking them with the others.
STUB_TABLES = ("accounts",)
STUBS = "__stubs"


def stub_columns(table: str) -> list[str]:
    """What a stub of `table` holds: its key and its run."""
    return [*model.key_of(table), "run_id"]


def stages() -> list[str]:
    """The stage's parts: each data table, then the stubs of STUB_TABLES."""
    return [*model.DATA_TABLES, *(t + STUBS for t in STUB_TABLES)]


def stage_schema(table: str) -> pa.Schema:
    """A data table's columns, then the row's arrival order within the run (`_seq`) and
    whether it is a record the source is about (`_primary`) or one such a record carries
    (a repost's root, a status's user). A table's stubs: its key, run and `_seq`."""
    if table.endswith(STUBS):
        base = table.removesuffix(STUBS)
        fields = [model.schema_of(base).field(n) for n in stub_columns(base)]
        return pa.schema(fields).append(pa.field("_seq", pa.int64()))
    return (
        model.schema_of(table)
        .append(pa.field("_seq", pa.int64()))
        .append(pa.field("_primary", pa.bool_()))
    )


class StageFiles:
    """The stage of one store: a folder per data table."""

    def __init__(self, store_path: str, store_id: str):
        if store_path == ":memory:":
            self.root = Path(tempfile.mkdtemp(prefix="govweibo-stage-"))
            self._own = True
        else:
            self.root = Path(store_path + ".stage")
            self._own = False
        self.store_id = store_id
        self._pending: list[Path] = []
        self._n = 0
        marker = self.root / _MARKER
        if self.root.exists() and (not marker.exists() or marker.read_text().strip() != store_id):
            # Left by a store that is gone (deleted or replaced under the same name):
            # its rows belong to no store that can be merged into.
            shutil.rmtree(self.root)

    def write(self, table: str, data: pa.Table) -> None:
        folder = self.root / table
        folder.mkdir(parents=True, exist_ok=True)
        marker = self.root / _MARKER
        if not marker.exists():
            marker.write_text(self.store_id)
        self._n += 1
        path = folder / f"{int(data.column('_seq')[0].as_py()):020d}-{self._n}.parquet{_PENDING}"
        pq.write_table(
            data.cast(stage_schema(table)),
            path,
            compression="none",
            use_dictionary=False,
            write_statistics=False,
        )
        self._pending.append(path)

    def publish(self) -> None:
        """The files written since the last call become part of the stage."""
        for path in self._pending:
            path.rename(path.with_suffix(""))
        self._pending.clear()

    def discard_pending(self) -> None:
        for path in self._pending:
            path.unlink(missing_ok=True)
        self._pending.clear()

    def files(self, table: str) -> list[Path]:
        folder = self.root / table
        return sorted(folder.glob("*.parquet")) if folder.exists() else []

    def rows(self) -> int:
        return sum(pq.read_metadata(f).num_rows for t in stages() for f in self.files(t))

    def register(self, con: duckdb.DuckDBPyConnection) -> list[str]:
        """Register each part's staged rows (`stages()`) as the view `_staged_<part>`;
        returns the parts that have any."""
        names = []
        for table in stages():
            files = [str(f) for f in self.files(table)]
            if files:
                con.read_parquet(files).create_view(f"_staged_{table}")
                names.append(table)
        return names

    def clear(self) -> None:
        """Drop every staged file (after the merge has committed), pending ones too."""
        for table in stages():
            folder = self.root / table
            if folder.exists():
                shutil.rmtree(folder)
        self._pending.clear()

    def close(self) -> None:
        if self._own:
            shutil.rmtree(self.root, ignore_errors=True)
            return
        if self.root.exists() and not any(p.is_dir() for p in self.root.iterdir()):
            shutil.rmtree(self.root, ignore_errors=True)
