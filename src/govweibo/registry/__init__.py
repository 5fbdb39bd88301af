"""Registry of government accounts: find them and classify them.

Public API::

    classify_accounts(accounts, *, overrides=None, rules=None) -> pyarrow.Table
    classify_store(store, *, overrides=None, rules=None) -> ClassifySummary
    evaluate(path, *, overrides=None, rules=None) -> RegistryEval
    RuleSet.load(extra=[...])   # the rules, from registry/rules/*.toml (+ your files)

The method is in docs/registry.md.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
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
    order: tuple[str, ...] = ()
    if isinstance(accounts, pa.Table):
        backend = ibis.duckdb.connect()
        # Rows come out in the order they came in.
        rows = pa.array(range(accounts.num_rows), pa.int64())
        table = backend.create_table("accounts", accounts.append_column("_row", rows), temp=True)
        order = ("_row",)
    elif isinstance(accounts, ir.Table):
        table = accounts
    else:
        raise AnalysisError(
            f"classify_accounts needs an Ibis or Arrow table, not {type(accounts).__name__}"
        )
    with (
        _small_table(table, rules.lexicon) as lexicon,
        prepare(table, order).cache() as base,
        find_hits(base, lexicon).cache() as hits,
    ):
        # Only when some account needs them: a Weibo store's SQL stays as it was.
        english = rules.english is not None and bool(
            base.filter(rules.english.applies(base.platform)).count().to_pyarrow().as_py()
        )
        expr = profiles_expr(
            base,
            hits,
            rules,
            over,
            overrides_label(overrides) if overrides else "",
            english=english,
        )
        result = expr.to_pyarrow()
    return result.cast(PROFILE_SCHEMA)


@contextmanager
def _small_table(like: ir.Table, data: pa.Table) -> Iterator[ir.Table]:
    """`data` as a table of `like`'s backend, usable inside a cached expression.

    The PySpark backend's `cache()` does not register the `ibis.memtable`s the cached
    expression reads (ibis 12: TABLE_OR_VIEW_NOT_FOUND), so there the data becomes a
    Spark temporary view for the duration; elsewhere a memtable is enough.
    """
    backend = like._find_backend()
    if backend.name != "pyspark":
        yield ibis.memtable(data)
        return
    name = f"govweibo_small_{uuid.uuid4().hex}"
    session = backend._session
    session.createDataFrame(data).createOrReplaceTempView(name)
    try:
        yield backend.table(name)
    finally:
        session.catalog.dropTempView(name)


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
