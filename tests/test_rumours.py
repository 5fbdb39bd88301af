"""Rumour features, the shipped model (loaded without pickle) and its scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import FIXTURES, shared_data

from govweibo.analyses.rumour_features import (
    NUMERIC,
    Events,
    Spec,
    author_unknown,
    design,
    hash_ngrams,
    numeric_features,
    window_mask,
)
from govweibo.analyses.rumours import (
    LABELS,
    MODEL_DIR,
    MODEL_NAME,
    WINDOWS,
    RumourModel,
    evaluate_ced,
    load_ced,
    score_posts,
    triage,
)
from govweibo.errors import AnalysisError
from govweibo.ingest import ingest

CED = FIXTURES / "ced"


def test_hash_is_fixed_and_stays_inside_each_text() -> None:
    doc, bucket = hash_ngrams(["ab", "c"], bits=18)
    assert len(doc) == 4  # a, b, c, ab: no n-gram spans the two texts
    assert doc.tolist() == [0, 0, 1, 0]
    # Same n-gram, same bucket, whatever else is in the batch.
    assert bucket[0] in hash_ngrams(["xa"], bits=18)[1].tolist()
    # Pinned values: the shipped model depends on them never changing.
    _, pinned = hash_ngrams(["谣言"], bits=18)
    assert pinned.tolist() == PINNED


PINNED = [32958, 65125, 17829]  # 谣, 言, 谣言 with 18 bits


def test_normalisation_folds_width_and_case() -> None:
    assert hash_ngrams(["ＡＢ"], 18)[1].tolist() == hash_ngrams(["ab"], 18)[1].tolist()
    url = hash_ngrams(["a http://t.cn/xyz"], 18)[1]
    assert len(url) == len(hash_ngrams(["a "], 18)[1])


def test_fixture_events_windows_and_numeric() -> None:
    ev = load_ced(CED)
    assert ev.ids == ["zvUcLCeTm", "A0B1C2D3E"] and ev.label.tolist() == [1, 0]
    # Event 0: three distinct reposts (one duplicate mid dropped), one with an unknown date.
    assert np.sum(ev.rep_event == 0) == 3
    one_hour = window_mask(ev, 1.0)
    assert np.sum(one_hour & (ev.rep_event == 0)) == 1  # 17:00 Beijing, source 16:00
    x = numeric_features(ev, window_mask(ev, 48.0), 48.0)
    col = {n: x[:, i] for i, n in enumerate(NUMERIC)}
    assert col["vt_government"].tolist() == [1.0, 0.0]
    assert col["log_reposts"][0] == pytest.approx(np.log1p(2))
    assert col["doubt_share"][0] == pytest.approx(1.0)  # 真的吗, 假的
    assert col["max_depth"][0] == 2


def test_shipped_model_is_small_pickle_free_and_calibrated() -> None:
    npz = MODEL_DIR / f"{MODEL_NAME}.npz"
    assert npz.stat().st_size + npz.with_suffix(".json").stat().st_size < 10_000_000
    with np.load(npz, allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)
    m = RumourModel.load()
    assert len(m.coef) == m.spec.n_features
    assert m.platt is not None and m.platt.shape == (len(WINDOWS), 3)
    assert np.all(m.platt[:, 0] > 0)  # calibration keeps the order of each model's scores
    assert m.platt[0, 2] == 0.0  # the source-only row has no second score
    assert m.coef0 is not None and len(m.coef0) == len(m.coef)
    assert len(m.meta["heldout_mids"]) > 100 and m.meta["cv"]["None"]["accuracy"] > 0.9
    assert len(m.meta["heldout_official_post_ids"]) > 1000


def test_scores_fixture_folder_and_store(store: Any) -> None:
    res = evaluate_ced(CED)
    assert res.n == 2 and 0.0 <= res.accuracy <= 1.0
    assert res.tp + res.fp + res.tn + res.fn == 2
    ingest(store, [CED])
    table = score_posts(store, hours=48)
    assert table.num_rows == 2
    for col in ("author", "text", "hours_seen", "reposts_seen", "evidence",
                "rumour_probability", "label", "reason", "ced_label"):  # fmt: skip
        assert col in table.column_names
    prob = dict(zip(table.column("post_id").to_pylist(),
                    table.column("rumour_probability").to_pylist(), strict=True))  # fmt: skip
    assert all(0.0 < p < 1.0 for p in prob.values())
    # The same events read from the folder score the same (dates the store rejected
    # fall outside every window in the folder reader too).
    ev = load_ced(CED)
    direct = RumourModel.load().predict_proba(ev, 48)
    from govweibo.ingest.sina_ids import mid_to_id

    assert [prob[mid_to_id(m)] for m in ev.ids] == pytest.approx(direct.tolist())
    rows = {r["post_id"]: r for r in table.to_pylist()}
    first = rows[mid_to_id("zvUcLCeTm")]
    assert first["reposts_seen"] == 2 and first["ced_label"] == 1
    # Two reposts are no cascade to judge: the source-only model speaks, and says so.
    assert first["evidence"] == "text+author only (2 reposts seen)"
    early = score_posts(store, hours=0)
    assert early.column("reposts_seen").to_pylist() == [0, 0]
    assert set(early.column("evidence").to_pylist()) == {"text+author only (0 reposts seen)"}
    with pytest.raises(AnalysisError):
        score_posts(store, hours=-1)


def test_unknown_author_fields_count_as_the_training_mean() -> None:
    ev = load_ced(CED)  # event 1's user is "empty" in the file
    unknown = author_unknown(ev)
    assert not unknown[0].any()
    author_cols = [NUMERIC.index(c) for c in ("verified", "log_followers", "vt_government")]
    assert unknown[1, author_cols].all() and not unknown[1, NUMERIC.index("log_reposts")]
    k = len(NUMERIC)
    spec = Spec(6, np.ones(64), np.ones(64), np.full(k, 3.0), np.ones(k), 1.0)
    rows, cols, vals = design(ev, None, spec)
    num = vals[cols >= 128].reshape(2, k)
    assert np.all(num[1, author_cols] == 0.0)  # not (0 - 3) / 1: unknown is not "none"
    assert num[0, NUMERIC.index("verified")] == pytest.approx(1.0 - 3.0)  # known: scaled


def test_window_rows_pick_the_first_window_at_least_as_long() -> None:
    from govweibo.analyses.rumours import _window_row

    assert [_window_row(h) for h in (0, 0.5, 1, 2, 48, 100, None)] == [0, 1, 1, 2, 6, 7, 7]


def _events(texts: list[str]) -> Events:
    n = len(texts)
    author = {k: np.full(n, np.nan) for k in ("verified", "verified_type", "followers",
              "friends", "statuses", "account_created", "has_url", "pics")}  # fmt: skip
    z = np.zeros(0)
    return Events([str(i) for i in range(n)], texts, np.zeros(n), author,
                  z.astype(np.int64), z, z.astype(np.int64), [], z)  # fmt: skip


DEBUNK = "【辟谣】网传碘盐能防核辐射、海盐已被污染的消息不实。请市民不要听信谣言，不要盲目抢盐。"


def test_triage_out_of_domain_and_clarification() -> None:
    texts = [
        "终于放假了！",
        "Good morning everyone, have a nice weekend and enjoy the sunshine",
        DEBUNK,
        DEBUNK,
        "网传明天全市将停水停电三天，请大家赶快囤水囤粮，转告亲友！",
    ]
    official = np.array([True, False, True, False, False])
    r = triage(_events(texts), official)
    assert r["label"][:3] == ["out_of_domain", "out_of_domain", "clarification"]
    assert "too short" in r["reason"][0] and r["reason"][1] == "not Chinese text, < 10 reposts"
    assert "denies" in r["reason"][2]
    # The same debunk by an account that is neither verified nor official is scored.
    assert r["label"][3] in ("likely_rumour", "unlikely_rumour")
    prob = r["rumour_probability"]
    assert np.isnan(prob[:3]).all() and not np.isnan(prob[3:]).any()
    assert r["reposts_seen"].tolist() == [0] * 5
    # A government account's notice is not a rumour candidate; the same text by anyone else
    # (CED rumours open with 【通知】 too) is scored.
    notice = "【安全提示】近期有不法分子冒充公安机关打电话要求转账，请记住：公安机关不会要求汇款。"
    both = triage(_events([notice, notice]), np.array([True, True]),
                  government=np.array([True, False]))  # fmt: skip
    assert both["label"][0] == "official_notice" and np.isnan(both["rumour_probability"][0])
    assert both["label"][1] in ("likely_rumour", "unlikely_rumour")
    # A short post whose reposts are seen has evidence of its own: the cascade model judges.
    ev = _events(["终于放假了！"])
    k = 12
    ev.rep_event, ev.rep_t = np.zeros(k, dtype=np.int64), 600.0 * np.arange(1, k + 1)
    ev.rep_depth, ev.rep_text = np.ones(k, dtype=np.int64), ["哈哈同感"] * k
    ev.rep_verified = np.full(k, np.nan)
    one = triage(ev, np.array([False]))
    assert one["label"][0] in ("likely_rumour", "unlikely_rumour")
    assert one["evidence"][0] == "text+author, 12 reposts over 2.0 h"
    # ... but a repost or two is not enough, and none at all certainly not.
    assert triage(ev, np.array([False]), hours=0.34)["label"][0] == "out_of_domain"
    assert triage(ev, np.array([False]), hours=0)["label"][0] == "out_of_domain"
    # A threshold of 0 flags every post the model speaks on, and only those.
    every = triage(_events(texts), official, threshold=0.0)
    assert every["label"][3:] == ["likely_rumour", "likely_rumour"]


def test_save_load_roundtrip(tmp_path: Path) -> None:
    bits = 6
    ev = load_ced(CED)
    spec = Spec(bits, np.ones(1 << bits), np.ones(1 << bits), np.zeros(len(NUMERIC)),
                np.ones(len(NUMERIC)), 0.5)  # fmt: skip
    rng = np.random.default_rng(0)
    m = RumourModel(spec, rng.normal(size=spec.n_features), 0.1, {"note": "test"})
    m.save(tmp_path / "m")
    back = RumourModel.load(tmp_path / "m.npz")
    assert back.meta["note"] == "test" and back.spec.bits == bits
    assert back.predict_proba(ev) == pytest.approx(m.predict_proba(ev), rel=1e-5)
    rows, cols, vals = design(ev, None, spec)
    assert cols.max() < spec.n_features and len(rows) == len(vals)


# The figures docs/rumours.md documents for the shipped model (bench/rumours.py prints them).
# Held-out CED events (near-duplicate groups never trained on), triage labels:
HELDOUT = {0: (0.832, 0.804), 1: (0.902, 0.888), None: (0.952, 0.946)}
# Grouped 5-fold cross-validation inside the training part, calibrated labels (the JSON):
CV = {0: 0.8619, 1: 0.9268, None: 0.9578}
# Held-out CCTV News posts labelled likely_rumour:
OFFICIAL_FLAGGED = 0.0084


@pytest.mark.realdata
def test_shipped_model_on_heldout_ced_events() -> None:
    ced = shared_data("ced")
    model = RumourModel.load()
    held = model.meta["heldout_mids"]
    for hours, (acc, f1) in HELDOUT.items():
        r = evaluate_ced(ced, events=held, model=model, hours=hours)
        assert r.n == len(held)
        assert (r.accuracy, r.f1) == pytest.approx((acc, f1), abs=0.01), (hours, r)
    for hours, acc in CV.items():
        assert model.meta["cv_calibrated"][str(hours)]["accuracy"] == pytest.approx(acc, abs=1e-4)
    # The floors of issue #20 on grouped cross-validation, full cascade and first hour
    # (the held-out part, 440 events, is 0.6 and 2.5 points lower: see docs/rumours.md).
    assert model.meta["cv_calibrated"]["None"]["accuracy"] >= 0.95
    assert model.meta["cv_calibrated"]["1"]["accuracy"] >= 0.92


@pytest.mark.realdata
def test_few_false_alarms_on_heldout_official_posts(store: Any) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from govweibo.ingest.base import ReadOptions

    ingest(store, [shared_data("cctv")], options=ReadOptions(year=2020))
    model = RumourModel.load()
    table = score_posts(store, model=model)
    held = pa.array(model.meta["heldout_official_post_ids"])
    table = table.filter(pc.is_in(table.column("post_id"), value_set=held))
    assert table.num_rows == len(held) > 3000
    labels = table.column("label").to_pylist()
    flagged = labels.count("likely_rumour") / len(labels)
    assert flagged <= 0.05
    assert flagged == pytest.approx(OFFICIAL_FLAGGED, abs=0.01)
    # Posts without a cascade are scored by the source-only model and say so.
    assert set(table.column("reposts_seen").to_pylist()) == {0}


def test_per_window_scaling_picks_the_first_window_at_least_as_long() -> None:
    k = len(NUMERIC)
    mean = np.vstack([np.full(k, 1.0), np.full(k, 2.0), np.full(k, 3.0)])
    spec = Spec(6, np.ones(64), np.ones(64), mean, np.ones((3, k)), 0.5,
                windows=np.array([1.0, 6.0, np.inf]))  # fmt: skip
    assert spec.scaling(0.5)[0][0] == 1.0 and spec.scaling(1.0)[0][0] == 1.0
    assert spec.scaling(3.0)[0][0] == 2.0 and spec.scaling(100.0)[0][0] == 3.0
    assert spec.scaling(None)[0][0] == 3.0


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A small demo world (the generator plants a salt rumour and 广州发布's debunk)."""
    import json

    from govweibo.demo import ingest_manifest
    from govweibo.registry import classify_store
    from govweibo.store import Store
    from govweibo.synth import generate

    base = tmp_path_factory.mktemp("rumour_world")
    generate(base / "w", accounts=300, posts=3000, seed=7)
    store = Store(base / "s.duckdb")
    ingest_manifest(store, base / "w")
    classify_store(store)
    manifest = json.loads((base / "w" / "manifest.json").read_text(encoding="utf-8"))
    yield store, manifest["events"]["rumour"]
    store.close()


