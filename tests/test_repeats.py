"""Leaving out exact repeats of carried rows changes nothing the merge stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govweibo import model
from govweibo.store import Store
from govweibo.store.repeats import RunRepeats

T0 = datetime(2011, 6, 1, tzinfo=UTC)


def _accounts(rows: list[dict[str, object]]) -> pa.Table:
    return model.conform("accounts", pa.Table.from_pylist(rows, schema=model.schema_of("accounts")))


def _row(account: str, name: str | None, followers_day: int = 0) -> dict[str, object]:
    return {
        "platform": "weibo",
        "account_id": account,
        "screen_name": name,
        "profile_observed_at": T0 + timedelta(days=followers_day),
        "run_id": 1,
    }


def test_exact_repeats_go_and_changed_rows_stay() -> None:
    repeats = RunRepeats(frozenset({"accounts"}))
    first = repeats.new_rows("accounts", _accounts([_row("1", "甲"), _row("2", None)]))
    assert first.num_rows == 2
    again = repeats.new_rows(
        "accounts",
        _accounts([_row("1", "甲"), _row("2", None), _row("3", "丙"), _row("1", "甲", 1)]),
    )
    # 1 and 2 repeat exactly (a NULL equals a NULL here); 3 is new; 1 observed later differs.
    assert again.column("account_id").to_pylist() == ["3", "1"]
    changed = repeats.new_rows("accounts", _accounts([_row("2", "乙")]))
    assert changed.num_rows == 1


def test_other_tables_and_a_reset_pass_everything() -> None:
    repeats = RunRepeats(frozenset({"accounts"}), limit=2)
    rows = _accounts([_row("1", "甲")])
    assert repeats.new_rows("posts", rows).num_rows == 1
    repeats.new_rows("accounts", rows)
    repeats.new_rows("accounts", _accounts([_row("2", "乙"), _row("3", "丙")]))  # over the limit
    assert repeats.new_rows("accounts", rows).num_rows == 1  # forgotten, staged again
    repeats.reset()
    assert repeats.new_rows("accounts", rows).num_rows == 1


def test_a_table_whose_rows_rarely_repeat_stops_being_checked() -> None:
    repeats = RunRepeats(frozenset({"accounts"}))
    distinct = _accounts([_row(str(i), "甲") for i in range(30_000)])
    repeats.new_rows("accounts", distinct)
    more = _accounts([_row(str(i), "甲") for i in range(30_000, 90_000)])
    assert repeats.new_rows("accounts", more).num_rows == 60_000  # none repeat: checks stop
    assert repeats.new_rows("accounts", distinct).num_rows == 30_000  # not looked up


_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["1", "2", "3"]),
        st.sampled_from(["甲", "乙", None]),
        st.sampled_from(["北京", None]),
        st.integers(0, 2),
        st.sampled_from([100, 200, None]),
    ),
    min_size=1,
    max_size=6,
)


def _merged(path: Path, batches: list[list[tuple[object, ...]]], filtered: bool) -> list[object]:
    with Store(path) as store:
        if not filtered:
            store._repeats = RunRepeats(frozenset())
        run = store.begin_run("x", "test", {}, 0)
        for rows in batches:
            accounts = [
                {**_row(str(a), n, d), "location": loc}  # type: ignore[arg-type]
                for a, n, loc, d, _ in rows
            ]
            counts = [
                {
                    "platform": "weibo",
                    "account_id": a,
                    "observed_at": T0 + timedelta(days=d),  # type: ignore[operator]
                    "followers": f,
                }
                for a, _, _, d, f in rows
            ]
            batch = model.Batch(
                secondary={
                    "accounts": _accounts(accounts),
                    "account_observations": model.conform(
                        "account_observations",
                        pa.Table.from_pylist(
                            [{**c, "run_id": 1} for c in counts],
                            schema=model.schema_of("account_observations"),
                        ),
                    ),
                }
            )
            store.write(run, batch)
        store.finish_run(run, checksum=None)
        return [
            store.arrow(f"SELECT * EXCLUDE (run_id) FROM {t} ORDER BY ALL").to_pylist()
            for t in ("accounts", "account_observations")
        ]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_ROWS, min_size=1, max_size=4))
def test_the_merge_stores_the_same_with_and_without_the_filter(
    tmp_path_factory: object, batches: list[list[tuple[object, ...]]]
) -> None:
    tmp = tmp_path_factory.mktemp("repeats")  # type: ignore[attr-defined]
    assert _merged(tmp / "a.duckdb", batches, True) == _merged(tmp / "b.duckdb", batches, False)
