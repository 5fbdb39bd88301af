"""Registry of government accounts: find them and classify them.

Public API::

    classify_accounts(accounts, *, overrides=None, rules=None) -> pyarrow.Table
    classify_store(store, *, overrides=None, rules=None) -> ClassifySummary
    evaluate(path, *, overrides=None, rules=None) -> RegistryEval
    RuleSet.load(extra=[...])   # the rules, from registry/rules/*.toml (+ your files)

The method is in docs/registry.md.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from govweibo.errors import AnalysisError, StoreError
from govweibo.registry.classify import OUTPUT_COLUMNS, overrides_label, prepare, profiles_expr
from govweibo.registry.evaluate import RegistryEval, WrongRow, evaluate, user_to_account
from govweibo.registry.match import find_hits
from govweibo.registry.overrides import load_overrides
from govweibo.registry.ruleset import KINDS, LEVELS, SECTORS, RuleSet

__all__ = [
    "classify_accounts",
    "classify_store",
    "evaluate",
    "RuleSet",
    "ClassifySummary",
    "RegistryEval",
    "WrongRow",
    "user_to_account",
    "PROFILE_SCHEMA",
    "SECTORS",
    "KINDS",
    "LEVELS",
]

PROFILE_SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("account_id", pa.string()),
        ("is_government", pa.bool_()),
        ("confidence", pa.float64()),
        ("evidence", pa.string()),
        ("kind", pa.string()),
        ("sector", pa.string()),
        ("level", pa.string()),
        ("province", pa.string()),
        ("region", pa.string()),
        ("family", pa.string()),
    ]
)
assert tuple(PROFILE_SCHEMA.names) == OUTPUT_COLUMNS


@cache
def default_rules() -> RuleSet:
    """The shipped rules (loaded once)."""
    return RuleSet.load()


def classify_accounts(
    accounts: ir.Table | pa.Table,
    *,
    overrides: str | Path | None = None,
    rules: RuleSet | None = None,
) -> pa.Table:
    """One profile row per account (see PROFILE_SCHEMA); pure, writes nothing.

    `accounts` has the columns of the canonical `accounts` table; any may be missing.
    An Ibis table runs on its own backend; an Arrow table on an in-memory DuckDB.
    """
    rules = rules or default_rules()
    over = ibis.memtable(load_overrides(overrides)) if overrides is not None else None
    if isinstance(accounts, pa.Table):
        backend = ibis.duckdb.connect()
        table = backend.create_table("accounts", accounts, temp=True)
    elif isinstance(accounts, ir.Table):
        table = accounts
    else:
        raise AnalysisError(
            f"classify_accounts needs an Ibis or Arrow table, not {type(accounts).__name__}"
        )
    with (
        prepare(table).cache() as base,
        find_hits(base, ibis.memtable(rules.lexicon)).cache() as hits,
    ):
        expr = profiles_expr(
            base, hits, rules, over, overrides_label(overrides) if overrides else ""
        )
        result = expr.to_pyarrow()
    return result.cast(PROFILE_SCHEMA)


@dataclass
class ClassifySummary:
    """What `classify_store` wrote, with counts for a CLI or demo to print."""

    accounts: int
    government: int
    by_kind: dict[str, int] = field(default_factory=dict)
    by_sector: dict[str, int] = field(default_factory=dict)
    by_level: dict[str, int] = field(default_factory=dict)
    by_region: dict[str, int] = field(default_factory=dict)
    by_province: dict[str, int] = field(default_factory=dict)
    overridden: int = 0
    table: str = "account_profiles"

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def summarise(profiles: pa.Table) -> ClassifySummary:
    rows = profiles.select(
        ["is_government", "kind", "sector", "level", "region", "province", "evidence"]
    ).to_pylist()
    gov = [r for r in rows if r["is_government"]]

    def count(key: str) -> dict[str, int]:
        c = Counter(r[key] or "unknown" for r in gov)
        return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

    return ClassifySummary(
        accounts=len(rows),
        government=len(gov),
        by_kind=count("kind"),
        by_sector=count("sector"),
        by_level=count("level"),
        by_region=count("region"),
        by_province=count("province"),
        overridden=sum(1 for r in rows if (r["evidence"] or "").startswith("override=")),
    )


def classify_store(
    store: Any,
    *,
    overrides: str | Path | None = None,
    rules: RuleSet | None = None,
) -> ClassifySummary:
    """Classify the store's accounts and save them as the `account_profiles` table."""
    if not store.has_table("accounts"):
        raise StoreError("the store has no accounts table (run 'govweibo ingest' first)")
    profiles = classify_accounts(store.table("accounts"), overrides=overrides, rules=rules)
    store.write_result("account_profiles", profiles)
    return summarise(profiles)
