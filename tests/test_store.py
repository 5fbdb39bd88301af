from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govweibo import model
from govweibo.errors import StoreError
from govweibo.store import SCHEMA_VERSION, Store
from govweibo.store.schema import current_version


def test_new_store_is_at_current_version(store: Store) -> None:
    assert store.schema_version() == SCHEMA_VERSION
    assert set(store.counts()) == set(model.TABLES)


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    Store(tmp_path / "a.duckdb").close()
    s = Store(tmp_path / "a.duckdb")
    assert current_version(s.con) == SCHEMA_VERSION
    s.close()


def test_newer_store_is_refused(tmp_path: Path) -> None:
    s = Store(tmp_path / "a.duckdb")
    s.con.execute("UPDATE schema_meta SET value = '999' WHERE key = 'version'")
    s.close()
    with pytest.raises(StoreError, match="newer"):
        Store(tmp_path / "a.duckdb")


def test_read_only_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "none.duckdb", read_only=True)


def test_write_result_replaces_but_protects_canonical_tables(store: Store) -> None:
    store.write_result("scores", pa.table({"a": [1, 2]}))
    store.write_result("scores", pa.table({"a": [3]}))
    assert store.arrow("SELECT * FROM scores").to_pylist() == [{"a": 3}]
    with pytest.raises(StoreError):
        store.write_result("posts", pa.table({"a": [1]}))


def test_batch_upsert_keeps_newer_counts_and_history(store: Store) -> None:
    from datetime import UTC, datetime

    t1, t2 = datetime(2011, 1, 1, tzinfo=UTC), datetime(2011, 2, 1, tzinfo=UTC)
    run = store.begin_run("x", "test", {}, 0)

    def batch(when: datetime, reposts: int, followers: int) -> model.Batch:
        return model.Batch(
            primary={
                "posts": model.records_to_table(
                    "posts",
                    [model.Post("weibo", "1", text="t", reposts=reposts, counts_observed_at=when)],
                ),
                "account_observations": model.records_to_table(
                    "account_observations",
                    [model.AccountObservation("weibo", "9", when, followers=followers)],
                ),
            },
            records_read=2,
        )

    store.write(run, batch(t2, 10, 200))
    first = store.finish_run(run, checksum=None)
    assert (first["stored"], first["duplicate"]) == (2, 0)
    run = store.begin_run("y", "test", {}, 0)
    store.write(run, batch(t1, 5, 100))  # an older observation arrives later
    older = store.finish_run(run, checksum=None)
    # The older follower snapshot is new history; the post is a duplicate.
    assert (older["stored"], older["duplicate"]) == (1, 1)
    assert store.arrow("SELECT reposts FROM posts").to_pylist() == [{"reposts": 10}]
    assert store.counts()["account_observations"] == 2


