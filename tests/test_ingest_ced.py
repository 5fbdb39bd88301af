from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import FIXTURES, shared_data

from govweibo.ingest import ReadOptions, ingest
from govweibo.ingest.ced import CedError, repost_time
from govweibo.store import Store


def test_fixture_corpus(store: Store) -> None:
    summary = ingest(
        store, [FIXTURES / "ced"], options=ReadOptions(observed_at=datetime(2015, 1, 1, tzinfo=UTC))
    )
    f = summary.files[0]
    # 2 source posts + 5 repost records; one repost repeated; one with a date "昨天".
    assert (f.format, f.records_read, f.stored, f.duplicate, f.rejected) == ("ced", 7, 5, 1, 1)
    posts = {r["mid"]: r for r in store.arrow("SELECT * FROM posts").to_pylist()}
    root = posts["zvUcLCeTm"]
    child = posts["zvUdbbbbb"]
    assert posts["zvUdaaaaa"]["parent_post_id"] == root["post_id"]
    assert child["parent_post_id"] == posts["zvUdaaaaa"]["post_id"]
    assert child["retweeted_post_id"] == root["post_id"]
    # "07月01日 09:30" took the source post's year (2011), Beijing time.
    assert child["created_at"] == datetime(2011, 7, 1, 1, 30, tzinfo=UTC)
    assert child["author_id"] == "someone"  # non-numeric uids are kept as they are
    labels = dict(store.con.execute("SELECT post_id, label FROM post_labels").fetchall())
    assert labels[root["post_id"]] == "rumour"
    assert sorted(labels.values()) == ["non-rumour", "rumour"]
    acct = store.arrow("SELECT * FROM accounts WHERE account_id = '1111111111'").to_pylist()[0]
    assert acct["verified_type"] == 1 and acct["location"] == "浙江 杭州"
    q = store.arrow("SELECT * FROM quarantine").to_pylist()[0]
    assert q["field"] == "date" and q["source_path"].endswith(
        "rumor-repost/1_zvUcLCeTm_1111111111.json"
    )


def test_yearless_dates_roll_into_the_next_year() -> None:
    src = datetime(2011, 12, 30, 12, 0, tzinfo=UTC)
    assert repost_time("01月02日 08:00", src).year == 2012
    with pytest.raises(CedError):
        repost_time("02月30日 08:00", src)


@pytest.mark.realdata
def test_real_corpus_exact_counts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ced = shared_data("ced")
    with Store(tmp_path / "ced.duckdb") as s:
        summary = ingest(s, [ced])
        f = summary.files[0]
        assert (f.records_read, f.stored, f.duplicate, f.rejected) == (898009, 897522, 487, 0)
        counts = s.counts()
        assert counts["posts"] == 897522
        assert counts["post_labels"] == 2381
        assert counts["accounts"] == 774266
        labels = dict(
            s.con.execute("SELECT label, count(*) FROM post_labels GROUP BY 1").fetchall()
        )
        assert labels == {"rumour": 1093, "non-rumour": 1288}
    # Again: nothing new, nothing rewritten, and within the ingest's memory limit (the
    # merge once joined every re-seen post, text and all, and ran out of memory here).
    with Store(tmp_path / "ced.duckdb") as s:
        again = ingest(s, [ced]).files[0]
        assert (again.records_read, again.stored, again.duplicate) == (898009, 0, 898009)
        assert s.counts() == {**counts, "ingest_runs": 2}
