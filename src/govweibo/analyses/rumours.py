"""Rumour triage of source posts from their text, author and (early) repost cascade.

Each post goes through three stages (docs/rumours.md):
1. *Domain*: a post the model cannot judge (too few words of its own, or not Chinese, and
   fewer than 10 reposts seen) is labelled `out_of_domain`, with the reason, and gets no probability.
2. *Clarification and notice*: a post by an official (registry) or verified account whose
   stance is `denies` (a debunk, a clarification, a police notice; `govweibo.text.stance`)
   is labelled `clarification`; a government account's post under a notice header
   (【安全提示】, 【通告】…; `models/rumour_notices.toml`) is labelled `official_notice`.
   Neither is scored as a rumour.
3. *Model*: a logistic regression over hashed character n-gram TF-IDF blocks (source text,
   reposts' texts) and standardised numeric features (author, cascade), calibrated per
   observation window by Platt scaling on grouped out-of-fold scores. It is loaded from
   `models/rumour_ced.npz` + `.json` with `allow_pickle=False` and scored with numpy alone.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from govweibo.analyses.rumour_data import LABEL_DIRS, load_ced, load_store
from govweibo.analyses.rumour_features import NUMERIC, Events, Spec, design, window_mask
from govweibo.errors import AnalysisError, NotFoundError

__all__ = ["RumourModel", "RumourEval", "LABEL_DIRS", "LABELS", "load_ced", "load_store",
           "triage", "score_posts", "evaluate_ced"]  # fmt: skip

MODEL_DIR = Path(__file__).resolve().parent / "models"
MODEL_NAME = "rumour_ced"
# Observation windows the model is trained on (hours of cascade seen; 0 = the source post
# and its author only, None = every repost); calibration is per window.
WINDOWS: tuple[float | None, ...] = (0, 1, 3, 6, 12, 24, 48, None)
LABELS = ("likely_rumour", "unlikely_rumour", "clarification", "official_notice", "out_of_domain")
# Fewer word characters of its own than this and a post is out of the model's domain:
# CED's source posts are news-length (median 129 characters, under 2 % have fewer than
# 12), and a chat line such as "终于放假了！" gives the n-gram model nothing to go on.
MIN_CHARS = 12
# ...unless at least this many reposts are seen: CED's short source posts have 96-834
# reposts each, while a chat line with a repost or two scored 0.99 on its cascade alone.
MIN_REPOSTS_SHORT = 10
MIN_CJK_SHARE = 0.3  # CED is Chinese; mostly-Latin or mostly-digit posts are not
_EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]")
_WORD = re.compile(r"\w")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass
class RumourModel:
    spec: Spec
    coef: np.ndarray
    intercept: float
    meta: dict[str, Any]
    # Calibration per window of WINDOWS, (a, b) or (a, b, c):
    # P = 1 / (1 + exp(-(a z + b + c z_source))).
    platt: np.ndarray | None = None
    # The source-only model: scores a post none of whose reposts are seen (text and author
    # are all there is); its calibration is platt's first row (window 0).
    coef0: np.ndarray | None = None
    intercept0: float = 0.0

    @classmethod
    def load(cls, path: str | Path | None = None) -> RumourModel:
        """Load `<path>.npz` + `<path>.json` (default: the shipped model). No pickle."""
        base = Path(path) if path else MODEL_DIR / MODEL_NAME
        base = base.with_suffix("") if base.suffix in (".npz", ".json") else base
        npz, meta_path = base.with_suffix(".npz"), base.with_suffix(".json")
        if not npz.exists() or not meta_path.exists():
            raise NotFoundError(f"rumour model {base} (.npz + .json) not found")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        with np.load(npz, allow_pickle=False) as z:
            arr = {k: z[k].astype(np.float64) for k in z.files}
        if list(meta["numeric"]) != list(NUMERIC):
            raise AnalysisError("rumour model was trained with other numeric features")
        spec = Spec(
            int(meta["bits"]),
            arr["idf_src"],
            arr["idf_rep"],
            arr["num_mean"],
            arr["num_std"],
            float(meta["num_weight"]),
            float(meta["rep_weight"]),
            arr.get("num_windows"),
        )
        i0 = arr.get("intercept0")
        return cls(spec, arr["coef"], float(arr["intercept"][0]), meta, arr.get("platt"),
                   arr.get("coef0"), 0.0 if i0 is None else float(i0[0]))  # fmt: skip

    def save(self, path: str | Path) -> None:
        base = Path(path).with_suffix("")
        base.parent.mkdir(parents=True, exist_ok=True)
        s = self.spec
        arrays: dict[str, np.ndarray] = {
            "idf_src": s.idf_src.astype(np.float32), "idf_rep": s.idf_rep.astype(np.float32),
            "num_mean": s.num_mean, "num_std": s.num_std, "coef": self.coef.astype(np.float32),
            "intercept": np.array([self.intercept]),
        }  # fmt: skip
        if s.windows is not None:
            arrays["num_windows"] = s.windows
        if self.platt is not None:
            arrays["platt"] = self.platt
        if self.coef0 is not None:
            arrays["coef0"] = self.coef0.astype(np.float32)
            arrays["intercept0"] = np.array([self.intercept0])
        np.savez_compressed(base.with_suffix(".npz"), allow_pickle=False, **arrays)
        meta = {**self.meta, "bits": s.bits, "num_weight": s.num_weight,
                "rep_weight": s.rep_weight, "numeric": list(NUMERIC)}  # fmt: skip
        base.with_suffix(".json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )

    def _linear(self, ev: Events, hours: float | None, coef: np.ndarray, b: float) -> np.ndarray:
        rows, cols, vals = design(ev, hours, self.spec)
        return np.bincount(rows, weights=vals * coef[cols], minlength=len(ev)) + b

    def decision(
        self, ev: Events, hours: float | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(z, z_source, source_only) per event: the linear score (> 0 leans rumour,
        uncalibrated) of the model that applies, the source-only model's score, and whether
        the source-only model applies (fewer reposts seen in the window than the model's
        `min_cascade`: a repost or two is no cascade to judge)."""
        if len(ev) == 0:
            return np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool)
        z = self._linear(ev, hours, self.coef, self.intercept)
        if self.coef0 is None:
            return z, z, np.zeros(len(ev), dtype=bool)
        z_src = self._linear(ev, 0, self.coef0, self.intercept0)
        seen = np.bincount(ev.rep_event[window_mask(ev, hours)], minlength=len(ev))
        source_only = (seen < int(self.meta.get("min_cascade", 1))) | (hours == 0)
        return np.where(source_only, z_src, z), z_src, source_only

    def predict_proba(self, ev: Events, hours: float | None = None) -> np.ndarray:
        """Calibrated probability that each event's source post is a rumour (see
        docs/rumours.md for what it means on ordinary posts)."""
        z, z_src, source_only = self.decision(ev, hours)
        if self.platt is not None:
            first = 1 if self.coef0 is not None else 0
            p = self.platt[np.where(source_only, 0, max(_window_row(hours), first))]
            # Three columns: the source-only score enters the cascade windows' calibration
            # too (a stacked Platt scaling; its weight is 0 in row 0).
            extra = p[:, 2] * z_src if p.shape[1] > 2 else 0.0
            z = p[:, 0] * z + p[:, 1] + extra
        return 1.0 / (1.0 + np.exp(-z))


