"""Reference tables shipped with the package (sources in data/SOURCES.md)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Province:
    adcode: str
    sina_code: str
    short_zh: str
    name_zh: str
    name_en: str
    region: str


def data_path(name: str) -> str:
    """Filesystem path of a shipped reference file."""
    return str(resources.files("govweibo.reference") / "data" / name)


@cache
def provinces() -> tuple[Province, ...]:
    """The 34 province-level divisions, in GB/T 2260 order."""
    with open(data_path("provinces.csv"), encoding="utf-8", newline="") as fh:
        return tuple(Province(**row) for row in csv.DictReader(fh))


def province_by_short(short_zh: str) -> Province | None:
    return next((p for p in provinces() if p.short_zh == short_zh), None)


@dataclass(frozen=True)
class Region:
    region: str
    name_zh: str
    name_en: str


@cache
def regions() -> tuple[Region, ...]:
    """The region codes of provinces.csv with their Chinese and English names."""
    with open(data_path("regions.csv"), encoding="utf-8", newline="") as fh:
        return tuple(Region(**row) for row in csv.DictReader(fh))