def test_batches_grouped_in_one_transaction_commit_or_roll_back_together(store: Store) -> None:
    run = store.begin_run("x", "test", {}, 0)

    def batch(post_id: str) -> model.Batch:
        posts = model.records_to_table("posts", [model.Post("weibo", post_id, text="t")])
        return model.Batch(primary={"posts": posts}, records_read=1)

    store.write(run, batch("1"), commit=False)
    store.write(run, batch("2"), commit=False)
    store.con.execute("ROLLBACK")  # as a crash before the group's commit would
    store._in_transaction = False
    assert store.counts()["posts"] == 0
    assert store.run(run.run_id)["records_read"] == 0  # totals never run ahead of rows
    store.write(run, batch("1"), commit=False)
    store.write(run, batch("2"), commit=False)
    row = store.finish_run(run, checksum=None)  # commits the open group first
    assert store.counts()["posts"] == 2
    assert (row["records_read"], row["stored"]) == (2, 2)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.lists(
            st.tuples(st.sampled_from("abcdef"), st.integers(0, 5), st.integers(0, 99)),
            min_size=1,
            max_size=8,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_keys_stay_unique_and_newest_counts_win(tmp_path: Path, batches: list) -> None:
    """Without key indexes (schema 3) the writer alone keeps keys unique: whatever the
    batches repeat, each post is stored once, `stored` counts distinct keys, the counts
    are those of a newest observation, and each author gets one integer key (schema 4)."""
    from datetime import UTC, datetime, timedelta

    base = datetime(2011, 1, 1, tzinfo=UTC)
    with Store(tmp_path / f"h{abs(hash(str(batches)))}.duckdb") as store:
        run = store.begin_run("x", "test", {}, 0)
        for rows in batches:
            posts = [
                model.Post(
                    "weibo",
                    pid,
                    author_id=f"u{ord(pid) % 3}",
                    text=pid,
                    reposts=n,
                    counts_observed_at=base + timedelta(days=day),
                )
                for pid, day, n in rows
            ]
            table = model.records_to_table("posts", posts)
            store.write(run, model.Batch(primary={"posts": table}))
        row = store.finish_run(run, checksum=None)
        stored, duplicate = row["stored"], row["duplicate"]
        got = {r["post_id"]: r for r in store.arrow("SELECT * FROM posts").to_pylist()}
        keys = store.con.execute("SELECT account_id, account_key FROM account_keys").fetchall()
    # Each author has one key, keys are dense, and every post carries its author's.
    key_of = dict(keys)
    assert len(key_of) == len(keys) and sorted(key_of.values()) == list(range(1, len(keys) + 1))
    assert {row["author_key"] for row in got.values()} == set(key_of.values())
    assert all(key_of[row["author_id"]] == row["author_key"] for row in got.values())
    every = [row for rows in batches for row in rows]
    assert stored == len(got) == len({pid for pid, _, _ in every})
    assert duplicate == len(every) - stored
    for pid, row in got.items():
        newest = max(day for p, day, _ in every if p == pid)
        assert row["counts_observed_at"] == base + timedelta(days=newest)
        assert row["reposts"] in {n for p, day, n in every if p == pid and day == newest}


def test_a_fuller_copy_fills_what_a_stub_lacked(store: Store) -> None:
    """A post first seen as the stub a repost carries, and a comment first seen as the
    `reply_comment` of another, are completed by their own records, whatever the order
    the batches come in and with the same observation time."""
    from datetime import UTC, datetime

    when = datetime(2011, 6, 1, tzinfo=UTC)
    run = store.begin_run("x", "test", {}, 0)
    stub_post = model.Post("weibo", "1", text="原微博", counts_observed_at=when)
    full_post = model.Post(
        "weibo", "1", author_id="9", text="原微博", reposts=3, counts_observed_at=when
    )
    stub_comment = model.Interaction("weibo", "c1", "comment", actor_id="7", created_at=when)
    full_comment = model.Interaction(
        "weibo", "c1", "comment", actor_id="7", post_id="1", target_account_id="9", created_at=when
    )
    for posts, comments in (([stub_post], [stub_comment]), ([full_post], [full_comment])):
        store.write(
            run,
            model.Batch(
                secondary={
                    "posts": model.records_to_table("posts", posts),
                    "interactions": model.records_to_table("interactions", comments),
                }
            ),
        )
    store.finish_run(run, checksum=None)
    post = store.arrow("SELECT author_id, reposts FROM posts").to_pylist()
    assert post == [{"author_id": "9", "reposts": 3}]
    comment = store.arrow("SELECT post_id, target_account_id FROM interactions").to_pylist()
    assert comment == [{"post_id": "1", "target_account_id": "9"}]
    # The stub again, in a later run, changes nothing.
    run = store.begin_run("y", "test", {}, 0)
    store.write(run, model.Batch(secondary={"posts": model.records_to_table("posts", [stub_post])}))
    store.finish_run(run, checksum=None)
    assert store.arrow("SELECT author_id, reposts FROM posts").to_pylist() == post


def _one_post(post_id: str) -> model.Batch:
    posts = model.records_to_table("posts", [model.Post("weibo", post_id, text="t")])
    return model.Batch(primary={"posts": posts}, records_read=1)


def test_rows_a_killed_run_staged_are_merged_by_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    dying = Store(path)
    run = dying.begin_run("a", "test", {}, 0)
    dying.write(run, _one_post("1"))  # committed to the stage
    dying.write(run, _one_post("2"), commit=False)  # lost with the process
    dying.close()  # the process dies before finish_run: nothing merged
    with Store(path) as store:
        assert store.counts()["posts"] == 0  # staged only
        later = store.begin_run("b", "test", {}, 0)
        assert store.counts()["posts"] == 1
        killed = store.run(run.run_id)
        assert (killed["status"], killed["stored"], killed["records_read"]) == (
            "interrupted", 1, 1
        )  # fmt: skip
        store.write(later, _one_post("1"))
        store.write(later, _one_post("2"))
        row = store.finish_run(later, checksum=None)
        assert (row["stored"], row["duplicate"]) == (1, 1)
        assert store.counts()["posts"] == 2


def test_ingest_memory_limit_is_lifted_after_the_run_unless_the_user_set_one(
    tmp_path: Path,
) -> None:
    def limit(store: Store) -> str:
        return str(store.con.execute("SELECT current_setting('memory_limit')").fetchone()[0])  # type: ignore[index]

    with Store(tmp_path / "m.duckdb") as store:
        default = limit(store)
        run = store.begin_run("a", "test", {}, 0)
        assert limit(store) != default
        store.write(run, _one_post("1"))
        store.finish_run(run, checksum=None)
        assert limit(store) == default
    with Store(tmp_path / "m.duckdb", memory_limit="300MB") as store:
        chosen = limit(store)
        run = store.begin_run("b", "test", {}, 0)
        assert limit(store) == chosen
        store.finish_run(run, checksum=None)
        assert limit(store) == chosen


def test_a_stage_left_by_a_store_that_is_gone_is_not_merged(tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    dying = Store(path)
    run = dying.begin_run("a", "test", {}, 0)
    dying.write(run, _one_post("1"))  # committed to the stage
    dying.close()  # killed before finish_run
    path.unlink()  # the user deletes the store file and starts again
    with Store(path) as store:
        store.begin_run("b", "test", {}, 0)
        assert store.counts()["posts"] == 0  # the old store's staged row is not this one's


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["weibo", "weibo", "x"]),
            st.sampled_from("abc"),
            st.sampled_from([None, 5, 5, 7]),
        ),
        min_size=1,
        max_size=12,
    ),
    st.booleans(),
)
def test_newest_row_per_key_within_a_batch(rows: list, one_time: bool) -> None:
    """Per key, the row with the newest observation time wins (no time is the oldest),
    the first among equals: both by Arrow (at most one time in the batch) and by DuckDB,
    with one platform or several."""
    import duckdb

    from govweibo.store.writer import _newest_per_key

    if one_time:
        rows = [(p, k, None if t is None else 5) for p, k, t in rows]
    base = datetime(2012, 7, 1, tzinfo=UTC)
    data = model.records_to_table(
        "accounts",
        [
            model.Account(p, k, profile_observed_at=None if t is None else base + timedelta(days=t))
            for p, k, t in rows
        ],
    )
    got = sorted(int(i) for i in _newest_per_key(duckdb.connect(), data, "accounts"))
    want = []
    for key in sorted({(p, k) for p, k, _ in rows}):
        mine = [(i, t) for i, (p, k, t) in enumerate(rows) if (p, k) == key]
        best = max((t for _, t in mine if t is not None), default=None)
        want.append(next(i for i, t in mine if t == best))
    assert got == sorted(want)