def _window_row(hours: float | None) -> int:
    """The first trained window at least as long as `hours` (the last one for None)."""
    h = np.inf if hours is None else hours
    ends = np.array([np.inf if w is None else w for w in WINDOWS])
    return min(int(np.searchsorted(ends, h, side="left")), len(WINDOWS) - 1)


@dataclass
class RumourEval:
    n: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    hours: float | None = None
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def metrics(y: np.ndarray, pred: np.ndarray, hours: float | None = None) -> RumourEval:
    tp = int(np.sum((pred == 1) & (y == 1)))
    fp = int(np.sum((pred == 1) & (y == 0)))
    tn = int(np.sum((pred == 0) & (y == 0)))
    fn = int(np.sum((pred == 0) & (y == 1)))
    n = len(y)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return RumourEval(n, (tp + tn) / n if n else 0.0, prec, rec, f1, hours, tp, fp, tn, fn)


def _domain(texts: list[str]) -> tuple[np.ndarray, list[str]]:
    """(in domain, reason) per source text, from the author's own words."""
    from govweibo.text.normalise import normalise

    ok = np.ones(len(texts), dtype=bool)
    reasons = [""] * len(texts)
    for i, t in enumerate(texts):
        words = _WORD.findall(_EMOTICON.sub("", normalise(t).clean))
        if len(words) < MIN_CHARS:
            ok[i] = False
            reasons[i] = (
                f"too short to judge: {len(words)} word characters (< {MIN_CHARS}), no reposts"
            )
        elif len(_CJK.findall("".join(words))) < MIN_CJK_SHARE * len(words):
            ok[i] = False
            reasons[i] = f"not Chinese text, < {MIN_REPOSTS_SHORT} reposts"
    return ok, reasons


