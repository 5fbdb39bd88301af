"""Classification rules as data: the TOML files in `rules/`, merged into one lexicon.

The lexicon is a table of terms (place names, sector keywords, organ words, post titles,
non-government words), each with the attributes the classifier aggregates. It is what
the vectorised matcher joins account texts against (see `classify.py`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa

from govweibo.errors import ConfigError
from govweibo.reference import provinces
from govweibo.reference.divisions import divisions, province_of
from govweibo.registry.english import EnglishRules
from govweibo.registry.groups import add_groups

SECTORS = (
    "public_security",
    "courts_procuratorate",
    "publicity",
    "foreign_affairs",
    "party_organisation",
    "emergency_rescue",
    "environment",
    "transport",
    "health",
    "education",
    "civil_affairs",
    "government_general",
    "market_regulation",
    "taxation",
    "other",
)
KINDS = ("agency", "official")
LEVELS = ("central", "provincial", "prefecture", "county")
LEVEL_RANK = {"province": 1, "prefecture": 2, "county": 3}

_LIST_KEYS = {
    ("agency", "terms"),
    ("agency", "marks"),
    ("official", "titles"),
    ("central", "terms"),
    ("county", "terms"),
    ("short_names", "prefecture_stoplist"),
}
_SCALAR_KEYS = {("agency", "suffix_regex"), ("agency", "mark_strip_regex")}
_DICT_KEYS = {"province_aliases", "county_short_names"}


@dataclass(frozen=True)
class SectorRule:
    name: str
    priority: int
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class FamilyRule:
    name: str
    prefix: str | None
    suffix: str | None
    sector: str | None
    parent: str


def rules_dir() -> Path:
    return Path(str(resources.files("govweibo.registry") / "rules"))


@dataclass
class RuleSet:
    """All rules, merged from the shipped files and any extra files given."""

    sectors: dict[str, SectorRule] = field(default_factory=dict)
    lists: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    scalars: dict[tuple[str, str], str] = field(default_factory=dict)
    dicts: dict[str, dict[str, str]] = field(default_factory=dict)
    nongov: dict[str, list[str]] = field(default_factory=dict)
    families: list[FamilyRule] = field(default_factory=list)
    central_has_province: bool = False
    files: list[str] = field(default_factory=list)
    # Rules from files with lang = "en" (Mastodon, X); None when no such file was loaded.
    english: EnglishRules | None = None

    @classmethod
    def load(cls, extra: Iterable[str | Path] = (), *, shipped: bool = True) -> RuleSet:
        """Shipped rules, then each extra file or folder of *.toml (lists extend)."""
        paths: list[Path] = sorted(rules_dir().glob("*.toml")) if shipped else []
        for item in extra:
            p = Path(item)
            if p.is_dir():
                paths.extend(sorted(p.glob("*.toml")))
            elif p.exists():
                paths.append(p)
            else:
                raise ConfigError(f"rules file {p} does not exist")
        rules = cls()
        for p in paths:
            try:
                doc = tomllib.loads(p.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"rules file {p}: {exc}") from None
            rules._merge(doc, p)
            rules.files.append(str(p))
        return rules

    # Merging ---------------------------------------------------------------

    def _merge(self, doc: dict[str, Any], path: Path) -> None:
        def fail(msg: str) -> ConfigError:
            return ConfigError(f"rules file {path}: {msg}")

        lang = doc.get("lang", "zh")
        if lang == "en":
            self.english = self.english or EnglishRules()
            self.english.merge(doc, path, SECTORS)
            return
        if lang != "zh":
            raise fail(f"unknown lang {lang!r} (known: zh, en)")
        for key, value in doc.items():
            if key in ("lang", "platform"):
                continue
            if key == "central_has_province":
                self.central_has_province = bool(value)
            elif key == "sector":
                for block in value:
                    name, prio = block.get("name"), block.get("priority")
                    if name not in SECTORS:
                        raise fail(f"unknown sector {name!r} (known: {', '.join(SECTORS)})")
                    old = self.sectors.get(name)
                    kws = tuple(block.get("keywords", ()))
                    self.sectors[name] = SectorRule(
                        name,
                        int(prio if prio is not None else (old.priority if old else 50)),
                        (old.keywords if old else ()) + kws,
                    )
            elif key == "group":
                add_groups(self.nongov, value, fail)
            elif key == "family":
                for block in value:
                    if not block.get("name") or not (block.get("prefix") or block.get("suffix")):
                        raise fail("a [[family]] needs a name and a prefix or suffix")
                    sector = block.get("sector")
                    if sector is not None and sector not in SECTORS:
                        raise fail(f"family {block['name']}: unknown sector {sector!r}")
                    self.families.append(
                        FamilyRule(
                            block["name"],
                            block.get("prefix"),
                            block.get("suffix"),
                            sector,
                            block.get("parent", ""),
                        )
                    )
            elif key in _DICT_KEYS:
                self.dicts.setdefault(key, {}).update(value)
            elif isinstance(value, dict):
                for sub, v in value.items():
                    if (key, sub) in _LIST_KEYS:
                        self.lists.setdefault((key, sub), []).extend(v)
                    elif (key, sub) in _SCALAR_KEYS:
                        self.scalars[(key, sub)] = str(v)
                    else:
                        raise fail(f"unknown key [{key}].{sub}")
            else:
                raise fail(f"unknown key {key!r}")

    def list(self, section: str, key: str) -> list[str]:
        return self.lists.get((section, key), [])

    def scalar(self, section: str, key: str) -> str:
        try:
            return self.scalars[(section, key)]
        except KeyError:
            raise ConfigError(f"rules lack [{section}].{key}") from None

    # The lexicon ---------------------------------------------------------

    @cached_property
    def lexicon(self) -> pa.Table:
        """One row per term with its merged attributes (see module docstring)."""
        terms: dict[str, dict[str, Any]] = {}

        def entry(term: str) -> dict[str, Any]:
            return terms.setdefault(term.strip(), {})

        for place, (level, prov) in self._places().items():
            e = entry(place)
            e["plevel"], e["pprov"] = level, prov
        for rule in sorted(self.sectors.values(), key=lambda r: r.priority):
            for kw in rule.keywords:  # ascending priority: the highest claim wins
                e = entry(kw)
                e["sector"], e["sprio"] = rule.name, rule.priority
        for flag, items in (
            ("organ", self.list("agency", "terms")),
            ("mark", self.list("agency", "marks")),
            ("title", self.list("official", "titles")),
            ("central", self.list("central", "terms")),
            ("county", self.list("county", "terms")),
        ):
            for t in items:
                entry(t)[flag] = True
        for kind, items in self.nongov.items():
            for t in items:
                entry(t)["neg"] = kind
        terms.pop("", None)
        _inherit(terms)
        for term in [t for t in terms if t.isascii() and t.lower() != t.upper()]:
            for variant in (term.lower(), term.upper(), term.title()):
                terms.setdefault(variant, dict(terms[term]))
        rows = [(t, a) for t, a in terms.items() if len(t) >= 2]
        cols: dict[str, list[Any]] = {
            "term": [t for t, _ in rows],
            "lpre": [t[:2] for t, _ in rows],
            "ln": [len(t) for t, _ in rows],
        }
        for name in ("plevel", "pprov", "sector", "sprio", "neg"):
            cols[name] = [a.get(name) for _, a in rows]
        for name in ("organ", "mark", "title", "central", "county"):
            cols[name] = [bool(a.get(name, False)) for _, a in rows]
        schema = pa.schema(
            [
                ("term", pa.string()),
                ("lpre", pa.string()),
                ("ln", pa.int32()),
                ("plevel", pa.int8()),
                ("pprov", pa.string()),
                ("sector", pa.string()),
                ("sprio", pa.int32()),
                ("neg", pa.string()),
                ("organ", pa.bool_()),
                ("mark", pa.bool_()),
                ("title", pa.bool_()),
                ("central", pa.bool_()),
                ("county", pa.bool_()),
            ]
        )
        return pa.table(cols, schema=schema)

    def _places(self) -> dict[str, tuple[int, str | None]]:
        """Place name -> (level rank, province short or None when ambiguous)."""
        found: dict[str, set[tuple[int, str | None]]] = {}

        def add(name: str, level: int, prov: str | None) -> None:
            found.setdefault(name, set()).add((level, prov))

        prov_shorts = {p.short_zh for p in provinces()}
        stop = set(self.list("short_names", "prefecture_stoplist"))
        for d in divisions():
            level, prov = LEVEL_RANK[d.level], province_of(d.adcode)
            if len(d.name) >= 3 or d.name.endswith("县"):
                add(d.name, level, prov)
            if d.level == "province":
                add(d.short, 1, prov)
            elif d.level == "prefecture" and d.short and d.short not in prov_shorts:
                if d.short not in stop:
                    add(d.short, 2, prov)
                if d.name.endswith("自治州"):
                    add(d.short + "州", 2, prov)
        for alias, prov in self.dicts.get("province_aliases", {}).items():
            if prov not in prov_shorts:
                raise ConfigError(f"province alias {alias!r} -> unknown province {prov!r}")
            add(alias, 1, prov)
        for short, prov in self.dicts.get("county_short_names", {}).items():
            ok = any(
                d.level == "county" and province_of(d.adcode) == prov and short in (d.short, d.name)
                for d in divisions()
            )
            if not ok:
                raise ConfigError(f"county short name {short!r}: no county of {prov} has it")
            add(short, 3, prov)
        out: dict[str, tuple[int, str | None]] = {}
        for name, claims in found.items():
            provs = {p for _, p in claims}
            out[name] = (min(lv for lv, _ in claims), provs.pop() if len(provs) == 1 else None)
        return out


def _inherit(terms: dict[str, dict[str, Any]]) -> None:
    """A longer organ/sector/title term takes over what the terms inside it say.

    Place names and non-government words inherit nothing: 公安县 is a place, not police;
    公安大学 is a university. Titles and marks are never passed on. The sector comes from
    the longest term inside (镇人民政府 takes 人民政府's, not 民政's), then priority.
    """
    snapshot = {t: dict(a) for t, a in terms.items()}
    for term, attrs in terms.items():
        if "plevel" in attrs or "neg" in attrs or len(term) < 3:
            continue
        best: tuple[int, int] | None = None
        for i in range(len(term)):
            for j in range(i + 2, len(term) + 1):
                sub = term[i:j]
                if sub == term or sub not in snapshot:
                    continue
                inner = snapshot[sub]
                if "plevel" in inner or "neg" in inner:
                    continue
                if "sector" in inner and "sector" not in snapshot[term]:
                    rank = (len(sub), inner["sprio"])
                    if best is None or rank > best:
                        best = rank
                        attrs["sector"], attrs["sprio"] = inner["sector"], inner["sprio"]
                for flag in ("organ", "central", "county"):
                    # A post title (检察官) names a person, not an organ.
                    if inner.get(flag) and not (flag == "organ" and attrs.get("title")):
                        attrs[flag] = True
