"""Bring your own text model: an ONNX classifier with its Hugging Face tokenizer.

The shipped linear models stay the default. A user with a stronger model (a fine-tuned
Chinese BERT or RoBERTa exported to ONNX) points a setting at a folder holding

- ``model.onnx``: inputs named from ``input_ids`` / ``attention_mask`` / ``token_type_ids``
  (those the graph declares are fed, int64, shape [batch, sequence]); the first output is
  [batch, classes] probabilities or logits (a row that is not a probability vector is
  soft-maxed);
- ``tokenizer.json``: the ``tokenizers`` library's file (what ``save_pretrained`` writes
  for a fast tokenizer);
- ``labels.txt``: the class names in output order, one a line; or, failing that,
  ``config.json`` with ``id2label`` (as ``optimum-cli export onnx`` copies it).

Settings ``sentiment_model`` and ``rumour_text_model`` take such a folder. Needs the
``onnx`` extra (``pip install 'govweibo[onnx]'``: onnxruntime and tokenizers). How to export
a model: docs/opinion.md, "Bring your own model".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from govweibo.errors import ConfigError

__all__ = [
    "LABELS_FILE",
    "MODEL_FILE",
    "OnnxTextModel",
    "TOKENIZER_FILE",
    "TextModel",
    "load_onnx",
    "RUMOUR_LABELS",
    "configured",
    "probability_of",
    "rumour_text_probability",
]

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
LABELS_FILE = "labels.txt"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@runtime_checkable
class TextModel(Protocol):
    """A text classifier: class names and a probability per class for each text."""

    @property
    def labels(self) -> tuple[str, ...]: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """[len(texts), len(labels)] probabilities, rows summing to 1."""
        ...


def _softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _is_proba(x: np.ndarray) -> bool:
    return bool(
        x.size == 0
        or ((x >= 0).all() and (x <= 1).all() and np.allclose(x.sum(axis=1), 1, atol=1e-3))
    )


def _read_labels(folder: Path) -> tuple[str, ...]:
    lab = folder / LABELS_FILE
    if lab.is_file():
        names = [line.strip() for line in lab.read_text(encoding="utf-8").splitlines()]
        names = [n for n in names if n and not n.startswith("#")]
    else:
        cfg = folder / "config.json"
        if not cfg.is_file():
            raise ConfigError(
                f"{folder}: needs {LABELS_FILE} (class names in output order) or config.json with id2label"
            )
        try:
            id2label = json.loads(cfg.read_text(encoding="utf-8")).get("id2label") or {}
            names = [str(id2label[k]) for k in sorted(id2label, key=int)]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{cfg}: cannot read id2label ({exc})") from None
    if len(names) < 2 or len(set(names)) != len(names):
        raise ConfigError(f"{folder}: needs two or more distinct class names, got {names}")
    return tuple(names)


class OnnxTextModel:
    """An ONNX classifier run by onnxruntime on text encoded by a ``tokenizers`` tokenizer."""

    def __init__(
        self,
        session: Any,
        tokenizer: Any,
        labels: Sequence[str],
        *,
        max_length: int = 256,
        batch_size: int = 32,
        path: str = "",
    ):
        self._session = session
        self._tokenizer = tokenizer
        self._labels = tuple(labels)
        self._inputs = [i.name for i in session.get_inputs()]
        missing = [n for n in self._inputs if n not in _INPUTS]
        if missing or "input_ids" not in self._inputs:
            raise ConfigError(
                f"{path or 'ONNX model'}: inputs {self._inputs}; expected input_ids and optionally attention_mask, token_type_ids"
            )
        self.batch_size = batch_size
        self.max_length = max_length
        self.path = path
        tokenizer.enable_truncation(max_length=max_length)
        if tokenizer.padding is None:
            pad_id = tokenizer.token_to_id("[PAD]")
            tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    @classmethod
    def load(
        cls, folder: str | Path, *, max_length: int = 256, batch_size: int = 32
    ) -> OnnxTextModel:
        """The model in ``folder`` (model.onnx, tokenizer.json, labels.txt or config.json)."""
        base = Path(folder).expanduser()
        for name in (MODEL_FILE, TOKENIZER_FILE):
            if not (base / name).is_file():
                raise ConfigError(f"model folder {base}: {name} missing")
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError:
            raise ConfigError(
                "an ONNX model needs onnxruntime and tokenizers: pip install 'govweibo[onnx]'"
            ) from None
        labels = _read_labels(base)
        try:
            session = ort.InferenceSession(
                str(base / MODEL_FILE), providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(base / TOKENIZER_FILE))
        except Exception as exc:  # onnxruntime and tokenizers raise their own types
            raise ConfigError(f"model folder {base}: cannot load: {exc}") from None
        model = cls(
            session, tokenizer, labels, max_length=max_length, batch_size=batch_size, path=str(base)
        )
        # One pass on a short text checks the output's shape against the labels now,
        # rather than in the middle of scoring a store.
        model.predict_proba(["测试"])
        return model

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self._labels)))
        for start in range(0, len(texts), self.batch_size):
            chunk = [t or "" for t in texts[start : start + self.batch_size]]
            enc = self._tokenizer.encode_batch(chunk)
            if not any(e.ids for e in enc):  # nothing to read (a tokenizer without [CLS])
                out[start : start + len(chunk)] = 1.0 / len(self._labels)
                continue
            arrays = {
                "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64),
            }
            raw = np.asarray(
                self._session.run(None, {n: arrays[n] for n in self._inputs})[0], dtype=np.float64
            )
            if raw.ndim != 2 or raw.shape[1] != len(self._labels):
                raise ConfigError(
                    f"{self.path}: output shape {raw.shape} does not match {len(self._labels)} labels {self._labels}"
                )
            out[start : start + len(chunk)] = raw if _is_proba(raw) else _softmax(raw)
        return out


@lru_cache(maxsize=4)
def load_onnx(folder: str) -> OnnxTextModel:
    """:meth:`OnnxTextModel.load`, cached per folder."""
    return OnnxTextModel.load(folder)


def probability_of(model: TextModel, texts: Sequence[str], names: Sequence[str]) -> np.ndarray:
    """P(the class whose name is one of ``names``, case-insensitive) per text."""
    want = {n.lower() for n in names}
    cols = [i for i, lb in enumerate(model.labels) if lb.lower() in want]
    if len(cols) != 1:
        raise ConfigError(f"model labels {model.labels}: need exactly one of {sorted(want)}")
    return np.asarray(model.predict_proba(texts)[:, cols[0]], dtype=np.float64)


RUMOUR_LABELS = ("rumour", "rumor", "谣言", "fake", "false")


def configured(setting: str) -> TextModel | None:
    """The ONNX model a setting (``sentiment_model``, ``rumour_text_model``) names, or None
    when it is empty. Read from the settings table (env ``GOVWEIBO_*`` or the config file),
    so library code and Spark workers see what the CLI sees."""
    from govweibo import settings

    folder = str(getattr(settings.load(), setting) or "").strip()
    return load_onnx(folder) if folder else None


def rumour_text_probability(
    texts: Sequence[str], model: TextModel | None = None
) -> np.ndarray | None:
    """P(rumour) of each source text by the user's text model (``model``, else the one
    the ``rumour_text_model`` setting names); None when no model is set. The model's labels
    must include one of :data:`RUMOUR_LABELS`."""
    m = model if model is not None else configured("rumour_text_model")
    if m is None:
        return None
    return probability_of(m, texts, RUMOUR_LABELS)