def _clarifies(texts: list[str], official: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(is a clarification, cue) per text: an official or verified author's post whose
    stance denies a claim."""
    from govweibo.text.stance import stance_one

    out = np.zeros(len(texts), dtype=bool)
    cues = [""] * len(texts)
    for i in np.flatnonzero(official):
        label, cue = stance_one(texts[i])
        if label == "denies":
            out[i] = True
            cues[i] = cue
    return out, cues


@lru_cache(maxsize=1)
def _notice_header() -> re.Pattern[str]:
    doc = tomllib.loads((MODEL_DIR / "rumour_notices.toml").read_text(encoding="utf-8"))
    return re.compile(doc["header"])


def triage(
    ev: Events,
    official: np.ndarray,
    *,
    government: np.ndarray | None = None,
    hours: float | None = None,
    model: RumourModel | None = None,
    threshold: float | None = None,
) -> dict[str, Any]:
    """Label every event: out_of_domain, clarification, official_notice, likely_rumour or
    unlikely_rumour.

    `official`: per event, whether its author is verified or a government account;
    `government`: whether it is a government account (notices; default: none is).
    Returns columns (numpy arrays or lists): rumour_probability (nan where the model does
    not speak), label, reason, evidence, reposts_seen, hours_seen.
    """
    if hours is not None and hours < 0:
        raise AnalysisError("hours must be >= 0")
    model = model or RumourModel.load()
    cut = float(model.meta.get("threshold", 0.5)) if threshold is None else threshold
    mask = window_mask(ev, hours)
    seen = np.bincount(ev.rep_event[mask], minlength=len(ev))
    last = np.zeros(len(ev))
    delay = np.nan_to_num(ev.rep_t - ev.t0[ev.rep_event], nan=0.0)[mask]
    np.maximum.at(last, ev.rep_event[mask], np.maximum(delay, 0.0) / 3600.0)
    prob = model.predict_proba(ev, hours)
    # A cascade is evidence of its own: a short post with a cascade of some size is judged
    # by the cascade model; one with nothing (or a repost or two) to go on is out of domain.
    in_domain, why = _domain(ev.text)
    in_domain |= seen >= MIN_REPOSTS_SHORT
    min_cascade = int(model.meta.get("min_cascade", 1))
    clar, cue = _clarifies(ev.text, np.asarray(official, dtype=bool) & in_domain)
    gov = np.zeros(len(ev), dtype=bool) if government is None else np.asarray(government, bool)
    header = _notice_header()
    notice = [
        bool(g and not c and header.match(t or ""))
        for g, c, t in zip(gov, clar, ev.text, strict=True)
    ]
    label, reason, evidence = [], [], []
    for i in range(len(ev)):
        evidence.append(
            f"text+author, {seen[i]} reposts over {last[i]:.1f} h"
            if seen[i] >= min_cascade
            else f"text+author only ({seen[i]} reposts seen)"
        )
        if not in_domain[i]:
            label.append("out_of_domain")
            reason.append(why[i])
        elif clar[i]:
            label.append("clarification")
            reason.append(f"official or verified author denies a claim ({cue[i]})")
        elif notice[i]:
            label.append("official_notice")
            reason.append("government account's notice (column header, rumour_notices.toml)")
        else:
            label.append("likely_rumour" if prob[i] >= cut else "unlikely_rumour")
            reason.append(f"calibrated probability {'>=' if prob[i] >= cut else '<'} {cut:g}")
    prob = np.where(in_domain & ~clar & ~np.array(notice, dtype=bool), prob, np.nan)
    return {"rumour_probability": prob, "label": label, "reason": reason,
            "evidence": evidence, "reposts_seen": seen, "hours_seen": last}  # fmt: skip


def _shorten(text: str, n: int = 60) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def score_posts(
    store: Any,
    *,
    hours: float | None = None,
    model: RumourModel | None = None,
    threshold: float | None = None,
) -> pa.Table:
    """Triage every original post in the store, seeing its reposts up to `hours` after it
    was posted (all of them when None). One row per post: platform, post_id, author_id,
    author, text (shortened), created_at, hours, hours_seen, reposts_seen, evidence,
    rumour_probability (null where not given), label, reason, ced_label (the corpus label
    where the store holds one)."""
    ev, src = load_store(store)
    verified = np.array(src.column("verified").fill_null(False).to_pylist(), dtype=bool)
    gov = np.array(src.column("government").fill_null(False).to_pylist(), dtype=bool)
    r = triage(ev, verified | gov, government=gov, hours=hours, model=model, threshold=threshold)
    prob = r["rumour_probability"]
    return pa.table({
        "platform": src.column("platform"),
        "post_id": src.column("post_id"),
        "author_id": src.column("author_id"),
        "author": src.column("author"),
        "text": pa.array([_shorten(t) for t in ev.text], pa.string()),
        "created_at": src.column("created_at"),
        "hours": pa.array([hours] * len(ev), pa.float64()),
        "hours_seen": r["hours_seen"],
        "reposts_seen": r["reposts_seen"],
        "evidence": pa.array(r["evidence"], pa.string()),
        "rumour_probability": pa.array(prob, pa.float64(), mask=np.isnan(prob)),
        "label": pa.array(r["label"], pa.string()),
        "reason": pa.array(r["reason"], pa.string()),
        "ced_label": src.column("label"),
    })  # fmt: skip


def evaluate_ced(
    ced_dir: str | Path,
    *,
    hours: float | None = None,
    events: list[str] | set[str] | None = None,
    model: RumourModel | None = None,
    threshold: float | None = None,
) -> RumourEval:
    """Accuracy, precision, recall and F1 (rumour = positive) of the triage on a CED folder:
    a post counts as flagged when labelled likely_rumour (out-of-domain posts and
    clarifications by verified authors are not flagged).

    `events` restricts to those source mids (e.g. the model's held-out list,
    `RumourModel.load().meta["heldout_mids"]`); evaluating on training events is not honest.
    """
    ev = load_ced(ced_dir, only=set(events) if events is not None else None)
    if len(ev) == 0:
        raise NotFoundError(f"no labelled CED events found in {ced_dir}")
    gov = ev.author["verified_type"] == 1  # Sina's government type: CED has no registry
    official = (np.nan_to_num(ev.author["verified"]) > 0) | gov
    r = triage(ev, official, government=gov, hours=hours, model=model, threshold=threshold)
    pred = (np.array(r["label"]) == "likely_rumour").astype(np.int8)
    return metrics(ev.label, pred, hours)


def model_info() -> dict[str, Any]:
    """The shipped model's metadata (training data, split, scores)."""
    return RumourModel.load().meta
