"""Rows a run has already staged, to leave out their exact repeats.

Every status carries its author's profile and counts, so a file of statuses stages the
same account rows in every batch (20,000 authors, 1M statuses: 600,000 staged copies of
20,000 rows), and the merge then ranks them all. A carried row equal in every column to
one the run staged earlier changes nothing the merge decides: per column it takes the
first value in arrival order among the newest observations, and an equal later copy
comes after its twin. So it is left out. Only carried (secondary) rows: a record the
source is about is counted, repeats included.

The memory is bounded: past `limit` remembered keys it starts afresh, which only means
that some repeats are staged again.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govweibo import model

_IGNORED = {"run_id", "_seq", "_primary"}


class RunRepeats:
    def __init__(self, tables: frozenset[str], limit: int = 500_000):
        self.tables = tables
        self.limit = limit
        self._seen: dict[str, pa.Table] = {}

    def reset(self) -> None:
        self._seen.clear()

    def new_rows(self, table: str, data: pa.Table) -> pa.Table:
        """`data` (carried rows of one batch, one per key) less exact repeats of rows
        staged earlier in the run; remembers what it lets through."""
        if table not in self.tables or data.num_rows == 0:
            return data
        keys = list(model.key_of(table))
        seen = self._seen.get(table)
        if seen is not None:
            data = data.filter(pc.invert(self._repeats(data, seen, keys)))
        if data.num_rows:
            self._remember(table, data, keys)
        return data

    def _repeats(self, data: pa.Table, seen: pa.Table, keys: list[str]) -> pa.Array:
        values = [c for c in data.column_names if c not in _IGNORED]
        left = data.select(values).append_column(
            "_i", pa.array(np.arange(data.num_rows, dtype=np.int64))
        )
        joined = left.join(
            seen.select([*values, "_found"]),
            keys=keys,
            join_type="left outer",
            right_suffix="_seen",
        ).sort_by("_i")
        # A row with no twin has NULL in every _seen column, keys aside; `found` tells
        # them apart from twins whose values are NULL.
        found = joined.column("_found").is_valid()
        same = found
        for c in values:
            if c in keys or c == "_found":
                continue
            a, b = joined.column(c), joined.column(f"{c}_seen")
            equal = pc.or_kleene(pc.equal(a, b), pc.and_(a.is_null(), b.is_null()))
            same = pc.and_(same, pc.fill_null(equal, False))
        out = np.zeros(data.num_rows, dtype=bool)
        out[joined.column("_i").to_numpy()] = same.to_numpy(zero_copy_only=False)
        return pa.array(out)

    def _remember(self, table: str, data: pa.Table, keys: list[str]) -> None:
        values = [c for c in data.column_names if c not in _IGNORED]
        fresh = data.select(values).append_column(
            "_found", pa.array(np.ones(data.num_rows, dtype=bool))
        )
        seen = self._seen.get(table)
        if seen is not None and seen.num_rows + fresh.num_rows <= self.limit:
            # The newest staged copy of each key is the one to compare with.
            both = pa.concat_tables([seen, fresh]).append_column(
                "_i", pa.array(np.arange(seen.num_rows + fresh.num_rows, dtype=np.int64))
            )
            last = both.group_by(keys, use_threads=False).aggregate([("_i", "max")])
            fresh = both.take(last.column("_i_max")).drop_columns(["_i"])
        self._seen[table] = fresh
