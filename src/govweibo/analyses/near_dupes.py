"""Near-duplicate groups of short texts: character-trigram Jaccard, joined by union-find.

Corpora of posts hold many re-posted copies of one text (CED holds the same rumour
reported by several users; a news account re-posts its own bulletins). A split that puts
one copy in training and another in test measures memory, not skill, so every split in the
rumour evaluation is made over these groups (docs/rumours.md).

Two texts are linked when the Jaccard similarity of their sets of character trigrams
(after NFKC, lower case, URLs, @mentions and white space removed) is at least `threshold`;
a group is a connected component of the links (single linkage, as union-find gives).
Trigrams are packed exactly into 63-bit integers (three 21-bit code points), so no hash
collision can link two texts; the pairwise intersections are sparse matrix products done
in row blocks, which keeps memory at block x n.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

__all__ = ["trigram_matrix", "similar_pairs", "near_duplicate_groups"]

_URL = re.compile(r"https?://[\w./?=&%#:+~-]*")
_MENTION = re.compile(r"@[\w\-]{1,30}")
_SPACE = re.compile(r"\s+")
_BLOCK = 2048  # rows per sparse product: a block's intersections stay well under 100 MB


def _normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text or "").lower()
    t = _URL.sub("", t)
    t = _MENTION.sub("", t)
    return _SPACE.sub("", t)


def trigram_matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    """Binary (texts x distinct trigrams) matrix of each text's character trigrams."""
    rows: list[np.ndarray] = []
    keys: list[np.ndarray] = []
    for i, text in enumerate(texts):
        norm = _normalise(text)
        if len(norm) < 3:
            continue
        cp = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        k = np.unique((cp[:-2] << 42) | (cp[1:-1] << 21) | cp[2:])
        keys.append(k)
        rows.append(np.full(len(k), i, dtype=np.int64))
    n = len(texts)
    if not keys:
        return sparse.csr_matrix((n, 0), dtype=np.int32)
    vocab, col = np.unique(np.concatenate(keys), return_inverse=True)
    row = np.concatenate(rows)
    data = np.ones(len(row), dtype=np.int32)
    return sparse.csr_matrix((data, (row, col.ravel())), shape=(n, len(vocab)))


def similar_pairs(
    texts: Sequence[str], *, threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, jaccard) for every pair i < j whose trigram Jaccard is >= threshold.

    Texts too short to hold a trigram are paired only with identical texts (Jaccard 1).
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError("threshold must be in (0, 1]")
    x = trigram_matrix(texts)
    size = np.asarray(x.sum(axis=1)).ravel().astype(np.float64)
    xt = x.T.tocsc()
    out_i, out_j, out_s = [], [], []
    for lo in range(0, x.shape[0], _BLOCK):
        inter = (x[lo : lo + _BLOCK] @ xt).tocoo()
        i = inter.row.astype(np.int64) + lo
        j = inter.col.astype(np.int64)
        keep = j > i
        i, j, v = i[keep], j[keep], inter.data[keep].astype(np.float64)
        jac = v / (size[i] + size[j] - v)
        ok = jac >= threshold
        out_i.append(i[ok])
        out_j.append(j[ok])
        out_s.append(jac[ok])
    # Short texts: exact matches of their normalised form.
    short: dict[str, int] = {}
    for k in np.flatnonzero(size == 0).tolist():
        norm = _normalise(texts[k])
        if norm in short:
            out_i.append(np.array([short[norm]]))
            out_j.append(np.array([k]))
            out_s.append(np.array([1.0]))
        else:
            short[norm] = k
    if not out_i:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_s)


def near_duplicate_groups(texts: Sequence[str], *, threshold: float = 0.5) -> np.ndarray:
    """Group number of every text: texts linked by a chain of near-duplicate pairs share one.

    Groups are numbered by their first text's position (group g's first member is the
    g-th group to start), so the numbering is stable for a fixed order of texts.
    """
    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    i, j, _ = similar_pairs(texts, threshold=threshold)
    graph = sparse.coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    # Renumber components in order of first appearance.
    _, first = np.unique(comp, return_index=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[comp]
