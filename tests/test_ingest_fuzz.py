"""Damaged and hostile files (issue #23): one bad file never costs the others.

Over 200 damaged files and CED folders (tests/damage.py, generated with fixed seeds) are
ingested in one command between two good files: no exception escapes, both good files
are stored whole, every run ends with a final status, and every damaged file's run says
what was rejected and why, or why it failed.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from damage import good_lines, write_corpus

from govweibo.ingest import ReadOptions, ingest
from govweibo.ingest.runner import FileResult, IngestSummary
from govweibo.store import Store

# Small limits, so that long lines span reads and cross the limit in a test-sized file.
OPTS = ReadOptions(chunk_bytes=100_000, max_line_bytes=256_000)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[IngestSummary, Store, dict]:
    root = tmp_path_factory.mktemp("fuzz")
    folder = root / "in"
    kinds = write_corpus(folder, seed=23, mutated=170)
    (folder / "a_good.jsonl").write_bytes(good_lines(0, 50))
    (folder / "z_good.jsonl.gz").write_bytes(gzip.compress(good_lines(50, 50)))
    store = Store(root / "t.duckdb")
    summary = ingest(store, [folder], fmt="weibo-api", options=OPTS)
    yield summary, store, kinds
    store.close()


def _by_name(summary: IngestSummary) -> dict[str, FileResult]:
    return {Path(f.path).name: f for f in summary.files}


def test_over_200_damaged_files_between_two_good_ones(corpus: tuple) -> None:
    summary, store, kinds = corpus
    files = _by_name(summary)
    assert len(kinds) >= 200
    assert set(kinds) <= set(files), "every damaged file and folder was read"
    assert not summary.skipped
    for good in ("a_good.jsonl", "z_good.jsonl.gz"):
        f = files[good]
        assert (f.status, f.records_read, f.stored, f.rejected) == ("done", 50, 50, 0), f
    ids = {
        r["post_id"]
        for r in store.arrow("SELECT post_id FROM posts WHERE platform = 'weibo'").to_pylist()
    }
    assert {str(3367895826488218 + i) for i in range(100)} <= ids


def test_every_run_has_a_final_status_and_says_why(corpus: tuple) -> None:
    summary, store, kinds = corpus
    runs = store.arrow("SELECT run_id, status, message, rejected FROM ingest_runs").to_pylist()
    assert len(runs) == len(summary.files)
    assert {r["status"] for r in runs} <= {"done", "failed"}
    quarantined = {
        r["run_id"]: r["n"]
        for r in store.arrow(
            "SELECT run_id, count(*) AS n, count(reason) AS why FROM quarantine "
            "WHERE reason <> '' GROUP BY run_id"
        ).to_pylist()
    }
    for f in summary.files:
        if f.status == "failed":
            assert f.message, f
        if f.rejected:
            # Every reject is a quarantine row with its reason (rows of one run may
            # share a key: a CED source rejected twice is one row).
            assert 0 < quarantined.get(f.run_id, 0) <= f.rejected, f
        if f.status == "done" and f.format == "weibo-api":
            # Every record read is accounted for: stored, a duplicate, or quarantined.
            assert f.stored + f.duplicate + f.rejected == f.records_read, f
    damaged = [f for f in summary.files if Path(f.path).name in kinds]
    # Damage is visible (a mutation may leave a record valid: a flipped byte in a text
    # that still decodes, as GB18030 if not as UTF-8).
    assert sum(1 for f in damaged if f.rejected or f.status == "failed") > 0.6 * len(damaged)


def _reasons(store: Store, f: FileResult) -> list[tuple[str | None, str]]:
    rows = store.arrow(
        "SELECT field, reason FROM quarantine WHERE run_id = ? ORDER BY line, item", [f.run_id]
    ).to_pylist()
    return [(r["field"], r["reason"]) for r in rows]


def test_damaged_streams_fail_their_run_and_keep_what_came_before(corpus: tuple) -> None:
    summary, _, _ = corpus
    files = _by_name(summary)
    for name, word in [
        ("m_truncated.jsonl.gz", "ends early"),
        ("m_corrupt.jsonl.gz", "compressed stream"),
        ("m_trailing_garbage.jsonl.gz", "corrupt"),
    ]:
        f = files[name]
        assert f.status == "failed" and word in f.message, f
        # The 40 distinct statuses before the damage (a corrupt block decodes to some
        # garbage first, which is quarantined).
        assert f.stored == 40 or (name == "m_corrupt.jsonl.gz" and f.stored > 0), f
    assert files["m_not_gzip.jsonl.gz"].status == "failed"


def test_a_bad_first_line_does_not_make_a_document(corpus: tuple) -> None:
    summary, store, _ = corpus
    files = _by_name(summary)
    for name in ("m_malformed_first.jsonl", "m_not_utf8_first.jsonl"):
        f = files[name]
        assert (f.status, f.stored, f.rejected) == ("done", 3, 1), f
    f = files["m_malformed_first_long.jsonl"]
    assert (f.stored, f.rejected) == (3, 1), f


def test_long_lines_are_quarantined_by_their_first_bytes(corpus: tuple) -> None:
    summary, store, _ = corpus
    f = _by_name(summary)["m_long_line.jsonl"]
    assert (f.status, f.stored, f.rejected) == ("done", 4, 1), f
    rows = store.arrow("SELECT line, reason, raw FROM quarantine WHERE run_id = ?", [f.run_id])
    row = rows.to_pylist()[0]
    assert row["line"] == 3 and "over the limit" in row["reason"]
    assert row["raw"].startswith('{"text": "yyy') and len(row["raw"]) <= 2000
    f = _by_name(summary)["m_long_last_line.jsonl"]
    assert (f.stored, f.rejected) == (1, 1), f


def test_hostile_values_are_rejects_naming_their_field(corpus: tuple) -> None:
    summary, store, _ = corpus
    files = _by_name(summary)
    expect = {
        "m_deep.jsonl": (2, None),
        "m_bigint.jsonl": (2, "id"),
        "m_surrogate.jsonl": (2, None),
        "m_huge_counts.jsonl": (0, "reposts_count"),
        "m_huge_verified_type.jsonl": (0, "user.verified_type"),
        "m_year_10000.jsonl": (0, "created_at"),
        "m_year_0001.jsonl": (0, "created_at"),
    }
    for name, (stored, field) in expect.items():
        f = files[name]
        assert (f.status, f.stored, f.rejected) == ("done", stored, 1), f
        assert _reasons(store, f)[0][0] == field, (name, _reasons(store, f))


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("m_ced_nan_time", "time"),
        ("m_ced_1e20_time", "time"),
        ("m_ced_inf_user_time", "user.time"),
        ("m_ced_year_10000", "time"),
        ("m_ced_huge_counts", "reposts"),
        ("m_ced_huge_pics", "pics"),
        ("m_ced_huge_verified_type", "user.verified_type"),
        ("m_ced_source_array", "record"),
        ("m_ced_source_surrogate", "text"),
        ("m_ced_year_0001_repost", "date"),
        ("m_ced_year_9999_repost", "date"),
        ("m_ced_repost_surrogate", "text"),
        ("m_ced_source_deep", None),
        ("m_ced_kids_bigint", None),
        ("m_ced_repost_deep", None),
        ("m_ced_unreadable", None),
    ],
)
def test_ced_damage_is_a_reject_naming_its_field(corpus: tuple, name: str, field: str) -> None:
    summary, store, _ = corpus
    f = _by_name(summary)[name]
    assert f.status == "done" and f.rejected >= 1, f
    reasons = _reasons(store, f)
    assert reasons and reasons[0][0] == field, reasons
