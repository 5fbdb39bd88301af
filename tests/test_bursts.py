from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from govweibo import model
from govweibo.analyses.bursts import (
    COUNTS_SCHEMA,
    bursts,
    detect_bursts,
    term_counts,
    topics_of,
)
from govweibo.store import Store

T0 = datetime(2020, 6, 1, tzinfo=UTC)


def hour(h: int) -> datetime:
    return T0 + timedelta(hours=h)


def series() -> dict[str, dict[int, int]]:
    # "停电": one text every 10 hours, then 6, 10, 5 at hours 200-202; "天气": 1 every hour.
    blackout = {h: 1 for h in range(0, 200, 10)} | {200: 6, 201: 10, 202: 5, 205: 1}
    weather = {h: 1 for h in range(206)} | {100: 5}
    return {"停电": blackout, "天气": weather}


def counts_table() -> pa.Table:
    rows = [(t, hour(h), c) for t, s in series().items() for h, c in sorted(s.items())]
    return pa.table(
        {
            "term": [r[0] for r in rows],
            "bucket": [r[1] for r in rows],
            "count": [r[2] for r in rows],
        },
        schema=COUNTS_SCHEMA,
    )


def test_detect_bursts_start_peak_size() -> None:
    out = detect_bursts(counts_table(), unit="hour", k=3.0, min_count=5)
    # "天气" at hour 100 is 5 > 1 + 3*0, but has less than 7 days (168 h) of history.
    assert out.column("term").to_pylist() == ["停电"]
    (b,) = out.to_pylist()
    assert (b["start"], b["peak"], b["end"]) == (hour(200), hour(201), hour(203))
    assert (b["buckets"], b["peak_count"], b["size"]) == (3, 10, 21)
    assert b["baseline_mean"] == pytest.approx(16 / 168)  # hours 40, 50, ..., 190
    assert b["ongoing"] is False
    # With a 3-day baseline the weather spike counts too; a higher floor drops both.
    short = detect_bursts(counts_table(), unit="hour", baseline_days=3)
    assert short.column("term").to_pylist() == ["天气", "停电"]
    assert len(detect_bursts(counts_table(), min_count=11)) == 0
    assert len(detect_bursts(COUNTS_SCHEMA.empty_table())) == 0


def test_bursts_from_store() -> None:
    posts = []
    for term, s in series().items():
        for h, c in s.items():
            posts += [
                model.Post(
                    "weibo",
                    f"{term}{h}-{i}",
                    author_id="A",
                    created_at=hour(h),
                    text=f"#{term}# 第{i}条",
                )  # fmt: skip
                for i in range(c)
            ]
    with Store(":memory:") as store:
        store.con.register("_p", model.records_to_table("posts", posts))
        store.con.execute("INSERT INTO posts SELECT * FROM _p")
        c = term_counts(store, unit="hour")
        assert c.num_rows == sum(len(s) for s in series().values())
        out = bursts(store, unit="hour", period="2020-06")
        assert out.column("term").to_pylist() == ["停电"]
        assert out.column("size").to_pylist() == [21]
        assert len(bursts(store, unit="hour", period="2020-07")) == 0
        # Daily buckets: day 8 (hours 192-215) holds the burst but has only 8 days of history.
        daily = bursts(store, unit="day", min_count=5)
        assert daily.column("term").to_pylist() == ["停电"]


def test_topics_of() -> None:
    assert topics_of("【#张文宏解读# 】#疫情# 和 #疫情#") == ["张文宏解读", "疫情"]
    assert topics_of(None) == [] and topics_of("# #") == []


@pytest.mark.realdata
def test_real_cctv_topic_bursts(store: Store) -> None:
    from conftest import shared_data

    from govweibo.ingest.base import ReadOptions
    from govweibo.ingest.runner import ingest

    ingest(store, [shared_data("cctv")], options=ReadOptions(year=2020))
    out = bursts(store, unit="day", kind="topics", texts="posts", period="2020", min_count=5)
    rows = {r["term"]: r for r in out.to_pylist()}
    assert len(out) >= 50  # 58 with the text pipeline of November 2026
    # The two sessions opened on 21 May 2020 (Beijing); days start at 16:00 UTC.
    two = rows["两会"]
    assert (two["start"], two["peak"]) == (
        datetime(2020, 5, 20, 16, tzinfo=UTC),
        datetime(2020, 5, 21, 16, tzinfo=UTC),
    )
    assert (two["peak_count"], two["size"]) == (33, 47)
    assert rows["福建泉州一宾馆倒塌"]["start"] == datetime(2020, 3, 6, 16, tzinfo=UTC)
