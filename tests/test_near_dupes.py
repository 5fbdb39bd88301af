"""Near-duplicate groups: exact trigram Jaccard, single linkage, stable numbering."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_data

from govweibo.analyses.near_dupes import near_duplicate_groups, similar_pairs, trigram_matrix


def jaccard(a: str, b: str) -> float:
    ta = {a[i : i + 3] for i in range(len(a) - 2)}
    tb = {b[i : i + 3] for i in range(len(b) - 2)}
    return len(ta & tb) / len(ta | tb)


def test_trigram_matrix_counts_distinct_trigrams() -> None:
    x = trigram_matrix(["abcabc", "ab", "ＡＢＣＤ http://t.cn/x @某人 "])
    # abcabc: abc, bca, cab; "ab" has none; the third normalises to "abcd": abc, bcd.
    assert np.asarray(x.sum(axis=1)).ravel().tolist() == [3, 0, 2]
    assert x[0].multiply(x[2]).sum() == 1  # they share "abc"


def test_pairs_match_a_direct_jaccard() -> None:
    texts = [
        "网传某地明天发生地震请转告家人",
        "网传某地明天发生地震，请转告家人朋友",  # a re-post with a few words added
        "今天天气很好我们去公园散步吧",
        "网传某地后天发生海啸请转告",
    ]
    i, j, s = similar_pairs(texts, threshold=0.3)
    found = {(a, b): v for a, b, v in zip(i.tolist(), j.tolist(), s.tolist(), strict=True)}
    for a in range(len(texts)):
        for b in range(a + 1, len(texts)):
            clean = [t.replace("，", ",").lower() for t in (texts[a], texts[b])]
            want = jaccard(*clean)
            if want >= 0.3:
                assert found[(a, b)] == pytest.approx(want)
            else:
                assert (a, b) not in found
    assert (0, 1) in found and (0, 2) not in found


def test_groups_are_connected_components_numbered_by_first_member() -> None:
    a = "山东某县发生化工厂爆炸事故多人受伤"
    texts = [
        "完全无关的一条微博内容在这里",
        a,
        a + "转发扩散",  # near-duplicate of 1
        a + "转发扩散请大家注意安全",  # near-duplicate of 2, further from 1: chained in
        "短",
        "短",  # too short for a trigram: grouped only with an identical text
        "另",
    ]
    g = near_duplicate_groups(texts, threshold=0.5)
    assert jaccard(texts[1], texts[3]) < 0.6
    assert g.tolist() == [0, 1, 1, 1, 2, 2, 3]


def test_threshold_is_checked_and_empty_input() -> None:
    with pytest.raises(ValueError):
        similar_pairs(["abc"], threshold=0.0)
    assert near_duplicate_groups([]).tolist() == []
    assert near_duplicate_groups(["", ""]).tolist() == [0, 0]


def test_blocks_give_the_same_pairs_as_one_product(monkeypatch: pytest.MonkeyPatch) -> None:
    import govweibo.analyses.near_dupes as nd

    rng = np.random.default_rng(1)
    alphabet = list("谣言辟谣地震海啸停水停电疫情口罩")
    texts = ["".join(rng.choice(alphabet, size=12)) for _ in range(40)]
    texts += [t[:10] + "啊" for t in texts[:10]]
    whole = similar_pairs(texts, threshold=0.4)
    monkeypatch.setattr(nd, "_BLOCK", 7)
    blocked = similar_pairs(texts, threshold=0.4)
    key = lambda p: sorted(zip(p[0].tolist(), p[1].tolist(), strict=True))  # noqa: E731
    assert key(whole) == key(blocked) and len(whole[0]) >= 10


@pytest.mark.realdata
def test_ced_groups() -> None:
    from govweibo.analyses.rumours import load_ced

    ev = load_ced(shared_data("ced"))
    g = near_duplicate_groups(ev.text)
    sizes = np.bincount(g)
    # 2,381 source posts form 2,024 groups; 522 posts sit in 165 groups of two or more.
    assert (len(ev), len(sizes)) == (2381, 2024)
    assert ((sizes > 1).sum(), sizes[sizes > 1].sum()) == (165, 522)
    # No group mixes a rumour with a non-rumour.
    lab = np.zeros((len(sizes), 2), dtype=int)
    np.add.at(lab, (g, ev.label), 1)
    assert not np.any((lab[:, 0] > 0) & (lab[:, 1] > 0))
