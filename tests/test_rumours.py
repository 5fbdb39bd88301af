"""Rumour features, the shipped model (loaded without pickle) and its scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import FIXTURES, shared_data

from govweibo.analyses.rumour_features import (
    NUMERIC,
    Spec,
    design,
    hash_ngrams,
    numeric_features,
    window_mask,
)
from govweibo.analyses.rumours import (
    MODEL_DIR,
    MODEL_NAME,
    RumourModel,
    evaluate_ced,
    load_ced,
    score_posts,
)
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


def test_shipped_model_is_small_and_pickle_free() -> None:
    npz = MODEL_DIR / f"{MODEL_NAME}.npz"
    assert npz.stat().st_size + npz.with_suffix(".json").stat().st_size < 10_000_000
    with np.load(npz, allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)
    m = RumourModel.load()
    assert len(m.coef) == m.spec.n_features
    assert len(m.meta["heldout_mids"]) > 100 and m.meta["cv"]["None"]["accuracy"] > 0.9


def test_scores_fixture_folder_and_store(store: Any) -> None:
    res = evaluate_ced(CED)
    assert res.n == 2 and 0.0 <= res.accuracy <= 1.0
    assert res.tp + res.fp + res.tn + res.fn == 2
    ingest(store, [CED])
    table = score_posts(store, hours=48)
    assert table.num_rows == 2
    prob = dict(zip(table.column("post_id").to_pylist(),
                    table.column("rumour_probability").to_pylist(), strict=True))  # fmt: skip
    assert all(0.0 < p < 1.0 for p in prob.values())
    # The same events read from the folder score the same (dates the store rejected
    # fall outside every window in the folder reader too).
    ev = load_ced(CED)
    direct = RumourModel.load().predict_proba(ev, 48)
    from govweibo.ingest.sina_ids import mid_to_id

    assert [prob[mid_to_id(m)] for m in ev.ids] == pytest.approx(direct.tolist())
    early = score_posts(store, hours=0)
    assert early.column("reposts_seen").to_pylist() == [0, 0]


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


@pytest.mark.realdata
def test_shipped_model_on_heldout_ced_events() -> None:
    ced = shared_data("ced")
    model = RumourModel.load()
    held = model.meta["heldout_mids"]
    full = evaluate_ced(ced, events=held, model=model)
    assert full.n == len(held)
    assert full.accuracy >= 0.90, full
    early = evaluate_ced(ced, events=held, model=model, hours=3)
    assert early.accuracy >= 0.88, early


def test_per_window_scaling_picks_the_first_window_at_least_as_long() -> None:
    k = len(NUMERIC)
    mean = np.vstack([np.full(k, 1.0), np.full(k, 2.0), np.full(k, 3.0)])
    spec = Spec(6, np.ones(64), np.ones(64), mean, np.ones((3, k)), 0.5,
                windows=np.array([1.0, 6.0, np.inf]))  # fmt: skip
    assert spec.scaling(0.5)[0][0] == 1.0 and spec.scaling(1.0)[0][0] == 1.0
    assert spec.scaling(3.0)[0][0] == 2.0 and spec.scaling(100.0)[0][0] == 3.0
    assert spec.scaling(None)[0][0] == 3.0
