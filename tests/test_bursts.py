from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

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


# Kleinberg's automaton -------------------------------------------------------------------


def sequence_cost(seq: list[int], r: list[int], d: list[int], s: float, gamma: float,
                  states: int) -> float:  # fmt: skip
    """The automaton's cost of one state sequence, written out from the paper's formulas."""
    from math import log

    n = len(r)
    p0 = sum(r) / sum(d)
    ps = [min(p0 * s**i, 1 - 1e-9) for i in range(states)]
    prev, total = 0, 0.0
    for t, q in enumerate(seq):
        total += max(q - prev, 0) * gamma * log(n)
        total -= r[t] * log(ps[q]) + (d[t] - r[t]) * log(1 - ps[q])
        prev = q
    return total


def test_kleinberg_viterbi_matches_brute_force() -> None:
    from itertools import product

    import numpy as np

    from govweibo.analyses.bursts import kleinberg_states

    rng = np.random.default_rng(7)
    bursty = 0
    for case in range(30):
        n = 7
        d = rng.integers(1, 40, n)
        rate = np.where(rng.random(n) < 0.3, 0.4, 0.08)
        r = rng.binomial(d, rate)
        if r.sum() == 0:
            continue
        states = 2 if case % 2 else 3
        q, _ = kleinberg_states(r[None], d, s=2.0, gamma=0.5, states=states)
        args = (r.tolist(), d.tolist(), 2.0, 0.5, states)
        best = min(sequence_cost(list(seq), *args) for seq in product(range(states), repeat=n))
        # Ties may pick another optimum: compare the cost of the path found with the best.
        assert sequence_cost(q[0].tolist(), *args) == pytest.approx(best, rel=1e-9), (r, d)
        bursty += bool(q.any())
    assert bursty >= 10  # the cases do exercise bursts, not only the all-base path


def totals_table(per_hour: dict[int, int]) -> pa.Table:
    from govweibo.analyses.bursts import TOTALS_SCHEMA

    return pa.table(
        {"bucket": [hour(h) for h in per_hour], "texts": list(per_hour.values())},
        schema=TOTALS_SCHEMA,
    )


def term_table(term: str, per_hour: dict[int, int]) -> pa.Table:
    hours = [h for h, c in per_hour.items() if c]
    return pa.table(
        {"term": [term] * len(hours), "bucket": [hour(h) for h in hours],
         "count": [per_hour[h] for h in hours]},
        schema=COUNTS_SCHEMA,
    )  # fmt: skip


def test_kleinberg_finds_a_known_burst() -> None:
    # 100 texts an hour for 48 hours; the term is in 5 of them, except hours 20-24 (30).
    totals = {h: 100 for h in range(48)}
    term = {h: 30 if 20 <= h < 25 else 5 for h in range(48)}
    out = detect_bursts(term_table("停电", term), method="kleinberg", totals=totals_table(totals))
    (b,) = out.to_pylist()
    assert (b["start"], b["end"], b["buckets"]) == (hour(20), hour(25), 5)
    assert (b["size"], b["peak_count"], b["level"], b["ongoing"]) == (150, 30, 1, False)
    p0 = (43 * 5 + 5 * 30) / 4800
    assert b["baseline_mean"] == pytest.approx(100 * p0)
    assert b["excess"] == pytest.approx(150 - 500 * p0)
    assert b["weight"] > 0 and b["threshold"] is None and b["baseline_sd"] is None
    # The threshold rule's columns stay as they were, with no level or weight.
    old = detect_bursts(counts_table(), unit="hour").to_pylist()[0]
    assert old["level"] is None and old["weight"] is None


def test_kleinberg_reads_shares_not_counts() -> None:
    # The term's count triples in hours 20-24, but so does all traffic: its share is flat.
    totals = {h: 300 if 20 <= h < 25 else 100 for h in range(48)}
    term = {h: 15 if 20 <= h < 25 else 5 for h in range(48)}
    flat = detect_bursts(term_table("天气", term), method="kleinberg", totals=totals_table(totals))
    assert len(flat) == 0
    # The threshold rule, which sees counts only, calls it a burst.
    assert len(detect_bursts(term_table("天气", term), baseline_days=0.5)) == 1


