"""The labelled stance set: references into the real data sets, resolved at run time.

The real data (CED, CCTV News; see the shared data README) may not be copied into the
repository, so ``tests/data/stance_labels.jsonl`` holds *references plus labels*, one JSON
object a line::

    {"source": "ced-repost", "file": "rumor-repost/12_abc_34.json", "mid": "zXy..",
     "label": "denies", "split": "dev"}
    {"source": "ced-source", "file": "original-microblog/12_abc_34.json", "label": ..}
    {"source": "cctv", "file": "sina_cctv_list_3.csv", "row": 17, "label": ..}

``file`` is relative to ``ced/`` or ``cctv/`` under the data folder that holds both;
``row`` counts a CSV's data rows from 0 (``csv.DictReader``); for a CED mid that repeats in
a file, the first record is meant. :func:`sample` draws the references (seeded, stratified, see
docs/stance.md); :func:`resolve` turns references back into texts; :func:`evaluate` scores
predicted labels against them.
"""

from __future__ import annotations

import csv
import json
import random
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from govweibo.errors import NotFoundError
from govweibo.text.normalise import normalise
from govweibo.text.stance import LABELS

__all__ = [
    "DENIAL_CUES",
    "QUESTION_CUES",
    "StanceEval",
    "dedup_key",
    "evaluate",
    "read_labels",
    "resolve",
    "sample",
    "split_of",
]

# Cues used only to *oversample* (so every class has members), not to label: a post drawn
# this way is read and labelled like any other.
DENIAL_CUES = re.compile("谣|辟|不实|假的|假消息|澄清|骗")
QUESTION_CUES = re.compile(r"真的吗|真的假的|[?？]|吗")
_NONWORD = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class StanceEval:
    n: int
    accuracy: float
    per_class: dict[str, dict[str, float]]  # label -> precision, recall, support
    confusion: dict[str, dict[str, int]]  # gold -> predicted -> count


def dedup_key(text: str) -> str:
    """Near-duplicate key: the normalised text with punctuation and spaces dropped."""
    return _NONWORD.sub("", normalise(text).text.lower())


def split_of(text: str) -> str:
    """``dev`` or ``test`` by a seeded hash of the text's near-duplicate key, so copies of
    one text never sit on both sides."""
    return "dev" if zlib.crc32(("stance-split:" + dedup_key(text)).encode()) % 2 == 0 else "test"


@lru_cache(maxsize=4096)
def _ced_file(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=64)
def _cctv_rows(path: Path) -> tuple[str, ...]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return tuple((r.get("WB_text") or "") for r in csv.DictReader(fh))


def _text_of(ref: dict[str, Any], data_dir: Path) -> str:
    src, file = ref.get("source"), str(ref.get("file", ""))
    if src == "cctv":
        return _cctv_rows(data_dir / "cctv" / file)[int(ref["row"])]
    path = data_dir / "ced" / file
    if src == "ced-source":
        return str(_ced_file(path).get("text") or "")
    if src == "ced-repost":
        for rec in _ced_file(path):
            if rec.get("mid") == ref["mid"]:
                return str(rec.get("text") or "")
        raise NotFoundError(f"repost {ref['mid']} not in {path}")
    raise NotFoundError(f"unknown stance reference source {src!r}")


def resolve(refs: Iterable[dict[str, Any]], data_dir: str | Path) -> list[str]:
    """The text each reference points at (the first record when a CED mid repeats)."""
    base = Path(data_dir)
    try:
        return [_text_of(r, base) for r in refs]
    except (OSError, IndexError, KeyError, ValueError) as exc:
        raise NotFoundError(f"cannot resolve a stance reference under {base}: {exc}") from None


def read_labels(path: str | Path) -> list[dict[str, Any]]:
    """The reference lines of a labels file (blank lines skipped)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def evaluate(gold: Sequence[str], predicted: Sequence[str]) -> StanceEval:
    """Accuracy, per-class precision / recall / support and the confusion counts."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    confusion: dict[str, dict[str, int]] = {g: {p: 0 for p in LABELS} for g in LABELS}
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p] += 1
    per_class: dict[str, dict[str, float]] = {}
    for c in LABELS:
        tp = confusion[c][c]
        pred = sum(confusion[g][c] for g in LABELS)
        sup = sum(confusion[c].values())
        per_class[c] = {
            "precision": tp / pred if pred else 0.0,
            "recall": tp / sup if sup else 0.0,
            "support": float(sup),
        }
    n = len(gold)
    correct = sum(confusion[c][c] for c in LABELS)
    return StanceEval(n, correct / n if n else 0.0, per_class, confusion)


