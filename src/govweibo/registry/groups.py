"""Non-government term groups: the [[group]] blocks shared by the Chinese and English rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NONGOV_KINDS = ("media", "education", "enterprise", "ngo", "person", "other_institution")


def add_groups(
    into: dict[str, list[str]], blocks: list[dict[str, Any]], fail: Callable[[str], Exception]
) -> None:
    """[[group]] blocks (kind, terms), added to `into` by kind; an unknown kind is an error."""
    for block in blocks:
        kind = block.get("kind")
        if kind not in NONGOV_KINDS:
            raise fail(f"unknown non-government kind {kind!r}")
        into.setdefault(kind, []).extend(block.get("terms", ()))