def test_kleinberg_gamma_levels_and_ongoing() -> None:
    totals = {h: 100 for h in range(48)}
    # A one-hour blip of 9 (p0 ~ 5 %): a burst at gamma 1, too short to pay for at gamma 4.
    blip = {h: 9 if h == 30 else 5 for h in range(48)}
    tt = totals_table(totals)
    assert len(detect_bursts(term_table("x", blip), method="kleinberg", totals=tt, gamma=0.3)) == 1
    assert len(detect_bursts(term_table("x", blip), method="kleinberg", totals=tt, gamma=4)) == 0
    # A strong burst in the last hours: level 2 of 3 states, and still going on.
    strong = {h: 60 if h >= 44 else 2 for h in range(48)}
    (b,) = detect_bursts(
        term_table("y", strong), method="kleinberg", totals=tt, states=3
    ).to_pylist()
    assert (b["start"], b["level"], b["ongoing"]) == (hour(44), 2, True)
    # Terms below min_count never burst; totals are required; parameters are checked.
    assert len(detect_bursts(term_table("y", strong), method="kleinberg", totals=tt,
                             min_count=61)) == 0  # fmt: skip
    from govweibo.errors import AnalysisError

    with pytest.raises(AnalysisError, match="totals"):
        detect_bursts(term_table("y", strong), method="kleinberg")
    with pytest.raises(AnalysisError, match="s > 1"):
        detect_bursts(term_table("y", strong), method="kleinberg", totals=tt, s=1.0)
    with pytest.raises(AnalysisError, match="method"):
        detect_bursts(term_table("y", strong), method="zscore")


def test_kleinberg_from_store() -> None:
    posts = []
    # 20 posts an hour about the weather; "停电" in 1 of them, then in 15 at hours 30-32.
    for h in range(60):
        n_term = 15 if 30 <= h < 33 else 1
        for i in range(20):
            text = f"#停电# 第{i}条" if i < n_term else f"#天气# 第{i}条"
            posts.append(model.Post("weibo", f"{h}-{i}", author_id="A", created_at=hour(h),
                                    text=text))  # fmt: skip
    with Store(":memory:") as store:
        store.con.register("_p", model.records_to_table("posts", posts))
        store.con.execute("INSERT INTO posts SELECT * FROM _p")
        from govweibo.analyses.bursts import bucket_totals

        tot = bucket_totals(store, unit="hour")
        assert tot.num_rows == 60 and set(tot.column("texts").to_pylist()) == {20}
        out = bursts(store, unit="hour", method="kleinberg", period="2020-06")
        assert out.column("term").to_pylist() == ["停电"]
        (b,) = out.to_pylist()
        assert (b["start"], b["end"], b["size"]) == (hour(30), hour(33), 45)
        # The threshold rule has no 7-day history here, so it finds nothing.
        assert len(bursts(store, unit="hour", period="2020-06")) == 0


@pytest.mark.realdata
def test_real_cctv_topic_bursts_kleinberg(store: Store) -> None:
    from conftest import shared_data

    from govweibo.ingest.base import ReadOptions
    from govweibo.ingest.runner import ingest

    ingest(store, [shared_data("cctv")], options=ReadOptions(year=2020))
    out = bursts(store, unit="day", kind="topics", texts="posts", period="2020",
                 method="kleinberg")  # fmt: skip
    rows = {r["term"]: r for r in out.to_pylist()}
    assert 30 <= len(out) <= 50  # 38 with the text pipeline of November 2026
    # The automaton holds the Two Sessions burst from the run-up (19 May, Beijing) to the
    # close (28 May): longer than the threshold rule's two days.
    two = rows["两会"]
    assert (two["start"], two["peak"], two["end"]) == (
        datetime(2020, 5, 18, 16, tzinfo=UTC),
        datetime(2020, 5, 21, 16, tzinfo=UTC),
        datetime(2020, 5, 29, 16, tzinfo=UTC),
    )
    assert (two["size"], two["peak_count"], two["level"]) == (126, 33, 1)
    # The heaviest burst: the daily epidemic bulletin tag from 27 January.
    top = max(out.to_pylist(), key=lambda r: r["weight"])
    assert top["term"] == "疫情联防联控实时播报" and top["size"] == 221


def test_cli_bursts_method_option(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from govweibo.cli import main

    posts = [
        model.Post("weibo", f"{h}-{i}", author_id="A", created_at=hour(h),
                   text="#停电# 又停了" if i < (15 if 30 <= h < 33 else 1) else "#天气# 晴")
        for h in range(60) for i in range(20)
    ]  # fmt: skip
    db = tmp_path / "b.duckdb"
    with Store(db) as store:
        store.con.register("_p", model.records_to_table("posts", posts))
        store.con.execute("INSERT INTO posts SELECT * FROM _p")
    base = ["--db", str(db), "bursts", "--unit", "hour", "--period", "2020-06"]
    out = CliRunner().invoke(main, [*base, "--method", "kleinberg", "--gamma", "1"])
    assert out.exit_code == 0, out.output
    assert "(1 rows)" in out.output and "停电" in out.output
    # Two and a half days of data: the threshold rule's 7-day baseline flags nothing.
    out = CliRunner().invoke(main, base)
    assert out.exit_code == 0, out.output
    assert "(0 rows)" in out.output
    bad = CliRunner().invoke(main, [*base, "--method", "zscore"])
    assert bad.exit_code == 2
