"""The index of several periods and methods in one table: what the web dashboard reads.

The caller saves it as the store table `INDEX_TABLE` (the demo does); the analysis itself
only computes.
"""

from __future__ import annotations

import pyarrow as pa

from govweibo.analyses.index import compute_index
from govweibo.errors import AnalysisError
from govweibo.store import Store

# compute_index's columns plus `method`, one row per account, period and method. The web
# reads it when present and computes the index per request otherwise.
INDEX_TABLE = "index_scores"


def index_over_periods(
    store: Store, periods: list[str], methods: tuple[str, ...] = ("govweibo",)
) -> pa.Table:
    """compute_index per period and method, stacked, with a `method` column. Include each
    period's previous period too if rank change should show."""
    gov = store.has_table("account_profiles")
    parts = []
    for method in methods:
        for period in periods:
            t = compute_index(store, period=period, method=method, government_only=gov)
            parts.append(t.append_column("method", pa.array([method] * t.num_rows, pa.string())))
    if not parts:
        raise AnalysisError("no periods given")
    return pa.concat_tables(parts, promote_options="permissive").replace_schema_metadata(None)
