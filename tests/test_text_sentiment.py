from __future__ import annotations

import json
from pathlib import Path

import pytest

from govweibo.errors import GovweiboError, NotFoundError
from govweibo.text.sentiment import (
    EvalDataError,
    Lexicon,
    evaluate,
    is_holdout,
    load_model,
    polarity_of,
    score,
    sentiment_text,
)

FIXTURE = Path(__file__).parent / "fixtures" / "sentiment_tiny.jsonl"
ROOT = Path(__file__).resolve().parent.parent
# Measured held-out accuracy is 0.775 (docs/opinion.md): below the 0.80 the issue asks for,
# a documented deviation. This guards against regressions.
REALDATA_FLOOR = 0.765


def test_model_is_plain_arrays() -> None:
    import numpy as np

    path = ROOT / "src/govweibo/text/data/sentiment_model.npz"
    with np.load(path, allow_pickle=False) as z:  # raises if anything needs pickle
        assert {"features", "idf", "coef", "intercept", "meta", "dense_coef"} <= set(z.files)
        assert {"lex_words", "distant_features"} <= set(z.files)
    m = load_model()
    assert m.meta["format"] == 2 and m.lexicon is not None and m.distant is not None
    assert len(m.dense_weight) == 4


def test_lexicon_negation_and_degree() -> None:
    import math

    lx = Lexicon.load()
    # 很 (x1.5) 开心 (+1); 不 flips 喜欢; 真的 (x1.5) 不 flips 难过 (-1) to +1.5.
    assert lx.features(["很", "开心"]) == pytest.approx((math.tanh(0.75), math.log(2.5), 0.0))
    assert lx.features(["我", "不", "喜欢", "这个"]) == pytest.approx(
        (math.tanh(-0.5), 0.0, math.log(2.0))
    )
    assert lx.features(["真的", "不", "难过"])[0] == pytest.approx(math.tanh(0.75))
    # A negator more than 3 words before does not reach.
    assert lx.features(["不", "a", "b", "c", "开心"])[0] > 0
    assert lx.features([]) == (0.0, 0.0, 0.0)


def test_model_with_lexicon_and_distant_parts(tmp_path: Path) -> None:
    import math

    import numpy as np

    from govweibo.text.sentiment import SentimentModel, save_model

    lx = Lexicon({"好": 1.0}, frozenset({"不"}), {"很": 1.5})
    distant = (["w:好"], np.array([2.0]), np.array([0.5]), -0.2)
    p = tmp_path / "m.npz"
    args = (["好"], np.array([1.0]), np.array([2.0]), 0.1, {"format": 2})
    save_model(p, *args, lexicon=lx, distant=distant, dense_coef=np.array([1.0, 0, 0, 2.0]))
    m = SentimentModel.load(p)
    # "好": main tf-idf x = [1] (l2 norm 1) -> 2 + 0.1; lexicon sum 1 -> tanh(0.5);
    # distant: x = [2] / 2 = [1] -> 0.5 - 0.2 = 0.3 -> tanh(0.15), weighted 2.
    want = 2.1 + math.tanh(0.5) + 2 * math.tanh(0.15)
    assert m.decision("好") == pytest.approx(want, rel=1e-6)
    # A text with no feature of the main model stays exactly neutral.
    assert m.decision("坏") == 0.0 and m.decision("") == 0.0
    with pytest.raises(ValueError, match="dense weights"):
        SentimentModel.from_arrays(*args, lexicon=lx, dense_weight=np.zeros(4))


def test_obvious_examples() -> None:
    pos = ["今天太开心了，谢谢大家[哈哈]", "好感动，为你们点赞，爱你们", "祝大家新年快乐，幸福美满"]
    neg = ["太难过了，哭了一整晚[泪]", "气死我了，太可恶了！", "恶心，真让人讨厌，失望透顶"]
    for s in score(pos):
        assert s.label == "positive" and 0.2 < s.score <= 1
    for s in score(neg):
        assert s.label == "negative" and -1 <= s.score < -0.2


def test_empty_and_neutral() -> None:
    out = score([None, "", "   ", "http://t.cn/abc @张三"])
    assert [s.label for s in out] == ["neutral"] * 4
    assert all(s.score == 0.0 for s in out)
    wide = score(["今天太开心了"], neutral_band=1.0)[0]
    assert wide.label == "neutral" and wide.score > 0


def test_bare_repost_scores_the_chain() -> None:
    assert sentiment_text("转发微博//@张三: 太可恶了 @李四") == "太可恶了"
    assert score(["转发微博//@张三: 气死我了，太可恶了！"])[0].label == "negative"


