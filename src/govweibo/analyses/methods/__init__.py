"""Index methods: the indicator catalogue and the TOML method files (presets live here).

A method names dimensions, each with a weight and weighted indicators (with a transform);
see docs/methods-index.md for the file format.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from govweibo.errors import AnalysisError

# Raw indicators computed per account and period (name -> one-line definition).
INDICATORS: dict[str, str] = {
    "followers": "latest follower count observed at or before the period end (else latest)",
    "posts": "posts created in the period",
    "original_posts": "posts in the period that are not reposts (retweeted_post_id is null)",
    "reposts": "reposts received, summed over the period's posts",
    "comments": "comments received, summed over the period's posts",
    "likes": "likes received, summed over the period's posts",
    "active_days": "distinct Beijing-time days with at least one post",
    "posts_per_day": "posts / days in the period",
    "original_share": "original_posts / posts (null without posts)",
    "regularity": "active_days / days in the period",
    "reposts_per_post": "reposts / posts (null without posts)",
    "comments_per_post": "comments / posts (null without posts)",
    "likes_per_post": "likes / posts (null without posts)",
    "replies": "the account's own replies to others (interactions kind='reply') in the period",
    "public_comments": "comments/replies by others to the account recorded in the period",
    "reply_rate": "min(1, replies / public_comments) (null without recorded public comments)",
    "repost_depth": "mean over the period's originals with stored reposts of the deepest repost"
    " chain (1 + //@ names in repost_chain); null when no cascade is known",
    "timeliness": "share of the public comments addressed to the account in the period that it"
    " answered within timeliness_hours (default 48); null without such comments",
}
# 国务院办公厅《关于在政务公开工作中进一步做好政务舆情回应的通知》(国办发〔2016〕61号):
# public-opinion matters other than major emergencies are to be answered within 48 hours.
TIMELINESS_HOURS = 48.0
TRANSFORMS = ("log1p", "none")
NORMALISATIONS = ("percentile", "minmax", "none")


# Methods -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    name: str
    weight: float
    transform: str = "log1p"


@dataclass(frozen=True)
class Dimension:
    name: str
    weight: float
    indicators: tuple[Indicator, ...]
    label_zh: str = ""
    label_en: str = ""


@dataclass(frozen=True)
class Method:
    name: str
    title: str
    normalisation: str
    scale: float
    dimensions: tuple[Dimension, ...]
    description: str = ""
    source: str = ""
    path: str = ""
    timeliness_hours: float = TIMELINESS_HOURS

    def weights(self) -> dict[str, float]:
        """Dimension weights, normalised to sum to 1."""
        total = sum(d.weight for d in self.dimensions)
        return {d.name: d.weight / total for d in self.dimensions}


def available_methods() -> list[str]:
    folder = resources.files("govweibo.analyses.methods")
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_method(method: str | Path | Method) -> Method:
    """A shipped preset by name ('govweibo', 'bci') or a path to a user's TOML file."""
    if isinstance(method, Method):
        return method
    text = str(method)
    if isinstance(method, Path) or text.endswith(".toml") or "/" in text:
        path = Path(text)
        if not path.is_file():
            raise AnalysisError(f"method file {path} not found")
        raw, where = path.read_text(encoding="utf-8"), str(path)
    else:
        ref = resources.files("govweibo.analyses.methods") / f"{text}.toml"
        if not ref.is_file():
            raise AnalysisError(f"unknown method {text!r}; presets: {available_methods()}")
        raw, where = ref.read_text(encoding="utf-8"), f"preset:{text}"
    try:
        return _parse_method(tomllib.loads(raw), where)
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise AnalysisError(f"invalid method {where}: {exc}") from None


def _parse_method(doc: dict[str, Any], where: str) -> Method:
    norm = doc.get("normalisation", "percentile")
    if norm not in NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {NORMALISATIONS}")
    dims = []
    for name, spec in doc["dimensions"].items():
        inds = []
        for item in spec["indicators"]:
            ind = Indicator(
                item["name"], float(item.get("weight", 1.0)), item.get("transform", "log1p")
            )
            if ind.name not in INDICATORS:
                raise ValueError(f"unknown indicator {ind.name!r}; known: {sorted(INDICATORS)}")
            if ind.transform not in TRANSFORMS or ind.weight < 0:
                raise ValueError(f"indicator {ind.name}: bad transform or negative weight")
            inds.append(ind)
        if not inds or float(spec["weight"]) < 0:
            raise ValueError(f"dimension {name}: needs indicators and a weight >= 0")
        dims.append(
            Dimension(name, float(spec["weight"]), tuple(inds), spec.get("label_zh", name),
                      spec.get("label_en", name))
        )  # fmt: skip
    if not dims or sum(d.weight for d in dims) <= 0:
        raise ValueError("needs at least one dimension with a positive weight")
    hours = float(doc.get("timeliness_hours", TIMELINESS_HOURS))
    if hours <= 0:
        raise ValueError("timeliness_hours must be positive")
    return Method(
        name=doc.get("name", where), title=doc.get("title", ""), normalisation=norm,
        scale=float(doc.get("scale", 100.0)), dimensions=tuple(dims),
        description=doc.get("description", ""), source=doc.get("source", ""), path=where,
        timeliness_hours=hours,
    )  # fmt: skip
