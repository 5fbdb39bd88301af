"""Registry, growth, cascades and events are identical on DuckDB and on a real local Spark.

The data is a small synthetic world (through the real ingest path) plus the labelled
registry accounts, which exercise every classification rule, and hand-built cascades for
what the world lacks (parent ids, unresolved chain names, missing roots, a cycle, a
second platform). Each analysis runs on the DuckDB store and on Spark over the Parquet
export; rows are compared in order, floats to 1e-9.
"""

from __future__ import annotations

import json
import math
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import ROOT
from test_cascades import CHAIN, MIXED, STAR, post, table

from govweibo import model
from govweibo.analyses.cascades import cascade_tree, cascades
from govweibo.analyses.events import detect_events, official_response
from govweibo.analyses.growth import account_growth, yearly_growth
from govweibo.analyses.rumours import score_posts
from govweibo.cli import main
from govweibo.demo import ingest_manifest
from govweibo.registry import classify_accounts, classify_store
from govweibo.registry.evaluate import read_labels
from govweibo.store import Store
from govweibo.store.engines import SparkTables, map_batches
from govweibo.store.parquet import export_parquet, read_layout
from govweibo.synth import generate

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The world's store (classified on DuckDB) and its Parquet layout."""
    base = tmp_path_factory.mktemp("parity_world")
    generate(base / "w", accounts=200, posts=2000, seed=7)
    db = base / "w.duckdb"
    with Store(db) as store:
        ingest_manifest(store, base / "w")
        # The labelled accounts, on a platform of their own so the world's figures stay.
        rows = [dict(row, platform="labelled") for _, row, _, _ in read_labels(LABELS)]
        store.con.register("_labelled", model.conform("accounts", pa.Table.from_pylist(rows)))
        store.con.execute("INSERT INTO accounts SELECT * FROM _labelled")
        store.con.unregister("_labelled")
        classify_store(store)
        export_parquet(store, base / "pq")
    manifest = json.loads((base / "w" / "manifest.json").read_text(encoding="utf-8"))
    return {"base": base, "db": db, "pq": base / "pq", "events": manifest["events"]}


LABELS = ROOT / "tests" / "data" / "registry_labels.jsonl"


@pytest.fixture(scope="module")
def engines(world: dict[str, Any], spark: object) -> tuple[Store, SparkTables]:
    store = Store(world["db"], read_only=True)
    yield store, SparkTables(world["pq"], session=spark)  # type: ignore[misc]
    store.close()


def assert_same(a: pa.Table, b: pa.Table) -> None:
    """Same schema, same rows in the same order; floats to 1e-9, NaN only where NaN."""
    assert a.schema == b.schema
    ra, rb = a.to_pylist(), b.to_pylist()
    assert len(ra) == len(rb)
    for i, (x, y) in enumerate(zip(ra, rb, strict=True)):
        for col, u in x.items():
            v = y[col]
            if isinstance(u, float) and isinstance(v, float):
                if math.isnan(u) or math.isnan(v):
                    assert math.isnan(u) and math.isnan(v), (i, col, u, v)
                else:
                    assert abs(u - v) <= 1e-9, (i, col, u, v)
            else:
                assert u == v, (i, col, u, v)


def test_registry_on_spark_writes_the_same_profiles_into_the_layout(
    world: dict[str, Any], engines: tuple[Store, SparkTables]
) -> None:
    store, _ = engines
    duck = classify_accounts(store.table("accounts"))
    assert duck.num_rows > 1000 and 0 < sum(duck["is_government"].to_pylist()) < duck.num_rows
    layout = world["base"] / "pq_classify"
    shutil.copytree(world["pq"], layout)
    db = world["base"] / "classify.duckdb"
    shutil.copy(world["db"], db)
    # The command on both engines: same summary; Spark needs no store file.
    on_duck = CliRunner().invoke(main, ["--db", str(db), "classify"])
    on_spark = CliRunner().invoke(
        main,
        ["--db", str(world["base"] / "none.duckdb"), "classify", "--engine", "spark",
         "--parquet", str(layout)],
    )  # fmt: skip
    assert on_duck.exit_code == 0 and on_spark.exit_code == 0, on_spark.output
    assert on_spark.output == on_duck.output and "accounts are government" in on_duck.output
    assert not (world["base"] / "none.duckdb").exists()
    # The profiles written into the layout: every row and its order as on DuckDB.
    assert_same(duck, pq.read_table(layout / "account_profiles" / "part-0.parquet"))
    assert read_layout(layout)["tables"]["account_profiles"] == {
        "partition_by": [],
        "rows": duck.num_rows,
    }
    # And Spark reads the new table back.
    back = SparkTables(layout, session=engines[1].session).table("account_profiles")
    assert back.count().to_pyarrow().as_py() == duck.num_rows


