"""Train, cross-validate and ship the rumour model (developer-run; needs scikit-learn).

Usage:  python scripts/train_rumour.py --ced ../shared/data/ced      (or --db STORE)
        [--out src/govweibo/analyses/models/rumour_ced] [--no-cv] [--C 8]

Split, fixed and documented (docs/rumours.md): an event is a source post with all its
reposts, and never sits on both sides of a split.
- Cross-validation: 5 folds, StratifiedKFold over events (stratified by label), seed 42.
- Shipped model: trained on the events with crc32(numeric post id) % 5 != 0; the others
  (about 20 %) are held out, listed in the model's JSON, and scored once at the end.
Each training event enters once per observation window (1, 3, 6, 12, 24, 48 h, all), so
one model scores early and full cascades. Inference needs numpy only.
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from govweibo.analyses.rumour_features import (  # noqa: E402
    NUMERIC,
    Events,
    Spec,
    design,
    doc_freqs,
    numeric_features,
    smooth_idf,
    window_mask,
)
from govweibo.analyses.rumours import RumourModel, load_ced, load_store, metrics  # noqa: E402
from govweibo.ingest.sina_ids import id_to_mid, is_mid, mid_to_id  # noqa: E402

WINDOWS: list[float | None] = [1, 3, 6, 12, 24, 48, None]
SEED = 42


def fit_spec(ev: Events, train: np.ndarray, args: argparse.Namespace) -> Spec:
    """IDF and numeric scaling (pooled, or per observation window) from training events."""
    df_src, df_rep = doc_freqs(ev, args.bits, train)
    n = int(train.sum())
    nums = [numeric_features(ev, window_mask(ev, h), h)[train] for h in WINDOWS]
    if not args.per_window_scaling:
        mean, std, windows = np.vstack(nums).mean(0), np.vstack(nums).std(0), None
    else:
        mean = np.vstack([x.mean(0) for x in nums])
        std = np.vstack([x.std(0) for x in nums])
        windows = np.array([np.inf if h is None else h for h in WINDOWS], dtype=np.float64)
    return Spec(args.bits, smooth_idf(df_src, n), smooth_idf(df_rep, n), mean,
                np.where(std > 0, std, 1.0), args.num_weight, args.rep_weight, windows)  # fmt: skip


def matrices(ev: Events, spec: Spec) -> dict[float | None, sparse.csr_matrix]:
    out = {}
    for h in WINDOWS:
        rows, cols, vals = design(ev, h, spec)
        out[h] = sparse.csr_matrix((vals, (rows, cols)), shape=(len(ev), spec.n_features))
    return out


def fit_eval(
    ev: Events, train: np.ndarray, test: np.ndarray, args: argparse.Namespace
) -> tuple[LogisticRegression, Spec, dict[str, dict[str, Any]]]:
    spec = fit_spec(ev, train, args)
    mats = matrices(ev, spec)
    tr = np.flatnonzero(train)
    x = sparse.vstack([mats[h][tr] for h in WINDOWS]).tocsr()
    y = np.tile(ev.label[tr], len(WINDOWS))
    clf = LogisticRegression(
        C=args.C, max_iter=2000, solver="liblinear", dual=True, random_state=SEED
    )
    clf.fit(x, y)
    te = np.flatnonzero(test)
    res = {}
    for h in WINDOWS:
        pred = clf.predict(mats[h][te])
        res[str(h)] = metrics(ev.label[te], pred, h).as_dict()
    return clf, spec, res


def cross_validate(ev: Events, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    per: dict[str, list[dict[str, Any]]] = {str(h): [] for h in WINDOWS}
    for k, (tr, _te) in enumerate(folds.split(np.zeros(len(ev)), ev.label)):
        train = np.zeros(len(ev), dtype=bool)
        train[tr] = True
        _, _, res = fit_eval(ev, train, ~train, args)
        for h, r in res.items():
            per[h].append(r)
        print(f"fold {k}: " + " ".join(f"{h}h={r['accuracy']:.3f}" for h, r in res.items()))
    return {
        h: {
            m: float(np.mean([r[m] for r in rs])) for m in ("accuracy", "precision", "recall", "f1")
        }
        | {"accuracy_std": float(np.std([r["accuracy"] for r in rs]))}
        for h, rs in per.items()
    }


def numeric_ids(ev: Events) -> list[str]:
    return [mid_to_id(i) if is_mid(i) else i for i in ev.ids]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--ced", type=Path, help="a folder in CED layout")
    src.add_argument("--db", type=Path, help="a govweibo store with CED labels")
    ap.add_argument("--out", type=Path, default=ROOT / "src/govweibo/analyses/models/rumour_ced")
    ap.add_argument("--bits", type=int, default=18)
    ap.add_argument("--C", type=float, default=32.0)
    ap.add_argument("--num-weight", type=float, default=0.1)
    ap.add_argument("--rep-weight", type=float, default=1.0)
    ap.add_argument("--per-window-scaling", action="store_true",
                    help="scale numeric features separately per observation window")  # fmt: skip
    ap.add_argument("--no-cv", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    if args.ced:
        ev = load_ced(args.ced)
    else:
        from govweibo.store import Store

        with Store(args.db, read_only=True) as store:
            ev, _ = load_store(store)
        ev = ev.subset(ev.label >= 0)
    print(f"{len(ev)} events, {len(ev.rep_event)} reposts ({time.perf_counter() - t:.1f} s)")
    meta: dict[str, Any] = {
        "name": "rumour_ced",
        "data": "CED (Song et al. 2018, thunlp/Chinese_Rumor_Dataset), 70 % subset",
        "events": len(ev),
        "windows_h": [h for h in WINDOWS],
        "params": {
            "per_window_scaling": args.per_window_scaling,
            "C": args.C,
            "solver": "liblinear (dual, seed 42)",
            "ngram": [1, 3],
        },
        "split": "heldout = crc32(numeric post id) % 5 == 0; cv = StratifiedKFold(5, seed 42)",
    }
    if not args.no_cv:
        meta["cv"] = cross_validate(ev, args)
        print("cv:", {h: round(r["accuracy"], 4) for h, r in meta["cv"].items()})
    ids = numeric_ids(ev)
    held = np.array([zlib.crc32(i.encode()) % 5 == 0 for i in ids])
    clf, spec, res = fit_eval(ev, ~held, held, args)
    meta["heldout"] = res
    meta["heldout_mids"] = sorted(
        i if is_mid(i) else id_to_mid(i) for i, h in zip(ev.ids, held, strict=True) if h
    )
    meta["heldout_post_ids"] = sorted(i for i, h in zip(ids, held, strict=True) if h)
    meta["train_events"] = int((~held).sum())
    print("heldout:", {h: round(r["accuracy"], 4) for h, r in res.items()})
    if not args.no_save:
        coef = clf.coef_.ravel().astype(np.float64)
        RumourModel(spec, coef, float(clf.intercept_[0]), meta).save(args.out)
        print(f"saved {args.out}.npz/.json; numeric features: {len(NUMERIC)}")
    print(f"done in {time.perf_counter() - t:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
