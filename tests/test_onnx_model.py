"""govweibo.text.onnx_model: a tiny ONNX classifier and tokenizer built here, run through
onnxruntime and tokenizers, wired into sentiment and the rumour text hook."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
tokenizers = pytest.importorskip("tokenizers")

from onnx import TensorProto, helper  # noqa: E402

from govweibo.errors import ConfigError  # noqa: E402
from govweibo.text import sentiment  # noqa: E402
from govweibo.text.onnx_model import (  # noqa: E402
    OnnxTextModel,
    TextModel,
    configured,
    load_onnx,
    probability_of,
    rumour_text_probability,
)

VOCAB = ["[PAD]", "[UNK]", "好", "棒", "坏", "差", "谣", "言"]


def build_model(
    folder: Path,
    labels: list[str],
    emb: np.ndarray,
    w: np.ndarray,
    *,
    softmax: bool = True,
    with_mask_input: bool = True,
    labels_file: bool = True,
) -> Path:
    """input_ids -> Gather(embedding) -> ReduceMean over tokens -> MatMul -> [Softmax]."""
    folder.mkdir(parents=True, exist_ok=True)
    n_cls = w.shape[1]
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])]
    if with_mask_input:  # declared but unused by this graph: the loader must still feed it
        inputs.append(
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])
        )
    nodes = [
        helper.make_node("Gather", ["emb", "input_ids"], ["vecs"]),
        helper.make_node("ReduceMean", ["vecs"], ["mean"], axes=[1], keepdims=0),
        helper.make_node("MatMul", ["mean", "w"], ["logits"]),
    ]
    out_name = "logits"
    if softmax:
        nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], axis=-1))
        out_name = "probs"
    graph = helper.make_graph(
        nodes,
        "tiny",
        inputs,
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["batch", n_cls])],
        initializer=[
            helper.make_tensor("emb", TensorProto.FLOAT, emb.shape, emb.flatten().tolist()),
            helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.flatten().tolist()),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "model.onnx"))

    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel

    tok = Tokenizer(WordLevel({t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(handle_chinese_chars=True, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(folder / "tokenizer.json"))
    if labels_file:
        (folder / "labels.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")
    else:
        id2label = {str(i): lb for i, lb in enumerate(labels)}
        (folder / "config.json").write_text(json.dumps({"id2label": id2label}), encoding="utf-8")
    return folder


def polarity_model(folder: Path, **kw: object) -> Path:
    """好/棒 push 'positive', 坏/差 push 'negative'; labels in the order negative, positive."""
    emb = np.zeros((len(VOCAB), 2), dtype=np.float32)
    emb[VOCAB.index("好")] = emb[VOCAB.index("棒")] = [1, 0]
    emb[VOCAB.index("坏")] = emb[VOCAB.index("差")] = [0, 1]
    w = np.array([[0.0, 8.0], [8.0, 0.0]], dtype=np.float32)  # dim0 -> col1 (positive)
    return build_model(folder, ["negative", "positive"], emb, w, **kw)  # type: ignore[arg-type]


def test_known_text_gets_known_label(tmp_path: Path) -> None:
    m = OnnxTextModel.load(polarity_model(tmp_path / "m"))
    assert isinstance(m, TextModel)
    assert m.labels == ("negative", "positive")
    p = m.predict_proba(["好棒", "坏差", "谣言"])
    assert p.shape == (3, 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    assert p[0, 1] > 0.99 and p[1, 0] > 0.99
    np.testing.assert_allclose(p[2], [0.5, 0.5], atol=1e-6)  # no polar token: logits equal


def test_logits_are_softmaxed_and_config_json_names_labels(tmp_path: Path) -> None:
    m = OnnxTextModel.load(polarity_model(tmp_path / "m", softmax=False, labels_file=False))
    assert m.labels == ("negative", "positive")
    p = m.predict_proba(["好"])
    assert p[0, 1] == pytest.approx(1 / (1 + np.exp(-8.0)), rel=1e-5)


def test_batches_are_split_and_padded(tmp_path: Path) -> None:
    m = OnnxTextModel.load(polarity_model(tmp_path / "m", with_mask_input=False))
    texts = ["好好", "坏坏", "棒棒", "差差", "好坏"]
    whole = m.predict_proba(texts)
    m.batch_size = 2
    np.testing.assert_allclose(m.predict_proba(texts), whole, atol=1e-6)
    assert [int(np.argmax(r)) for r in whole[:4]] == [1, 0, 1, 0]
    # Texts of different lengths in one batch are padded to the longest.
    assert m.predict_proba(["好", "坏坏坏坏"]).shape == (2, 2)


def test_text_with_no_tokens_gets_uniform_probabilities(tmp_path: Path) -> None:
    m = OnnxTextModel.load(polarity_model(tmp_path / "m"))
    np.testing.assert_allclose(m.predict_proba(["", " "]), 0.5)


def test_bad_folders(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="model.onnx missing"):
        OnnxTextModel.load(tmp_path)
    folder = polarity_model(tmp_path / "m")
    (folder / "labels.txt").write_text("only-one\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="two or more"):
        OnnxTextModel.load(folder)
    (folder / "labels.txt").write_text("a\nb\nc\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="output shape"):
        OnnxTextModel.load(folder)


def test_sentiment_scores_come_from_the_onnx_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = polarity_model(tmp_path / "m")
    m = sentiment.model_for(folder)
    assert isinstance(m, OnnxTextModel)
    out = sentiment.score(["好棒", "坏差", "谣言", "", "转发微博//@甲:好"], model=m)
    assert [s.label for s in out] == ["positive", "negative", "neutral", "neutral", "positive"]
    assert (
        out[0].score > 0.99
        and out[1].score < -0.99
        and out[2].score == pytest.approx(0.0, abs=1e-6)
    )
    # The setting (here its environment variable) switches the model score() uses by default.
    monkeypatch.chdir(tmp_path)  # no govweibo.toml here
    monkeypatch.setenv("GOVWEIBO_SENTIMENT_MODEL", str(folder))
    assert sentiment.default_model() is load_onnx(str(folder))
    assert [s.score for s in sentiment.score(["好棒", "坏差"])] == [s.score for s in out[:2]]
    monkeypatch.setenv("GOVWEIBO_SENTIMENT_MODEL", "")
    assert isinstance(sentiment.default_model(), sentiment.SentimentModel)


def test_sentiment_needs_polar_labels(tmp_path: Path) -> None:
    emb = np.zeros((len(VOCAB), 2), dtype=np.float32)
    folder = build_model(tmp_path / "m", ["rumour", "non-rumour"], emb, np.eye(2, dtype=np.float32))
    with pytest.raises(ConfigError, match="no polarity"):
        sentiment.score(["好"], model=sentiment.model_for(folder))


def test_rumour_text_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emb = np.zeros((len(VOCAB), 2), dtype=np.float32)
    emb[VOCAB.index("谣")] = emb[VOCAB.index("言")] = [1, 0]
    w = np.array([[0.0, 6.0], [0.0, 0.0]], dtype=np.float32)
    folder = build_model(tmp_path / "r", ["non-rumour", "rumour"], emb, w)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GOVWEIBO_RUMOUR_TEXT_MODEL", raising=False)
    assert configured("rumour_text_model") is None
    assert rumour_text_probability(["谣言"]) is None
    monkeypatch.setenv("GOVWEIBO_RUMOUR_TEXT_MODEL", str(folder))
    p = rumour_text_probability(["谣言", "好"])
    assert p is not None and p[0] > 0.99 and p[1] == pytest.approx(0.5, abs=1e-6)
    m = load_onnx(str(folder))
    with pytest.raises(ConfigError, match="exactly one"):
        probability_of(m, ["x"], ["spam"])


def test_shipped_sentiment_model_is_a_text_model() -> None:
    m = sentiment.load_model()
    assert isinstance(m, TextModel) and m.labels == ("negative", "positive")
    texts = ["太好了，谢谢[心]", "气死我了[怒]", ""]
    p = m.predict_proba(texts)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    # Same numbers as score(): score = 2 P(positive) - 1.
    np.testing.assert_allclose(
        2 * p[:, 1] - 1, [s.score for s in sentiment.score(texts, model=m)], atol=1e-9
    )