def test_a_stored_post_without_its_author_key_gets_it_when_seen_again(store: Store) -> None:
    """Only rows that change are rewritten; a missing author key is such a change."""
    store.con.execute(
        "INSERT INTO posts (platform, post_id, author_id, text) VALUES ('weibo', '1', 'u1', 'x')"
    )
    post = model.Post("weibo", "1", author_id="u1", text="y")
    batch = model.Batch(primary={"posts": model.records_to_table("posts", [post])})
    for _ in range(2):
        run = store.begin_run("a", "test", {}, 0)
        store.write(run, batch)
        assert store.finish_run(run, checksum=None)["duplicate"] == 1
        got = store.con.execute(
            "SELECT p.author_key = k.account_key, p.text FROM posts AS p "
            "JOIN account_keys AS k ON k.account_id = p.author_id"
        ).fetchall()
        assert got == [(True, "x")]


def test_ids_and_texts_are_stored_with_fsst(tmp_path: Path) -> None:
    """The compression store/schema.py chooses up front is the one used, even where
    DuckDB's own analysis would pick another (values that repeat: a dictionary); a
    DuckDB that ignored the clause would fail here rather than silently slow down."""
    path = tmp_path / "f.duckdb"
    posts = [model.Post("weibo", str(i), mid=f"m{i % 3}", text=f"文本{i % 3}") for i in range(3000)]
    batch = model.Batch(primary={"posts": model.records_to_table("posts", posts)})
    with Store(path) as store:
        run = store.begin_run("a", "test", {}, 0)
        store.write(run, batch)
        store.finish_run(run, checksum=None)
        store.con.execute("CREATE TABLE plain AS SELECT mid FROM posts")
        store.con.execute("CHECKPOINT")
        got = store.con.execute(
            "SELECT DISTINCT column_name, compression FROM pragma_storage_info('posts') "
            "WHERE segment_type = 'VARCHAR' AND column_name IN ('post_id', 'mid', 'text')"
        ).fetchall()
        auto = store.con.execute(
            "SELECT DISTINCT compression FROM pragma_storage_info('plain') "
            "WHERE segment_type = 'VARCHAR'"
        ).fetchall()
    assert sorted(got) == [("mid", "FSST"), ("post_id", "FSST"), ("text", "FSST")]
    assert auto == [("Dictionary",)]


