"""Train, cross-validate, calibrate and ship the rumour model (developer-run; needs scikit-learn).

Usage:  python scripts/train_rumour.py --ced ../shared/data/ced --official /tmp/cctv.duckdb
        [--official-holdout-from 2020-04-16] [--out src/govweibo/analyses/models/rumour_ced]
        [--no-cv] [--C 32] [--official-share 0.05] [--rep-weight 2] [--drop-scale both]
        [--cache /tmp/ced_events.pkl] [--save-oof F.npy | --recalibrate F.npy]

Every split is made over near-duplicate groups (character-trigram Jaccard >= 0.5,
`govweibo.analyses.near_dupes`), so no copy of a text is on both sides of one:
- CED held-out part: the groups whose smallest numeric post id has crc32 % 5 == 0. Nothing
  in this part trains, tunes or calibrates anything; it is scored once at the end.
- Official posts (`--official STORE`: every original post in a govweibo store, e.g. the
  CCTV News crawl, taken as a non-rumour): the groups with any post created on or after
  `--official-holdout-from` are held out; the earlier ones train the source-only model (as
  out-of-domain negatives, `--official-share` of its training weight).
- Cross-validation: StratifiedGroupKFold(5, shuffle, seed 42) over the *training* part
  only (CED and official posts, by group). Its out-of-fold scores fit the calibration
  (Platt scaling per observation window, stacked on the source-only score; CED events),
  so the held-out part stays untouched.
Two models: the cascade model (each CED training event once per window 1, 3, 6, 12, 24,
48 h, all in which a repost is seen) and the source-only model (source text and author:
the 0 h view, plus the official posts). Inference needs numpy only.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from govweibo.analyses.near_dupes import near_duplicate_groups  # noqa: E402
from govweibo.analyses.rumour_features import (  # noqa: E402
    NUMERIC,
    Events,
    Spec,
    author_unknown,
    design,
    doc_freqs,
    numeric_features,
    smooth_idf,
    window_mask,
)
from govweibo.analyses.rumours import (  # noqa: E402
    WINDOWS,
    RumourModel,
    load_ced,
    load_store,
    metrics,
)
from govweibo.ingest.sina_ids import id_to_mid, is_mid, mid_to_id  # noqa: E402

SEED = 42


def fit_spec(ev: Events, train: np.ndarray, args: argparse.Namespace) -> Spec:
    """IDF and numeric scaling from the training events (unknown author fields left out)."""
    df_src, df_rep = doc_freqs(ev, args.bits, train)
    n = int(train.sum())
    unknown = author_unknown(ev)[train]
    nums = []
    for h in WINDOWS:
        x = numeric_features(ev, window_mask(ev, h), h)[train]
        x[unknown] = np.nan
        nums.append(x)
    stacked = np.vstack(nums)
    mean, std = np.nanmean(stacked, 0), np.nanstd(stacked, 0)
    mean, std = np.nan_to_num(mean), np.nan_to_num(std)
    return Spec(args.bits, smooth_idf(df_src, n), smooth_idf(df_rep, n), mean,
                np.where(std > 0, std, 1.0), args.num_weight, args.rep_weight)  # fmt: skip


def matrices(ev: Events, spec: Spec) -> dict[float | None, sparse.csr_matrix]:
    out = {}
    for h in WINDOWS:
        rows, cols, vals = design(ev, h, spec)
        out[h] = sparse.csr_matrix((vals, (rows, cols)), shape=(len(ev), spec.n_features))
    return out


@dataclass
class Fitted:
    spec: Spec
    cascade: LogisticRegression  # windows with at least one repost seen
    source: LogisticRegression  # the 0 h view: source text and author only
    mats: dict[float | None, sparse.csr_matrix]
    seen: np.ndarray  # (windows x events) reposts seen
    min_cascade: int  # fewer reposts seen than this: the source-only model scores


def _logreg(x: Any, y: np.ndarray, w: np.ndarray, args: argparse.Namespace) -> LogisticRegression:
    clf = LogisticRegression(C=args.C, max_iter=3000, solver="liblinear", dual=True,
                             random_state=SEED)  # fmt: skip
    return clf.fit(x, y, sample_weight=w)


# Author-scale features (followers, friends, statuses, account age): in CED rumours come
# from smaller accounts, and a source-only model leant on that so hard that any post of a
# small account looked like a rumour (the demo world's new accounts scored 0.99). Their
# columns are zeroed in training, so the model's weights for them are exactly 0.
SCALE = ("log_followers", "log_friends", "log_statuses", "log_account_age_days")


def without_scale(x: sparse.csr_matrix, spec: Spec) -> sparse.csr_matrix:
    keep = np.ones(x.shape[1])
    keep[[2 * (1 << spec.bits) + NUMERIC.index(c) for c in SCALE]] = 0.0
    return sparse.csr_matrix(x.multiply(keep[None, :]))


def fit(ev: Events, official: np.ndarray, train: np.ndarray, args: argparse.Namespace) -> Fitted:
    """The cascade model: CED training events once per window in which at least one repost
    is seen. The source-only model: CED training events without their cascade, plus the
    official posts (which have none) weighted to `official_share` of its training weight."""
    spec = fit_spec(ev, train, args)
    mats = matrices(ev, spec)
    seen = np.vstack([np.bincount(ev.rep_event[window_mask(ev, h)], minlength=len(ev))
                      for h in WINDOWS])  # fmt: skip
    ced = train & ~official
    rows = [np.flatnonzero(ced & (seen[w] >= args.min_cascade)) for w in range(1, len(WINDOWS))]
    x = sparse.vstack([mats[h][r] for h, r in zip(WINDOWS[1:], rows, strict=True)]).tocsr()
    if args.drop_scale == "both":
        x = without_scale(x, spec)
    y = np.concatenate([ev.label[r] for r in rows])
    cascade = _logreg(x, y, np.ones(len(y)), args)
    src = np.flatnonzero(ced)
    off = np.flatnonzero(train & official) if args.official_share > 0 else np.zeros(0, int)
    share = args.official_share if len(off) else 0.0
    w_off = np.full(len(off), share / (1 - share) * len(src) / max(len(off), 1))
    x0 = sparse.vstack([mats[0][src], mats[0][off]]).tocsr()
    source = _logreg(x0 if args.drop_scale == "none" else without_scale(x0, spec),
                     np.concatenate([ev.label[src], np.zeros(len(off))]),
                     np.concatenate([np.ones(len(src)), w_off]), args)  # fmt: skip
    return Fitted(spec, cascade, source, mats, seen, args.min_cascade)


def scores(f: Fitted, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(windows x rows) decision values and whether the source-only model gave them."""
    z0 = f.source.decision_function(f.mats[0][rows])
    z, only = [], []
    for w, h in enumerate(WINDOWS):
        none = (f.seen[w, rows] < f.min_cascade) | (w == 0)
        z.append(np.where(none, z0, f.cascade.decision_function(f.mats[h][rows])))
        only.append(none)
    return np.vstack(z), np.vstack(only)


