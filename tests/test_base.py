from __future__ import annotations

from datetime import UTC, date, datetime

import ibis
import pyarrow as pa
import pytest

from govweibo.analyses.base import Period, accounts_universe, tables_of
from govweibo.errors import AnalysisError


def test_period_parsing() -> None:
    assert Period.parse("2011") == Period(date(2011, 1, 1), date(2012, 1, 1), "2011", "year")
    q = Period.parse("2011Q3")
    assert (q.start, q.end, q.days) == (date(2011, 7, 1), date(2011, 10, 1), 92)
    assert Period.parse("2011-q4").end == date(2012, 1, 1)
    assert Period.parse("2011-12").end == date(2012, 1, 1)
    r = Period.parse("2011-01-01..2011-01-31")
    assert r.days == 31 and r.previous() == Period.between("2010-12-01", "2010-12-31")
    assert Period.parse("2011Q1").previous().label == "2010Q4"
    assert Period.parse("2011-01").previous().label == "2010-12"
    assert Period.parse("2011").start_utc == datetime(2010, 12, 31, 16, tzinfo=UTC)
    for bad in ("2011Q5", "2011-13", "soon", "2011-02-30..2011-03-01"):
        with pytest.raises(AnalysisError):
            Period.parse(bad)


def test_a_mapping_of_ibis_tables_is_a_source() -> None:
    accounts = ibis.memtable(
        pa.table({"platform": ["weibo", "x"], "account_id": ["1", "2"],
                  "screen_name": ["a", "b"], "created_at": [None, None]})
    )  # fmt: skip
    source = {"accounts": accounts}
    table, has = tables_of(source)
    assert table("accounts") is accounts and has("accounts") and not has("posts")
    with pytest.raises(AnalysisError, match="no account_profiles"):
        accounts_universe(source)
    got = accounts_universe(source, government_only=False, platform="x").to_pyarrow()
    assert got.column_names == ["platform", "account_id", "screen_name", "opened_at",
                                "kind", "sector", "level", "province", "region"]  # fmt: skip
    assert got.column("account_id").to_pylist() == ["2"]