def test_polarity_mapping() -> None:
    assert polarity_of("like") == polarity_of("happiness") == "positive"
    assert {polarity_of(x) for x in ("sadness", "anger", "disgust", "fear")} == {"negative"}
    assert polarity_of("surprise") is None
    assert polarity_of("Neutral") == "neutral"


def test_every_label_the_eval_help_lists_is_accepted() -> None:
    """eval-sentiment's help lists the labels it takes; each must map (issue #20: optimism
    and gratitude were listed by the spec and refused)."""
    import re

    from govweibo.cli.opinion import eval_sentiment_cmd

    help_text = " ".join((eval_sentiment_cmd.help or "").split())
    listed = help_text.split("A label is", 1)[1]
    names = re.findall(r"[a-z]+", listed.replace("(positive)", "").replace("(negative)", ""))
    names = [n for n in names if n not in {"or", "an", "emotion", "skipped"}]
    assert {"optimism", "gratitude", "surprise", "neutral"} <= set(names)
    for n in names:
        assert polarity_of(n) in ("positive", "negative", "neutral", None), n
    assert polarity_of("optimism") == polarity_of("gratitude") == "positive"


def test_eval_sentiment_accepts_optimism_and_gratitude(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from govweibo.cli import main

    p = tmp_path / "goemo.jsonl"
    rows = [
        ("谢谢你们，辛苦了[心]", "gratitude"),
        ("明天会更好，加油", "optimism"),
        ("气死我了", "anger"),
    ]
    p.write_text("\n".join(json.dumps({"content": c, "label": lb}) for c, lb in rows), "utf-8")
    r = evaluate(p)
    assert r.n == 3 and r.gold_counts == {"positive": 2, "negative": 1}
    res = CliRunner().invoke(main, ["eval-sentiment", str(p), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert '"texts": 3' in res.output


def test_evaluate_fixture() -> None:
    r = evaluate(FIXTURE)
    assert r.n == 8 and r.skipped == 1
    assert r.gold_counts == {"positive": 3, "negative": 5}
    assert r.neutral_band == 0.0
    assert r.accuracy == 1.0 and r.macro_f1 == 1.0
    assert r.labels == ("positive", "negative")
    assert r.confusion == ((3, 0), (0, 5))
    assert sum(r.predicted_counts.values()) == 8


def test_evaluate_with_neutral_gold(tmp_path: Path) -> None:
    p = tmp_path / "three.jsonl"
    rows = [("好开心[哈哈]", "positive"), ("气死我了，太可恶了", "negative"), ("", "neutral")]
    p.write_text("\n".join(json.dumps({"content": c, "label": lb}) for c, lb in rows), "utf-8")
    r = evaluate(p)
    assert r.neutral_band > 0
    assert r.labels == ("positive", "negative", "neutral")
    assert r.confusion == ((1, 0, 0), (0, 1, 0), (0, 0, 1))


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("{not json", "not JSON"),
        ('["a", "b"]', "JSON object"),
        ('{"content": "x"}', "'label'"),
        ('{"content": 3, "label": "like"}', "'content'"),
        ('{"content": "x", "label": "bored"}', "unknown label"),
    ],
)
def test_evaluate_malformed_line_names_file_and_line(
    tmp_path: Path, line: str, needle: str
) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"content": "好", "label": "like"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(EvalDataError) as exc:
        evaluate(p)
    assert isinstance(exc.value, GovweiboError)
    assert f"{p}:2:" in str(exc.value) and needle in str(exc.value)


def test_evaluate_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        evaluate(tmp_path / "nope.jsonl")


def _emotion_set() -> Path:
    from conftest import shared_data

    return shared_data("emotion") / "weibo_emotion_test.jsonl"


@pytest.mark.realdata
def test_realdata_heldout_accuracy(tmp_path: Path) -> None:
    """The shipped model on the fifth of the emotion set it was never trained on."""
    src = _emotion_set()
    held = tmp_path / "heldout.jsonl"
    lines = [ln for ln in src.read_text(encoding="utf-8").splitlines() if ln.strip()]
    kept = [ln for ln in lines if is_holdout(json.loads(ln)["content"])]
    held.write_text("\n".join(kept) + "\n", encoding="utf-8")
    r = evaluate(held)
    assert 700 < r.n < 800
    assert r.accuracy >= REALDATA_FLOOR, r
    assert r.macro_f1 >= REALDATA_FLOOR - 0.03, r