@pytest.mark.parametrize("government_only", [True, False])
@pytest.mark.parametrize("until", [None, "2011"])
def test_growth_identical(
    engines: tuple[Store, SparkTables], government_only: bool, until: str | None
) -> None:
    store, spark_tables = engines
    a = account_growth(store, government_only=government_only, until=until)
    b = account_growth(spark_tables, government_only=government_only, until=until)
    assert a.num_rows > 12
    assert_same(a, b)
    assert_same(yearly_growth(a), yearly_growth(b))


def test_cascades_identical(engines: tuple[Store, SparkTables]) -> None:
    store, spark_tables = engines
    a, b = cascades(store), cascades(spark_tables)
    assert a.num_rows > 1000 and max(a["size"].to_pylist()) > 10
    assert_same(a, b)
    biggest = a.sort_by([("size", "descending"), ("root_post_id", "ascending")])
    for root in biggest["root_post_id"].to_pylist()[:3]:
        assert_same(cascade_tree(store, root), cascade_tree(spark_tables, root))


def test_rumour_scores_identical(engines: tuple[Store, SparkTables]) -> None:
    store, spark_tables = engines
    for hours in (None, 6.0):
        a, b = score_posts(store, hours=hours), score_posts(spark_tables, hours=hours)
        assert a.num_rows > 1000
        assert_same(a, b)


def test_events_and_official_response_identical(
    world: dict[str, Any], engines: tuple[Store, SparkTables]
) -> None:
    store, spark_tables = engines
    assert_same(detect_events(store, period="2011"), detect_events(spark_tables, period="2011"))
    em, ru = world["events"]["emergency"], world["events"]["rumour"]
    for kwargs in (
        {"keywords": em["keywords"], "start": em["start"], "hours": 24, "province": em["province"]},
        {"keywords": ru["keywords"], "start": ru["posted_at"], "rumour_root": str(ru["root_id"])},
    ):
        kwargs["start"] = datetime.fromisoformat(kwargs["start"])
        a, b = official_response(store, **kwargs), official_response(spark_tables, **kwargs)
        assert a.responders.num_rows > 0
        assert_same(a.responders, b.responders)
        assert_same(a.silent, b.silent)
        plain = ("event_posts", "official_posts", "first_post_at", "first_official_at")
        assert [getattr(a, k) for k in plain] == [getattr(b, k) for k in plain]
        assert a.delay_hours == pytest.approx(b.delay_hours, abs=1e-9)
        assert a.rumour == b.rumour


SCORED = pa.schema(
    [("platform", pa.string()), ("interaction_id", pa.string()), ("label", pa.string()),
     ("score", pa.float64())]
)  # fmt: skip


def test_sentiment_runs_in_arrow_batches_on_both_engines(
    engines: tuple[Store, SparkTables],
) -> None:
    """The Python sentiment model over the public's comments: per batch in Spark's workers
    (mapInArrow), per batch here on DuckDB; the same scores, and the same shares after an
    Ibis group-by on each engine."""

    # Nested, so Spark pickles it by value (workers cannot import a test module).
    def score_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
        from govweibo.text import sentiment

        scored = sentiment.score(batch.column("text").to_pylist())
        return pa.RecordBatch.from_arrays(
            [batch.column("platform"), batch.column("interaction_id"),
             pa.array([str(x.label) for x in scored], pa.string()),
             pa.array([x.score for x in scored], pa.float64())],
            schema=SCORED,
        )  # fmt: skip

    def run(tables: Any) -> tuple[pa.Table, pa.Table]:
        i = tables.table("interactions")
        texts = i.filter(i.kind == "comment").select("platform", "interaction_id", "text")
        scored = map_batches(tables, texts, score_batch, SCORED)
        shares = scored.group_by("label").aggregate(n=scored.count(), mean=scored.score.mean())
        return (
            scored.order_by(["platform", "interaction_id"]).to_pyarrow(),
            shares.order_by("label").to_pyarrow(),
        )

    store, spark_tables = engines
    (rows_a, shares_a), (rows_b, shares_b) = run(store), run(spark_tables)
    assert rows_a.num_rows > 100 and len(set(rows_a["label"].to_pylist())) == 3
    assert_same(rows_a, rows_b)
    assert_same(shares_a, shares_b)


