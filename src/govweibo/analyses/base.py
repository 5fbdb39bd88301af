"""What every analysis starts from: a period of Beijing-time days, and a source's tables.

A source is a `Store`, a `SparkTables`, or any mapping of table name -> Ibis table; the
analyses read it through `tables_of` and never ask which engine it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis

from govweibo.errors import AnalysisError

BEIJING_OFFSET_S = 8 * 3600
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PROFILE_COLUMNS = ("kind", "sector", "level", "province", "region")
TableGetter = Callable[[str], Any]


@dataclass(frozen=True)
class Period:
    """A span of Beijing-time (UTC+8) calendar days: start inclusive, end exclusive."""

    start: date
    end: date
    label: str
    kind: str = "range"  # year | quarter | month | range

    @classmethod
    def year(cls, y: int) -> Period:
        return cls(date(y, 1, 1), date(y + 1, 1, 1), f"{y}", "year")

    @classmethod
    def quarter(cls, y: int, q: int) -> Period:
        if not 1 <= q <= 4:
            raise AnalysisError(f"quarter must be 1-4, got {q}")
        end = date(y + 1, 1, 1) if q == 4 else date(y, 3 * q + 1, 1)
        return cls(date(y, 3 * q - 2, 1), end, f"{y}Q{q}", "quarter")

    @classmethod
    def month(cls, y: int, m: int) -> Period:
        if not 1 <= m <= 12:
            raise AnalysisError(f"month must be 1-12, got {m}")
        end = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
        return cls(date(y, m, 1), end, f"{y}-{m:02d}", "month")

    @classmethod
    def between(cls, start: date | str, until: date | str) -> Period:
        """From `start` to `until`, both days inclusive."""
        a = date.fromisoformat(start) if isinstance(start, str) else start
        b = date.fromisoformat(until) if isinstance(until, str) else until
        if b < a:
            raise AnalysisError(f"period ends ({b}) before it starts ({a})")
        return cls(a, b + timedelta(days=1), f"{a.isoformat()}..{b.isoformat()}", "range")

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """'2011', '2011Q3', '2011-07', '2011-07-01..2011-09-30' (or '/' between dates)."""
        if isinstance(text, Period):
            return text
        s = str(text).strip()
        try:
            if m := re.fullmatch(r"(\d{4})", s):
                return cls.year(int(m[1]))
            if m := re.fullmatch(r"(\d{4})-?[Qq]([1-4])", s):
                return cls.quarter(int(m[1]), int(m[2]))
            if m := re.fullmatch(r"(\d{4})-(\d{1,2})", s):
                return cls.month(int(m[1]), int(m[2]))
            if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*(?:\.\.|/)\s*(\d{4}-\d{2}-\d{2})", s):
                return cls.between(m[1], m[2])
        except ValueError as exc:
            raise AnalysisError(f"bad period {s!r}: {exc}") from None
        raise AnalysisError(f"bad period {s!r} (try 2011, 2011Q3, 2011-07, 2011-01-01..2011-06-30)")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def start_utc(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC) - timedelta(
            seconds=BEIJING_OFFSET_S
        )

    @property
    def end_utc(self) -> datetime:
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC) - timedelta(
            seconds=BEIJING_OFFSET_S
        )

    def previous(self) -> Period:
        """The preceding period of the same kind (same number of days for ranges)."""
        s = self.start
        if self.kind == "year":
            return Period.year(s.year - 1)
        if self.kind == "quarter":
            q = (s.month - 1) // 3 + 1
            return Period.quarter(s.year - 1, 4) if q == 1 else Period.quarter(s.year, q - 1)
        if self.kind == "month":
            return (
                Period.month(s.year - 1, 12) if s.month == 1 else Period.month(s.year, s.month - 1)
            )
        return Period.between(s - timedelta(days=self.days), s - timedelta(days=1))


# Tables ------------------------------------------------------------------------------------


def tables_of(source: Any) -> tuple[TableGetter, Callable[[str], bool]]:
    """Accept a Store or a mapping of table name -> Ibis table (e.g. from another backend)."""
    if isinstance(source, Mapping):
        return (lambda n: source[n]), (lambda n: n in source)
    return source.table, source.has_table


def accounts_universe(source: Any, *, government_only: bool = True, platform: str | None = None):
    """Accounts with their profile columns (from table account_profiles when present)."""
    table, has = tables_of(source)
    acc = table("accounts")
    acc = acc.select("platform", "account_id", "screen_name", acc.created_at.name("opened_at"))
    if has("account_profiles"):
        prof = table("account_profiles")
        prof = prof.select("platform", "account_id", "is_government", *PROFILE_COLUMNS)
        if government_only:
            prof = prof.filter(prof.is_government.fill_null(False))
            base = prof.left_join(acc, ["platform", "account_id"])
        else:
            base = acc.left_join(prof, ["platform", "account_id"])
        base = base.select("platform", "account_id", "screen_name", "opened_at", *PROFILE_COLUMNS)
    elif government_only:
        raise AnalysisError(
            "no account_profiles table: run the registry first, or pass government_only=False"
        )
    else:
        base = acc.mutate(**{c: ibis.null("string") for c in PROFILE_COLUMNS})
    if platform:
        base = base.filter(base.platform == platform)
    return base