# --- sampling -------------------------------------------------------------------------------

# (source, stratum) -> how many: a random part per source and an oversample of posts with
# a denial or question cue. Documented in docs/stance.md.
PLAN: dict[tuple[str, str], int] = {
    ("ced-repost", "random"): 120,
    ("ced-source", "random"): 60,
    ("cctv", "random"): 60,
    ("ced-repost", "denial-cue"): 100,
    ("ced-source", "denial-cue"): 25,
    ("cctv", "denial-cue"): 25,
    ("ced-repost", "question-cue"): 50,
}


def _pool(data_dir: Path) -> dict[str, list[tuple[dict[str, Any], str]]]:
    pool: dict[str, list[tuple[dict[str, Any], str]]] = {"ced-repost": [], "ced-source": []}
    ced = data_dir / "ced"
    for folder in ("rumor-repost", "non-rumor-repost"):
        for f in sorted((ced / folder).glob("*.json")):
            seen: set[str] = set()
            for rec in _ced_file(f):
                mid, text = str(rec.get("mid") or ""), str(rec.get("text") or "").strip()
                if mid and mid not in seen and text:
                    ref = {"source": "ced-repost", "file": f"{folder}/{f.name}", "mid": mid}
                    pool["ced-repost"].append((ref, text))
                seen.add(mid)
            _ced_file.cache_clear()  # ~900k records: keep memory flat
    for f in sorted((ced / "original-microblog").glob("*.json")):
        text = str(json.loads(f.read_text(encoding="utf-8")).get("text") or "").strip()
        if text:
            pool["ced-source"].append(
                ({"source": "ced-source", "file": f"original-microblog/{f.name}"}, text)
            )
    pool["cctv"] = []
    for f in sorted((data_dir / "cctv").glob("sina_cctv_list_*.csv")):
        for i, text in enumerate(_cctv_rows(f)):
            if text.strip():
                pool["cctv"].append(({"source": "cctv", "file": f.name, "row": i}, text))
    return pool


# A second, smaller draw labelled after the rules were frozen: held out as a whole.
FRESH_PLAN: dict[tuple[str, str], int] = {
    ("ced-repost", "random"): 50,
    ("ced-source", "random"): 20,
    ("cctv", "random"): 20,
    ("ced-repost", "denial-cue"): 40,
    ("cctv", "denial-cue"): 10,
    ("ced-repost", "question-cue"): 20,
}


def sample(
    data_dir: str | Path,
    *,
    seed: int = 20,
    plan: dict[tuple[str, str], int] | None = None,
    exclude: Iterable[str] = (),
    split: str | None = None,
) -> list[tuple[dict[str, Any], str]]:
    """The references (and texts) of the labelled set, in a reproducible order.

    Per source, the random stratum is drawn first, then the cue strata from what is left;
    no reference and no near-duplicate text is drawn twice, nor one whose near-duplicate
    key is in ``exclude``. ``split`` names the half of every drawn post (else
    :func:`split_of` decides).
    """
    pool = _pool(Path(data_dir))
    rng = random.Random(seed)
    taken: set[str] = set(exclude)
    out: list[tuple[dict[str, Any], str]] = []
    for (source, stratum), k in (PLAN if plan is None else plan).items():
        cands = pool[source]
        if stratum == "denial-cue":
            cands = [c for c in cands if DENIAL_CUES.search(c[1])]
        elif stratum == "question-cue":
            cands = [
                c for c in cands if QUESTION_CUES.search(c[1]) and not DENIAL_CUES.search(c[1])
            ]
        order = list(range(len(cands)))
        rng.shuffle(order)
        got = 0
        for i in order:
            ref, text = cands[i]
            key = dedup_key(text)
            if key in taken or not key:
                continue
            taken.add(key)
            half = split or split_of(text)
            out.append(({**ref, "stratum": stratum, "split": half}, text))
            got += 1
            if got == k:
                break
    return out