@pytest.fixture(scope="module")
def hand_built(tmp_path_factory: pytest.TempPathFactory, spark: object) -> Any:
    """Cascades with what the synthetic world lacks, in a store and in a layout."""
    base = tmp_path_factory.mktemp("parity_cascades")
    rows = [
        *CHAIN, *STAR, *MIXED,
        post("r", "A", 0), post("p1", "B", 1, "r"), post("p2", "C", 2, "r", chain=["B"]),
        post("p3", "D", 3, "r", chain=["C", "B"]), post("p4", "E", 4, "r", chain=["Ghost"]),
        post("p5", "F", 5, "r", chain=["A"]), post("p6", "G", 6, "r", parent="missing"),
        post("g1", "u1", 1, "gone", "gone"), post("g2", "u2", 2, "g1"),
        post("cy", "u", 0), post("ca", "u1", 1, "cy", "cb"), post("cb", "u2", 2, "cy", "ca"),
        dict(post("a", "v0", 0), platform="mastodon"),
        dict(post("a1", "v1", 5, "a", "a"), platform="mastodon"),
    ]  # fmt: skip
    names = ["A", "B", "C", "D", "E", "F", "u1", "u2", "u3"]
    accounts = model.conform(
        "accounts",
        pa.table({
            "platform": ["weibo"] * len(names), "account_id": names, "screen_name": names,
            "verified": [True, True, False, None, None, False, True, False, None],
        }),
    )  # fmt: skip
    profiles = pa.table(
        {
            "platform": ["weibo"] * 3,
            "account_id": ["u1", "u2", "B"],
            "is_government": [True, False, True],
        }
    )
    store = Store(base / "c.duckdb")
    store.con.register("_p", table(rows))
    store.con.execute("INSERT INTO posts SELECT * FROM _p")
    store.con.register("_a", accounts)
    store.con.execute("INSERT INTO accounts SELECT * FROM _a")
    store.write_result("account_profiles", profiles)
    export_parquet(store, base / "pq")
    yield store, SparkTables(base / "pq", session=spark)
    store.close()


def test_hand_built_cascades_identical(hand_built: tuple[Store, SparkTables]) -> None:
    store, spark_tables = hand_built
    a, b = cascades(store), cascades(spark_tables)
    assert_same(a, b)
    by_root = {(r["platform"], r["root_post_id"]): r for r in a.to_pylist()}
    assert by_root[("weibo", "r")]["hops_unresolved"] == 2  # Ghost and the missing parent
    assert by_root[("weibo", "gone")]["root_present"] is False
    assert by_root[("mastodon", "a")]["size"] == 2
    for root in ("r", "m", "gone", "cy"):
        assert_same(cascade_tree(store, root), cascade_tree(spark_tables, root))


def _prints_the_same(world: dict[str, Any], args: list[str], spark_db: Path) -> None:
    """The command prints the same on DuckDB (the world's store) and on Spark (the Parquet
    layout, with `spark_db` as --db)."""
    duck = CliRunner().invoke(main, ["--db", str(world["db"]), *args])
    spark = CliRunner().invoke(
        main,
        ["--db", str(spark_db), *args, "--engine", "spark", "--parquet", str(world["pq"])],
    )
    assert duck.exit_code == 0 and spark.exit_code == 0, (args, spark.output)
    assert spark.output == duck.output, args


def test_propagation_commands_print_the_same_on_spark(world: dict[str, Any]) -> None:
    """cascades, rumour-score, events and response print the same on both engines."""
    em = world["events"]["emergency"]
    for args in (
        ["cascades", "--limit", "15"],
        ["rumour-score", "--hours", "6", "--limit", "10"],
        ["events", "--period", "2011", "--top", "5"],
        ["response", ",".join(em["keywords"]), "--start", em["start"], "--hours", "24",
         "--province", em["province"]],
    ):  # fmt: skip
        _prints_the_same(world, args, world["db"])


def test_index_on_spark_needs_no_store_file(world: dict[str, Any], tmp_path: Path) -> None:
    _prints_the_same(world, ["index", "--period", "2011", "--top", "5"], tmp_path / "none.duckdb")
    assert not (tmp_path / "none.duckdb").exists()


# The yearly report and the opinion commands ------------------------------------------------


def test_report_identical(engines: tuple[Store, SparkTables]) -> None:
    """Every table, the headline, the charts and the rendered report; provenance included."""
    from govweibo.report.yearly import build_report, render_html, render_markdown

    store, spark_tables = engines
    kw: dict[str, Any] = {"period": "2011", "draws": 50, "generated_at": "2026-01-01 00:00 UTC"}
    a, b = build_report(store, **kw), build_report(spark_tables, **kw)
    assert a.tables.keys() == b.tables.keys()
    assert a.tables["provenance"].num_rows > 0 and a.tables["index"].num_rows > 10
    for name in a.tables:
        assert_same(a.tables[name], b.tables[name])
    assert a.headline == b.headline
    assert a.charts == b.charts
    assert render_html(a) == render_html(b)
    assert render_markdown(a) == render_markdown(b)


