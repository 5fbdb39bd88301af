"""Shared Chinese text pipeline: normalise, segment, sentiment."""

from __future__ import annotations

from govweibo.text.normalise import NormalisedText, normalise, normalise_many
from govweibo.text.segment import tokenize_many, tokens

__all__ = ["NormalisedText", "normalise", "normalise_many", "tokenize_many", "tokens"]