# As readers make them: a profile (a name, here) comes with its observation time; a stub
# has neither.
_ACCOUNT_ROWS = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["1", "2", "3"]), st.just(None), st.just(None)),
        st.tuples(
            st.sampled_from(["1", "2", "3"]),
            st.sampled_from(["甲", None]),
            st.integers(0, 2),
        ),
    ),
    min_size=1,
    max_size=5,
)


def _accounts_after(path: Path, runs: list[list[list[tuple]]], split: bool) -> list[dict]:
    import govweibo.store.writer as writer

    base = datetime(2012, 7, 1, tzinfo=UTC)
    with Store(path) as store:
        for batches in runs:
            run = store.begin_run("a", "test", {}, 0)
            for rows in batches:
                accounts = [
                    model.Account(
                        "weibo",
                        a,
                        screen_name=name,
                        profile_observed_at=None if day is None else base + timedelta(days=day),
                    )
                    for a, name, day in rows
                ]
                table = model.records_to_table("accounts", accounts)
                batch = model.Batch(secondary={"accounts": table})
                original = writer.STUB_TABLES
                writer.STUB_TABLES = original if split else ()  # type: ignore[misc]
                try:
                    store.write(run, batch)
                finally:
                    writer.STUB_TABLES = original  # type: ignore[misc]
            store.finish_run(run, checksum=None)
        return store.arrow("SELECT * FROM accounts ORDER BY ALL").to_pylist()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(_ACCOUNT_ROWS, min_size=1, max_size=3), min_size=1, max_size=2))
def test_stubs_merged_apart_give_the_rows_they_give_merged_with_the_rest(
    tmp_path_factory: pytest.TempPathFactory, runs: list
) -> None:
    """Carried accounts with nothing but their key (stage_files.STUB_TABLES) are staged
    and merged apart; the store ends the same as when they are ranked with the rest."""
    tmp = tmp_path_factory.mktemp("stubs")
    split = _accounts_after(tmp / "a.duckdb", runs, True)
    assert split == _accounts_after(tmp / "b.duckdb", runs, False)


def test_a_stub_does_not_shadow_a_row_of_its_key_in_the_same_batch(store: Store) -> None:
    """Staged apart, a stub no longer takes the place of an untimed row with a name that
    follows it in the batch (the batch's reduction kept the first of two untimed rows)."""
    rows = [model.Account("weibo", "1"), model.Account("weibo", "1", screen_name="甲")]
    batch = model.Batch(secondary={"accounts": model.records_to_table("accounts", rows)})
    run = store.begin_run("a", "test", {}, 0)
    store.write(run, batch)
    store.finish_run(run, checksum=None)
    assert store.con.execute("SELECT screen_name FROM accounts").fetchall() == [("甲",)]