def test_report_command_on_spark_needs_no_store_file(world: dict[str, Any], tmp_path: Path) -> None:
    env = {"SOURCE_DATE_EPOCH": "1767225600"}  # the same "generated" line on both runs
    args = ["report", "--period", "2011", "--format", "md"]
    duck = CliRunner().invoke(
        main, ["--db", str(world["db"]), *args, "--out", str(tmp_path / "a.md")], env=env
    )
    spark = CliRunner().invoke(
        main,
        ["--db", str(tmp_path / "none.duckdb"), *args, "--out", str(tmp_path / "b.md"),
         "--engine", "spark", "--parquet", str(world["pq"])],
        env=env,
    )  # fmt: skip
    assert duck.exit_code == 0 and spark.exit_code == 0, spark.output
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == (tmp_path / "b.md").read_text(
        encoding="utf-8"
    )
    assert not (tmp_path / "none.duckdb").exists()


SLICES: list[dict[str, Any]] = [
    {"period": "2011"},  # every public comment and mention (the mentions are a memtable)
    {"sector": "public_security", "period": "2011"},
    {"province": "广东", "voice": "account"},
]


@pytest.mark.parametrize("kwargs", SLICES)
def test_slice_sentiment_identical(
    engines: tuple[Store, SparkTables], kwargs: dict[str, Any]
) -> None:
    """Texts scored in Arrow batches (Spark's workers on Spark), labels counted by the engine."""
    from govweibo.analyses.concerns import slice_sentiment

    store, spark_tables = engines
    a, b = slice_sentiment(store, **kwargs), slice_sentiment(spark_tables, **kwargs)
    assert sum(a["texts"].to_pylist()) > 100
    assert_same(a, b)


@pytest.mark.parametrize("kwargs", SLICES)
def test_concerns_identical(engines: tuple[Store, SparkTables], kwargs: dict[str, Any]) -> None:
    """Keywords, topics and clusters; the background is tokenised and counted on the engine
    (all of it: the world is below max_background, whose hash sample differs by engine)."""
    from govweibo.analyses.concerns import concerns

    store, spark_tables = engines
    a, b = concerns(store, **kwargs), concerns(spark_tables, **kwargs)
    assert a.num_rows > 10
    assert_same(a, b)
    assert a.schema.metadata == b.schema.metadata


def test_term_counts_and_bursts_identical(engines: tuple[Store, SparkTables]) -> None:
    """The tokenising runs in Arrow batches and the counting on the engine; detection
    (numpy, on the driver) then sees the same counts."""
    from govweibo.analyses.bursts import bucket_totals, bursts, term_counts

    store, spark_tables = engines
    for kind in ("topics", "words"):
        for unit in ("hour", "day"):
            a = term_counts(store, kind=kind, unit=unit)
            assert a.num_rows > 50
            assert_same(a, term_counts(spark_tables, kind=kind, unit=unit))
    for unit in ("hour", "day"):
        a = bucket_totals(store, unit=unit, period="2011")
        assert a.num_rows > 50
        assert_same(a, bucket_totals(spark_tables, unit=unit, period="2011"))
    for method in ("threshold", "kleinberg"):
        a = bursts(store, kind="words", unit="day", period="2011", method=method)
        assert a.num_rows > 0
        assert_same(a, bursts(spark_tables, kind="words", unit="day", period="2011", method=method))


def test_responsiveness_and_deletions_identical(engines: tuple[Store, SparkTables]) -> None:
    from govweibo.analyses.deletions import deleted_posts, deletion_summary
    from govweibo.analyses.responsiveness import responsiveness

    store, spark_tables = engines
    for kwargs in ({"period": "2011"}, {"period": "2011Q3", "government_only": False}):
        a = responsiveness(store, **kwargs)
        assert a.num_rows > 10
        assert_same(a, responsiveness(spark_tables, **kwargs))
    for fn in (deleted_posts, deletion_summary):
        a = fn(store)
        assert a.num_rows > 0
        assert_same(a, fn(spark_tables))


def test_opinion_commands_print_the_same_on_spark(world: dict[str, Any], tmp_path: Path) -> None:
    """sentiment, concerns, responsiveness, deletions and bursts with --engine spark, and
    no DuckDB file."""
    for args in (
        ["sentiment", "--period", "2011"],
        ["sentiment", "--sector", "public_security", "--voice", "account"],
        ["concerns", "--sector", "public_security", "--period", "2011", "--top", "10"],
        ["responsiveness", "--period", "2011", "--limit", "10"],
        ["deletions"],
        ["deletions", "--summary"],
        ["bursts", "--kind", "words", "--unit", "day", "--method", "kleinberg"],
    ):
        _prints_the_same(world, args, tmp_path / "none.duckdb")
    assert not (tmp_path / "none.duckdb").exists()
