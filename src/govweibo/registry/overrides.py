"""The manual overrides file: account id -> fields that always win over the rules.

A CSV with a header. `account_id` is required; `platform` (blank = any platform),
`is_government` (true/false), `kind`, `sector`, `level`, `province`, `family` and `note`
are optional, and a blank cell keeps the rules' value. Example::

    account_id,platform,is_government,kind,sector,level,province,note
    1234567890,weibo,true,official,government_general,county,广东,"profile hides the post"
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

from govweibo.errors import ConfigError
from govweibo.reference import provinces
from govweibo.registry.ruleset import KINDS, LEVELS, SECTORS

COLUMNS = (
    "account_id",
    "platform",
    "is_government",
    "kind",
    "sector",
    "level",
    "province",
    "family",
    "note",
)
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}

SCHEMA = pa.schema(
    [
        ("o_account_id", pa.string()),
        ("o_platform", pa.string()),
        ("o_is_gov", pa.bool_()),
        ("o_kind", pa.string()),
        ("o_sector", pa.string()),
        ("o_level", pa.string()),
        ("o_province", pa.string()),
        ("o_family", pa.string()),
        ("o_note", pa.string()),
    ]
)


def load_overrides(path: str | Path) -> pa.Table:
    """Read and validate an overrides CSV; errors name the file and line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"overrides file {p}: {exc.strerror or exc}") from None
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    if "account_id" not in header:
        raise ConfigError(f"{p}:1: the overrides file needs an account_id column")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise ConfigError(f"{p}:1: unknown column(s) {', '.join(unknown)}")
    short = {x.short_zh for x in provinces()}
    full = {x.name_zh: x.short_zh for x in provinces()}
    rows: dict[str, list[object]] = {name: [] for name in SCHEMA.names}
    seen: set[tuple[str, str]] = set()
    for line, row in enumerate(reader, start=2):

        def cell(name: str, row: dict[str, str | None] = row) -> str | None:
            v = (row.get(name) or "").strip()
            return v or None

        def bad(msg: str, line: int = line) -> ConfigError:
            return ConfigError(f"{p}:{line}: {msg}")

        acct = cell("account_id")
        if acct is None:
            raise bad("account_id is empty")
        key = (acct, cell("platform") or "")
        if key in seen:
            raise bad(f"account {acct} is overridden twice")
        seen.add(key)
        gov_text = cell("is_government")
        gov: bool | None = None
        if gov_text is not None:
            if gov_text.lower() in _TRUE:
                gov = True
            elif gov_text.lower() in _FALSE:
                gov = False
            else:
                raise bad(f"is_government must be true or false, not {gov_text!r}")
        for name, allowed in (("kind", KINDS), ("sector", SECTORS), ("level", LEVELS)):
            v = cell(name)
            if v is not None and v not in allowed:
                raise bad(f"{name} {v!r} is not one of {', '.join(allowed)}")
        prov: str | None = cell("province")
        if prov is not None:
            prov = full.get(prov, prov)
            if prov not in short:
                raise bad(f"province {prov!r} is not a province short name such as 浙江")
        values: list[object] = [
            acct,
            cell("platform"),
            gov,
            cell("kind"),
            cell("sector"),
            cell("level"),
            prov,
            cell("family"),
            cell("note"),
        ]
        for name, value in zip(SCHEMA.names, values, strict=True):
            rows[name].append(value)
    return pa.table(rows, schema=SCHEMA)