def grouped_folds(
    ev: Events, official: np.ndarray, groups: np.ndarray, train: np.ndarray, k: int
) -> list[np.ndarray]:
    """The test events of each grouped CV fold over the training part (deterministic)."""
    idx = np.flatnonzero(train)
    strata = np.where(official[idx], 2, ev.label[idx])
    folds = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=SEED)
    return [idx[te] for _, te in folds.split(idx, strata, groups[idx])]


def cv_summary(
    ev: Events, official: np.ndarray, folds: list[np.ndarray], oof: np.ndarray
) -> dict[str, Any]:
    """Mean over folds of the raw labels' (score >= 0) figures, CED events only."""
    per: dict[str, list[dict[str, Any]]] = {str(h): [] for h in WINDOWS}
    for test in folds:
        ced = test[~official[test]]
        for w, h in enumerate(WINDOWS):
            per[str(h)].append(metrics(ev.label[ced], (oof[w, ced] >= 0).astype(np.int8), h)
                               .as_dict())  # fmt: skip
    return {
        h: {m: float(np.mean([r[m] for r in rs])) for m in ("accuracy", "precision", "recall", "f1")}
        | {"accuracy_std": float(np.std([r["accuracy"] for r in rs]))}
        for h, rs in per.items()
    }  # fmt: skip