def test_demo_world_debunk_is_a_clarification_not_a_rumour(world: Any) -> None:
    store, rumour = world
    table = score_posts(store)
    rows = {r["post_id"]: r for r in table.to_pylist()}
    debunk = rows[str(rumour["clarification_id"])]
    assert debunk["label"] == "clarification" and debunk["author"] == rumour["clarifier"]
    assert debunk["rumour_probability"] is None and "辟谣" in debunk["reason"]
    root = rows[str(rumour["root_id"])]
    assert root["label"] not in ("clarification", "out_of_domain")
    assert root["reposts_seen"] > 0 and root["rumour_probability"] is not None
    labels = table.column("label").to_pylist()
    assert set(labels) <= set(LABELS)
    # Government accounts' posts: notices are not rumour candidates; few of the rest are
    # flagged (the generator writes their texts; the real-data check is on CCTV News).
    gov = store.arrow("SELECT account_id FROM account_profiles WHERE is_government")
    mine = [r for r in rows.values() if r["author_id"] in set(gov.column(0).to_pylist())]
    share = sum(r["label"] == "likely_rumour" for r in mine) / len(mine)
    print(f"government posts flagged: {share:.4f} of {len(mine)}")
    assert len(mine) > 500 and share <= 0.05, share
    assert any(r["label"] == "official_notice" for r in mine)
    # Chat lines of a few characters are not judged at all.
    short = [r for r in rows.values() if r["label"] == "out_of_domain"]
    assert short and all("too short" in r["reason"] or "Chinese" in r["reason"] for r in short)
