from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from govweibo.analyses.events import official_response
from govweibo.demo import ingest_manifest
from govweibo.errors import AnalysisError
from govweibo.registry import classify_store
from govweibo.store import Store
from govweibo.synth import generate


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict]:
    base = tmp_path_factory.mktemp("events")
    generate(base / "w", accounts=300, posts=3000, seed=7)
    store = Store(base / "s.duckdb")
    ingest_manifest(store, base / "w")
    classify_store(store)
    manifest = json.loads((base / "w" / "manifest.json").read_text(encoding="utf-8"))
    return store, manifest["events"]


def test_emergency_responders_and_silent_accounts(world: tuple[Store, dict]) -> None:
    store, events = world
    em = events["emergency"]
    r = official_response(
        store,
        keywords=em["keywords"],
        start=datetime.fromisoformat(em["start"]),
        hours=24,
        province=em["province"],
    )
    names = r.responders["screen_name"].to_pylist()
    expected = [x["screen_name"] for x in em["responders"]]
    assert names[: len(expected)] == expected  # in order of first post
    delays = dict(zip(names, r.responders["delay_hours"].to_pylist(), strict=True))
    for x in em["responders"]:
        assert abs(delays[x["screen_name"]] - x["delay_hours"]) < 0.02
    silent = set(r.silent["screen_name"].to_pylist())
    assert {x["screen_name"] for x in em["silent"]} <= silent
    assert not silent & set(expected)


def test_rumour_clarification_against_the_cascade(world: tuple[Store, dict]) -> None:
    store, events = world
    ru = events["rumour"]
    r = official_response(
        store,
        keywords=ru["keywords"],
        start=datetime.fromisoformat(ru["posted_at"]),
        hours=72,
        rumour_root=str(ru["root_id"]),
    )
    assert r.rumour["clarification_post_id"] == str(ru["clarification_id"])
    assert r.rumour["clarifier_id"] == str(ru["clarifier_id"])
    assert r.rumour["hours_to_clarification"] == pytest.approx(7.5, abs=0.01)
    assert (
        r.rumour["rumour_reposts_before"] + r.rumour["rumour_reposts_after"]
        == r.rumour["rumour_reposts"]
    )
    assert r.rumour["rumour_per_hour_after"] < r.rumour["rumour_per_hour_before"]


def test_bad_requests(world: tuple[Store, dict], tmp_path: Path) -> None:
    store, _ = world
    with pytest.raises(AnalysisError):
        official_response(
            store, keywords=[""], start=datetime.fromisoformat("2011-01-01T00:00+08:00")
        )
    with Store(tmp_path / "empty.duckdb") as empty, pytest.raises(AnalysisError, match="classify"):
        official_response(
            empty, keywords=["x"], start=datetime.fromisoformat("2011-01-01T00:00+08:00")
        )


def test_similar_official_post_without_the_keyword_counts(tmp_path: Path) -> None:
    from datetime import UTC

    import pyarrow as pa

    from govweibo import model

    t0 = datetime(2011, 7, 18, 0, 0, tzinfo=UTC)
    posts = [
        model.Post(
            "weibo", "1", author_id="u1", created_at=t0, text="暴雨导致城区多处道路积水严重"
        ),
        model.Post(
            "weibo", "2", author_id="u2", created_at=t0, text="暴雨！城区多处道路积水，出行困难"
        ),
        model.Post(
            "weibo", "3", author_id="g1", created_at=t0, text="城区多处道路出现严重积水，请绕行"
        ),
        model.Post("weibo", "4", author_id="g2", created_at=t0, text="今天召开党建工作会议"),
    ]
    with Store(tmp_path / "s.duckdb") as store:
        run = store.begin_run("x", "test", {}, 0)
        store.write(run, model.Batch(primary={"posts": model.records_to_table("posts", posts)}))
        store.finish_run(run, checksum=None)
        store.write_result(
            "account_profiles",
            pa.table(
                {
                    "platform": ["weibo", "weibo"],
                    "account_id": ["g1", "g2"],
                    "is_government": [True, True],
                    "sector": ["public_security", "party_organisation"],
                    "province": ["湖北", "湖北"],
                    "level": ["prefecture", "prefecture"],
                }
            ),
        )
        with_sim = official_response(store, keywords=["暴雨"], start=t0, hours=24)
        without = official_response(store, keywords=["暴雨"], start=t0, hours=24, similarity=None)
    assert with_sim.responders["author_id"].to_pylist() == ["g1"]
    assert without.responders.num_rows == 0