def cross_validate(
    ev: Events, official: np.ndarray, groups: np.ndarray, train: np.ndarray,
    args: argparse.Namespace,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Grouped CV over the training part: out-of-fold decision values and source-only flags
    (windows x events; nan / False outside the training part)."""
    oof = np.full((len(WINDOWS), len(ev)), np.nan)
    only = np.zeros((len(WINDOWS), len(ev)), dtype=bool)
    for k, test in enumerate(grouped_folds(ev, official, groups, train, args.folds)):
        t = time.perf_counter()
        fold_train = train.copy()
        fold_train[test] = False
        oof[:, test], only[:, test] = scores(fit(ev, official, fold_train, args), test)
        ced = test[~official[test]]
        acc = [np.mean((oof[w, ced] >= 0) == ev.label[ced]) for w in range(len(WINDOWS))]
        print(f"fold {k} ({time.perf_counter() - t:.0f} s): "
              + " ".join(f"{h}h={a:.3f}" for h, a in zip(WINDOWS, acc, strict=True)),
              flush=True)  # fmt: skip
    return oof, only


def platt(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Logistic regression of the label on the score(s): Platt scaling, (a, b) for one
    score; for (cascade score, source-only score) the stacked form (a, b, c)."""
    lr = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
    lr.fit(x.reshape(len(y), -1), y)
    return np.concatenate([lr.coef_[0, :1], lr.intercept_, lr.coef_[0, 1:]])


def calibrate(
    oof: np.ndarray, only: np.ndarray, ced: np.ndarray, y: np.ndarray, groups: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, dict[str, Any]]:  # fmt: skip
    """Calibration rows (a, b, c) per window from the out-of-fold scores of the CED
    training events, and the accuracy of the calibrated labels measured by a second grouped
    5-fold split over those scores (the calibration is fitted on four fifths, applied to
    the fifth): row 0 on the source-only score, the others on (cascade, source-only)."""
    rows = np.zeros((len(WINDOWS), 3))
    figures: dict[str, Any] = {}
    for w, h in enumerate(WINDOWS):
        use = np.flatnonzero(ced & (only[w] if w == 0 else ~only[w]))
        x = oof[0, use, None] if w == 0 else np.column_stack([oof[w, use], oof[0, use]])
        fitted = platt(x, y[use])
        rows[w, : len(fitted)] = fitted
        # The calibrated labels of every CED event in this window (source-only rows for
        # events with no repost seen), out of fold twice over.
        ev_all = np.flatnonzero(ced)
        pred = np.zeros(len(y), dtype=np.int8)
        folds = StratifiedGroupKFold(5, shuffle=True, random_state=SEED + 1)
        for tr, te in folds.split(ev_all, y[ev_all], groups[ev_all]):
            tr_i, te_i = ev_all[tr], ev_all[te]
            p0 = platt(oof[0, tr_i, None], y[tr_i])  # as row 0: every event, window 0
            z = p0[0] * oof[0, te_i] + p0[1]
            if w > 0:
                c = tr_i[~only[w, tr_i]]
                pc_ = platt(np.column_stack([oof[w, c], oof[0, c]]), y[c])
                zc = pc_[0] * oof[w, te_i] + pc_[1] + pc_[2] * oof[0, te_i]
                z = np.where(only[w, te_i], z, zc)
            pred[te_i] = (1 / (1 + np.exp(-z)) >= threshold).astype(np.int8)
        figures[str(h)] = metrics(y[ev_all], pred[ev_all], h).as_dict()
    return rows, figures


def numeric_ids(ids: list[str]) -> list[str]:
    return [mid_to_id(i) if is_mid(i) else i for i in ids]


def load(args: argparse.Namespace) -> tuple[Events, np.ndarray, np.ndarray]:
    """CED events then official posts; (events, is_official, official post held out)."""
    if args.cache and args.cache.exists():
        with args.cache.open("rb") as f:
            return pickle.load(f)  # noqa: S301 - a cache this script wrote itself
    ced = load_ced(args.ced)
    parts, held_off = [ced], np.zeros(len(ced), dtype=bool)
    if args.official:
        from govweibo.store import Store

        with Store(args.official, read_only=True) as store:
            off, src = load_store(store)
        off.label = np.zeros(len(off), dtype=np.int8)
        cut = np.datetime64(args.official_holdout_from, "s").astype(np.int64) - 8 * 3600
        parts.append(off)
        held_off = np.concatenate([held_off, off.t0 >= cut])
    ev = Events.concat(parts)
    official = np.arange(len(ev)) >= len(ced)
    out = (ev, official, held_off)
    if args.cache:
        with args.cache.open("wb") as f:
            pickle.dump(out, f)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ced", type=Path, required=True, help="a folder in CED layout")
    ap.add_argument("--official", type=Path, help="a store of ordinary official posts")
    ap.add_argument("--official-holdout-from", default="2020-04-16",
                    help="official posts from this Beijing date on are held out")  # fmt: skip
    ap.add_argument("--official-share", type=float, default=0.05)
    ap.add_argument("--out", type=Path, default=ROOT / "src/govweibo/analyses/models/rumour_ced")
    ap.add_argument("--bits", type=int, default=18)
    ap.add_argument("--C", type=float, default=32.0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--num-weight", type=float, default=0.1)
    ap.add_argument("--rep-weight", type=float, default=2.0)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument(
        "--min-cascade",
        type=int,
        default=10,
        help="reposts seen before the cascade model scores a post",
    )
    ap.add_argument(
        "--drop-scale",
        choices=["none", "source", "both"],
        default="both",
        help="which model does without the author-scale features",
    )
    ap.add_argument("--cache", type=Path, help="pickle of the loaded events (developer speed-up)")
    ap.add_argument("--save-oof", type=Path, help="write the out-of-fold scores (.npy) here")
    ap.add_argument(
        "--no-source-only-window",
        dest="source_only_window",
        action="store_false",
        help="do not train on the 0 h view (source text and author only)",
    )
    ap.add_argument("--cv-only", action="store_true", help="stop after cross-validation")
    ap.add_argument(
        "--recalibrate",
        type=Path,
        help="skip CV: read the out-of-fold scores --save-oof wrote (same data)",
    )
    ap.add_argument("--no-cv", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    ev, official, held_off = load(args)
    groups = near_duplicate_groups(ev.text)
    ids = numeric_ids(ev.ids)
    # A group is held out when its smallest id says so, or when it holds a held-out
    # official post: then no copy of a held-out text trains.
    first = {}
    for g, i in sorted(zip(groups.tolist(), ids, strict=True), key=lambda x: (x[0], int(x[1]))):
        first.setdefault(g, i)
    held_g = {g for g, i in first.items() if zlib.crc32(i.encode()) % 5 == 0}
    held_g |= set(groups[held_off].tolist())
    held = np.array([g in held_g for g in groups.tolist()])
    held_ced = held & ~official
    print(f"{len(ev)} events ({int(official.sum())} official), {len(np.unique(groups))} groups; "
          f"held out: {int(held_ced.sum())} CED, {int((held & official).sum())} official "
          f"({time.perf_counter() - t:.0f} s)", flush=True)  # fmt: skip
    meta: dict[str, Any] = {
        "name": "rumour_ced",
        "data": "CED (Song et al. 2018, thunlp/Chinese_Rumor_Dataset), 70 % subset; "
        "ordinary official posts as non-rumours: " + (str(args.official.name) if args.official
                                                       else "none"),
        "events": int((~official).sum()),
        "official_posts": int(official.sum()),
        "official_share": args.official_share if official.any() else 0.0,
        "windows_h": list(WINDOWS),
        "threshold": args.threshold,
        "min_cascade": args.min_cascade,
        "params": {"C": args.C, "author_scale_features_dropped_in": args.drop_scale, "solver": "liblinear (seed 42)", "ngram": [1, 3],
                   "near_duplicates": "character-trigram Jaccard >= 0.5, union-find"},
        "split": "groups of near-duplicates; heldout = crc32(smallest numeric post id of the "
        "group) % 5 == 0, plus official groups with a post on or after "
        f"{args.official_holdout_from}; cv = StratifiedGroupKFold({args.folds}, seed 42) "
        "over the training part",
    }  # fmt: skip
    train = ~held
    platt_ab = np.tile([1.0, 0.0, 0.0], (len(WINDOWS), 1))
    if args.recalibrate:
        saved = np.load(args.recalibrate)
        oof, only = saved[: len(WINDOWS)], saved[len(WINDOWS) :].astype(bool)
    elif not args.no_cv:
        oof, only = cross_validate(ev, official, groups, train, args)
    if args.recalibrate or not args.no_cv:
        meta["cv"] = cv_summary(ev, official, grouped_folds(ev, official, groups, train,
                                                             args.folds), oof)  # fmt: skip
        ced_tr = train & ~official
        platt_ab, meta["cv_calibrated"] = calibrate(oof, only, ced_tr, ev.label, groups,
                                                    args.threshold)  # fmt: skip
        print("cv calibrated:", {h: round(r["accuracy"], 4)
                                 for h, r in meta["cv_calibrated"].items()})  # fmt: skip
        off_tr = np.flatnonzero(train & official)
        if len(off_tr):
            p0 = 1 / (1 + np.exp(-(platt_ab[0, 0] * oof[0, off_tr] + platt_ab[0, 1])))
            meta["cv_official_flagged"] = float(np.mean(p0 >= args.threshold))
        if args.save_oof and not args.recalibrate:
            np.save(args.save_oof, np.vstack([oof, only]))
        print("cv:", {h: round(r["accuracy"], 4) for h, r in meta["cv"].items()},
              "official flagged:", meta.get("cv_official_flagged"), flush=True)  # fmt: skip
    if args.cv_only:
        return 0
    meta["calibration"] = (
        "Platt scaling per window on the grouped CV out-of-fold scores of the CED training "
        "events: window 0 on the source-only score; the others stacked on (cascade score, "
        "source-only score)"
    )
    f = fit(ev, official, train, args)
    model = RumourModel(f.spec, f.cascade.coef_.ravel().astype(np.float64),
                        float(f.cascade.intercept_[0]), meta, platt_ab,
                        f.source.coef_.ravel().astype(np.float64),
                        float(f.source.intercept_[0]))  # fmt: skip
    # Held-out figures come from the numpy scorer itself, as shipped.
    held_ev = ev.subset(held_ced)
    meta["heldout"] = {
        str(h): metrics(held_ev.label, (model.predict_proba(held_ev, h) >= args.threshold)
                        .astype(np.int8), h).as_dict()
        for h in WINDOWS
    }  # fmt: skip
    meta["heldout_mids"] = sorted(
        i if is_mid(i) else id_to_mid(i) for i, h in zip(ev.ids, held_ced, strict=True) if h
    )
    meta["heldout_post_ids"] = sorted(i for i, h in zip(ids, held_ced, strict=True) if h)
    meta["train_events"] = int((train & ~official).sum())
    meta["train_official_posts"] = int((train & official).sum())
    oh = held & official
    if oh.any():
        po = model.predict_proba(ev.subset(oh), None)
        meta["heldout_official_posts"] = int(oh.sum())
        meta["heldout_official_post_ids"] = sorted(i for i, h in zip(ev.ids, oh, strict=True) if h)
        meta["heldout_official_flagged"] = float(np.mean(po >= args.threshold))
    print("heldout:", {h: round(r["accuracy"], 4) for h, r in meta["heldout"].items()},
          "official flagged:", meta.get("heldout_official_flagged"), flush=True)  # fmt: skip
    if not args.no_save:
        model.save(args.out)
        print(f"saved {args.out}.npz/.json; numeric features: {len(NUMERIC)}")
    print(f"done in {time.perf_counter() - t:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
