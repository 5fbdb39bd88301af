from __future__ import annotations

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from govweibo.ingest.sina_ids import SQL_MACROS, id_to_mid, ids_to_mids, is_mid, mid_to_id


def test_known_pairs() -> None:
    # Pairs as Weibo's own API returns them side by side (`idstr` and `mblogid`).
    for post_id, mid in [("4607741009594608", "K3fnuEfZK"), ("4387933362623405", "HATy0b0sZ")]:
        assert mid_to_id(mid) == post_id
        assert id_to_mid(post_id) == mid
    assert is_mid("K3fnuEfZK") and not is_mid("4607741009594608")


@given(st.integers(min_value=1, max_value=10**17))
def test_round_trip(n: int) -> None:
    assert mid_to_id(id_to_mid(n)) == str(n)


@settings(deadline=None)  # opens a DuckDB connection per example
@given(st.lists(st.integers(min_value=1, max_value=10**17), min_size=1, max_size=20))
def test_sql_macro_matches_python(ids: list[int]) -> None:
    con = duckdb.connect()
    for m in SQL_MACROS:
        con.execute(m)
    got = [
        r[0]
        for r in con.execute(
            "SELECT gw_mid(x) FROM unnest(?) t(x)", [[str(i) for i in ids]]
        ).fetchall()
    ]
    assert got == [id_to_mid(i) for i in ids]


@given(st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=10**21 - 1)), max_size=30))
def test_vectorised_mids_match_python(ids: list[int | None]) -> None:
    column = pa.array([None if i is None else str(i) for i in ids], pa.string())
    assert ids_to_mids(column).to_pylist() == [None if i is None else id_to_mid(i) for i in ids]
    assert ids_to_mids(pa.chunked_array([column, column])).to_pylist() == 2 * [
        None if i is None else id_to_mid(i) for i in ids
    ]
