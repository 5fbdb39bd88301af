"""Schema migrations: a version-1 store file (before the collector tables were a migration)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from govweibo import model
from govweibo.collect import watch_add, watch_list
from govweibo.store import SCHEMA_VERSION, Store
from govweibo.store.inspect import status
from govweibo.store.schema import COLLECT_TABLES, MIGRATIONS, OBSERVE_TABLES

WHEN = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
# The DDL collect/state.py ran on first use before schema version 2, verbatim.
ADHOC_V1 = (
    """CREATE TABLE IF NOT EXISTS watch_list (
        platform VARCHAR NOT NULL, kind VARCHAR NOT NULL, value VARCHAR NOT NULL,
        added_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (platform, kind, value))""",
    """CREATE TABLE IF NOT EXISTS collect_cursors (
        platform VARCHAR NOT NULL, account VARCHAR NOT NULL, endpoint VARCHAR NOT NULL,
        since_id VARCHAR, max_id VARCHAR, high_id VARCHAR, next_url VARCHAR,
        updated_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (platform, account, endpoint))""",
    """CREATE TABLE IF NOT EXISTS collect_log (
        requested_at TIMESTAMPTZ NOT NULL, platform VARCHAR, endpoint VARCHAR, url VARCHAR,
        status INTEGER, records BIGINT, elapsed_ms BIGINT, message VARCHAR)""",
)


def v1_store(path: Path, *, with_collector: bool) -> None:
    """A store file as govweibo with schema version 1 left it."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    MIGRATIONS[0](con)
    con.execute("INSERT INTO schema_meta VALUES ('version', '1')")
    con.execute(
        "INSERT INTO posts (platform, post_id, author_id, text) "
        "VALUES ('weibo', '4100000000000001', '5000000001', '【出行】周末交通管制')"
    )
    if with_collector:
        for ddl in ADHOC_V1:
            con.execute(ddl)
        con.execute("INSERT INTO watch_list VALUES ('weibo', 'account', '5000000001', ?)", [WHEN])
        con.execute(
            "INSERT INTO collect_cursors VALUES ('weibo', '5000000001', "
            "'statuses/user_timeline.json', NULL, NULL, '4100000000000001', NULL, ?)",
            [WHEN],
        )
        con.execute(
            "INSERT INTO collect_log VALUES (?, 'weibo', 'users/show.json', "
            "'https://api.weibo.com/2/users/show.json?uid=5000000001', 200, 1, 85, 'ok')",
            [WHEN],
        )
    con.close()


@pytest.mark.parametrize("with_collector", [True, False])
def test_v1_store_migrates_to_current(tmp_path: Path, with_collector: bool) -> None:
    path = tmp_path / "v1.duckdb"
    v1_store(path, with_collector=with_collector)
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == 7
        assert all(store.has_table(t) for t in COLLECT_TABLES)
        assert all(store.has_table(t) for t in OBSERVE_TABLES)  # version 7
        assert not any(store.has_table(f"_stage_{t}") for t in model.DATA_TABLES)  # version 6
        info = status(store)
        assert info.schema_version == 7 and info.counts["posts"] == 1
        expected = 1 if with_collector else 0
        assert info.collect_counts == {
            "watch_list": expected, "collect_cursors": expected, "collect_log": expected
        }  # fmt: skip
        # The collector works on the migrated store, and kept what it had.
        assert watch_add(store, "辟谣", kind="keyword")
        assert [w.value for w in watch_list(store)] == (
            ["5000000001", "辟谣"] if with_collector else ["辟谣"]
        )
    with Store(path) as again:  # reopening does not migrate twice
        assert again.schema_version() == 7


def test_status_of_a_read_only_v1_store_skips_missing_collector_tables(tmp_path: Path) -> None:
    path = tmp_path / "v1.duckdb"
    v1_store(path, with_collector=False)
    with Store(path, read_only=True) as store:  # read-only: not migrated
        info = status(store)
    assert info.schema_version == 1 and info.collect_counts == {}


def test_new_store_has_collector_tables(store: Store) -> None:
    assert all(store.has_table(t) for t in COLLECT_TABLES)
    assert status(store).collect_counts == dict.fromkeys(COLLECT_TABLES, 0)


