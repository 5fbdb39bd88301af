"""The GB/T 2260 administrative division table (province, prefecture, county).

Loaded from `data/divisions.csv`, built once by `scripts/build_divisions.py` from the
cpca (MIT) and GB2260 (BSD) PyPI packages; see `data/SOURCES.md`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from govweibo.reference import data_path, provinces

LEVELS = ("province", "prefecture", "county")


@dataclass(frozen=True)
class Division:
    adcode: str
    name: str
    short: str
    level: str
    parent: str
    status: str  # "current", or "former" (in use 2009-2013, gone since)

    @property
    def province_adcode(self) -> str:
        return self.adcode[:2] + "0000"


@cache
def divisions() -> tuple[Division, ...]:
    """All divisions, current first, in code order."""
    with open(data_path("divisions.csv"), encoding="utf-8", newline="") as fh:
        return tuple(Division(**row) for row in csv.DictReader(fh))


@cache
def province_short_of_code() -> dict[str, str]:
    """Two-digit province code (as in an adcode or Sina's `province`) -> short name."""
    return {p.sina_code: p.short_zh for p in provinces()}


def province_of(adcode: str) -> str | None:
    """Short Chinese name of the province a division code belongs to."""
    return province_short_of_code().get(adcode[:2])


@cache
def by_name() -> dict[str, tuple[Division, ...]]:
    """Full name -> the divisions with that name (朝阳区 has several)."""
    out: dict[str, list[Division]] = {}
    for d in divisions():
        out.setdefault(d.name, []).append(d)
    return {k: tuple(v) for k, v in out.items()}
