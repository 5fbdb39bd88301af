"""Rows a run has already staged, to leave out their exact repeats.

Every status carries its author's profile and counts, so a file of statuses stages the
same account rows in every batch (20,000 authors, 1M statuses: 600,000 staged copies of
20,000 rows), and the merge then ranks them all. A carried row equal in every column to
one the run staged earlier changes nothing the merge decides: per column it takes the
first value in arrival order among the newest observations, and an equal later copy
comes after its twin. So it is left out. Only carried (secondary) rows: a record the
source is about is counted, repeats included.

The memory is bounded: past `limit` remembered keys it starts afresh, which only means
that some repeats are staged again. And a table whose carried rows rarely repeat (the
reposters of a corpus, mostly each once) is no longer checked once `PROBE` rows have been:
the look-ups would cost more than the copies they save.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govweibo import model

_IGNORED = {"run_id", "_seq", "_primary"}

# Rows looked up before a table's checks may stop, and the share of repeats below which
# they do.
PROBE = 50_000
WORTH = 0.5


class RunRepeats:
    def __init__(self, tables: frozenset[str], limit: int = 500_000):
        self.tables = tables
        self.limit = limit
        # Per table: the newest staged copy of each key, and its keys as text.
        self._seen: dict[str, tuple[pa.Table, pa.Array]] = {}
        self._looked: dict[str, list[int]] = {}  # rows looked up, repeats found
        self._off: set[str] = set()

    def reset(self) -> None:
        self._seen.clear()
        self._looked.clear()
        self._off.clear()

    def new_rows(self, table: str, data: pa.Table) -> pa.Table:
        """`data` (carried rows of one batch, one per key) less exact repeats of rows
        staged earlier in the run; remembers what it lets through."""
        if table not in self.tables or table in self._off or data.num_rows == 0:
            return data
        keys = list(model.key_of(table))
        if table in self._seen:
            same = _repeats(data, *self._seen[table], keys)
            looked = self._looked.setdefault(table, [0, 0])
            looked[0] += data.num_rows
            looked[1] += pc.sum(same).as_py() or 0
            data = data.filter(pc.invert(same))
            if looked[0] >= PROBE and looked[1] < WORTH * looked[0]:
                self._off.add(table)
                del self._seen[table]
                return data
        if data.num_rows:
            self._remember(table, data, keys)
        return data

    def _remember(self, table: str, data: pa.Table, keys: list[str]) -> None:
        fresh = data.select([c for c in data.column_names if c not in _IGNORED])
        seen = self._seen[table][0] if table in self._seen else None
        if seen is not None and seen.num_rows + fresh.num_rows <= self.limit:
            # The newest staged copy of each key is the one to compare with.
            both = pa.concat_tables([seen, fresh]).append_column(
                "_i", pa.array(np.arange(seen.num_rows + fresh.num_rows, dtype=np.int64))
            )
            last = both.group_by(keys, use_threads=False).aggregate([("_i", "max")])
            fresh = both.take(last.column("_i_max")).drop_columns(["_i"])
        self._seen[table] = (fresh, _key_text(fresh, keys))


def _repeats(data: pa.Table, seen: pa.Table, seen_keys: pa.Array, keys: list[str]) -> pa.Array:
    # Each row's twin in `seen` by a hash look-up of the joined key text (keys are
    # ids, platforms and times: none holds the separator).
    where = pc.index_in(_key_text(data, keys), value_set=seen_keys)
    found = where.is_valid()
    twins = seen.take(pc.fill_null(where, 0))
    same = found
    for c in data.column_names:
        if c in _IGNORED or c in keys:
            continue
        a, b = data.column(c), twins.column(c)
        equal = pc.or_kleene(pc.equal(a, b), pc.and_(a.is_null(), b.is_null()))
        same = pc.and_(same, pc.fill_null(equal, False))
    return same


def _key_text(data: pa.Table, keys: list[str]) -> pa.Array:
    parts = [_text(data.column(k)) for k in keys]
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "\x1f")
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def _text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_string(col.type):
        return col
    if pa.types.is_timestamp(col.type):
        col = pc.cast(col, pa.int64())  # far cheaper to print than a timestamp
    return pc.cast(col, pa.string())
