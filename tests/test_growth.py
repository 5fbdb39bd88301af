from __future__ import annotations

from test_index import build_store

from govweibo.analyses.growth import account_growth, yearly_growth
from govweibo.store import Store


def test_monthly_growth(store: Store) -> None:
    build_store(store)
    g = account_growth(store)
    rows = {r["month"]: r for r in g.to_pylist()}
    # A 2010-11 (created_at), C 2011-03, E 2011-06, B 2011-07 (first post), F 2013-01.
    assert g.column("month")[0].as_py() == "2010-11" and g.column("month")[-1].as_py() == "2013-01"
    assert [rows[m]["opened"] for m in ("2010-11", "2011-03", "2011-06", "2011-07")] == [1, 1, 1, 1]
    assert rows["2011-12"]["cumulative"] == 4 and rows["2013-01"]["cumulative"] == 5
    assert rows["2011-11"]["cumulative_yoy"] == 4.0  # 4 vs 1 a year earlier
    assert rows["2011-11"]["opened_yoy"] == 0.0 and rows["2011-12"]["opened_yoy"] is None
    assert rows["2010-12"]["cumulative_yoy"] is None
    assert len(g) == 27  # no gaps


def test_growth_until_and_yearly(store: Store) -> None:
    build_store(store)
    g = account_growth(store, until="2011")
    assert g.column("month")[-1].as_py() == "2011-12" and g.column("cumulative")[-1].as_py() == 4
    y = {r["year"]: r for r in yearly_growth(g).to_pylist()}
    assert y["2011"] == {"year": "2011", "opened": 3, "cumulative": 4, "cumulative_yoy": 4.0}


def test_growth_all_accounts_and_empty(store: Store) -> None:
    build_store(store)
    g = account_growth(store, government_only=False)
    assert g.column("month")[0].as_py() == "2010-01"  # D, not government
    assert len(account_growth(store, until="2009")) == 0