def test_v3_drops_key_indexes_and_keeps_rows(tmp_path: Path) -> None:
    path = tmp_path / "v1.duckdb"
    v1_store(path, with_collector=False)
    with Store(path) as store:
        kinds = store.con.execute(
            "SELECT table_name, constraint_type, constraint_column_names FROM duckdb_constraints() "
            "WHERE table_name = 'posts'"
        ).fetchall()
        assert not [k for k in kinds if k[1] == "PRIMARY KEY"]
        assert ("posts", "NOT NULL", ["post_id"]) in kinds
        assert store.arrow("SELECT post_id, text FROM posts").to_pylist() == [
            {"post_id": "4100000000000001", "text": "【出行】周末交通管制"}
        ]
        # The quarantine and the runs keep theirs.
        assert store.con.execute(
            "SELECT count(*) FROM duckdb_constraints() "
            "WHERE table_name = 'quarantine' AND constraint_type = 'PRIMARY KEY'"
        ).fetchone() == (1,)


def test_v4_keys_the_authors_of_posts_stored_before_it(tmp_path: Path) -> None:
    """A store whose posts predate author keys (no column, no account_keys) gets both,
    with its rows, and posts written afterwards reuse the keys."""
    path = tmp_path / "v1.duckdb"
    v1_store(path, with_collector=False)
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE posts DROP COLUMN author_key")  # as versions 1-3 left it
    con.execute(
        "INSERT INTO posts (platform, post_id, author_id) VALUES "
        "('weibo', '4100000000000002', '5000000002'), ('weibo', '4100000000000003', '5000000001'),"
        " ('weibo', '4100000000000004', NULL)"
    )
    con.close()
    with Store(path) as store:
        rows = store.arrow(
            "SELECT post_id, author_id, author_key FROM posts ORDER BY post_id"
        ).to_pylist()
        keys = dict(
            store.con.execute("SELECT account_id, account_key FROM account_keys").fetchall()
        )
        assert keys == {"5000000001": 1, "5000000002": 2}
        assert [(r["author_id"], r["author_key"]) for r in rows] == [
            ("5000000001", 1), ("5000000002", 2), ("5000000001", 1), (None, None)
        ]  # fmt: skip
        run = store.begin_run("x", "test", {}, 0)
        posts = [
            model.Post("weibo", "9", author_id="5000000002"),
            model.Post("weibo", "8", author_id="77"),
        ]
        store.write(run, model.Batch(primary={"posts": model.records_to_table("posts", posts)}))
        store.finish_run(run, checksum=None)
        got = dict(
            store.con.execute(
                "SELECT post_id, author_key FROM posts WHERE post_id IN ('8', '9')"
            ).fetchall()
        )
        assert got == {"9": 2, "8": 3}


def test_v6_merges_what_a_killed_run_left_in_the_stage_tables(tmp_path: Path) -> None:
    """Before version 6 a run staged into tables; rows a killed run left there reach the
    data tables when the store is opened by this version, and the tables go."""
    path = tmp_path / "v5.duckdb"
    v1_store(path, with_collector=False)
    con = duckdb.connect(str(path))
    for migration in MIGRATIONS[1:5]:
        migration(con)
    con.execute("UPDATE schema_meta SET value = '5' WHERE key = 'version'")
    con.execute(
        "INSERT INTO _stage_posts (platform, post_id, author_id, text, reposts, run_id, _seq, "
        "_primary) VALUES ('weibo', '4100000000000001', '5000000001', '【出行】', 7, 2, 0, true), "
        "('weibo', '4100000000000002', '5000000001', '新', NULL, 2, 1, true)"
    )
    con.close()
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert not store.has_table("_stage_posts")
        rows = store.arrow("SELECT post_id, text, reposts FROM posts ORDER BY post_id").to_pylist()
    assert rows == [
        {"post_id": "4100000000000001", "text": "【出行】周末交通管制", "reposts": 7},
        {"post_id": "4100000000000002", "text": "新", "reposts": None},
    ]
