"""Growth: government accounts opened per month, cumulative, with year-over-year ratios.

Opening date = accounts.created_at, else the first post seen from the account (Beijing time).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import ibis
import pyarrow as pa

from govweibo.analyses.base import Period, accounts_universe, tables_of
from govweibo.analyses.index import beijing_day

GROWTH_SCHEMA = pa.schema(
    [
        ("month", pa.string()),
        ("opened", pa.int64()),
        ("cumulative", pa.int64()),
        ("opened_yoy", pa.float64()),
        ("cumulative_yoy", pa.float64()),
    ]
)


def opening_days(
    source: Any, *, government_only: bool = True, platform: str | None = None, by: str | None = None
) -> Any:
    """Ibis expression: accounts opened per Beijing day (`day` = days since 1970-01-01)."""
    table, _ = tables_of(source)
    base = accounts_universe(source, government_only=government_only, platform=platform)
    p = table("posts")
    first = p.group_by([p.platform, p.author_id.name("account_id")]).aggregate(
        first_post=p.created_at.min()
    )
    t = base.left_join(first, ["platform", "account_id"])
    t = t.mutate(opened=ibis.coalesce(t.opened_at, t.first_post))
    t = t.filter(t.opened.notnull())
    t = t.mutate(day=beijing_day(t.opened).cast("int64"))
    keys = ["day"] if by is None else ["day", by]
    return t.group_by(keys).aggregate(n=t.count())


def _month(day: int) -> tuple[int, int]:
    d = date(1970, 1, 1) + timedelta(days=day)
    return d.year, d.month


def account_growth(
    source: Any,
    *,
    government_only: bool = True,
    platform: str | None = None,
    until: Period | str | None = None,
) -> pa.Table:
    """One row per month from the first opening to the last (or to `until`'s end month):
    accounts opened, cumulative count, and ratios to the same month a year earlier
    (null when the earlier value is zero or before the series starts)."""
    days = opening_days(source, government_only=government_only, platform=platform).to_pyarrow()
    per = Counter[tuple[int, int]]()
    for day, n in zip(days["day"].to_pylist(), days["n"].to_pylist(), strict=True):
        per[_month(day)] += n
    if not per:
        return GROWTH_SCHEMA.empty_table()
    first, last = min(per), max(per)
    if until is not None:
        end = Period.parse(until).end - timedelta(days=1)
        last = (end.year, end.month)
        per = Counter({k: v for k, v in per.items() if k <= last})
        if not per:
            return GROWTH_SCHEMA.empty_table()
        first = min(per)
    months: list[tuple[int, int]] = []
    y, m = first
    while (y, m) <= last:
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    opened = [per.get(k, 0) for k in months]
    cumulative, run = [], 0
    for n in opened:
        run += n
        cumulative.append(run)

    def yoy(values: list[int], i: int) -> float | None:
        return values[i] / values[i - 12] if i >= 12 and values[i - 12] else None

    return pa.Table.from_pydict(
        {
            "month": [f"{y}-{m:02d}" for y, m in months],
            "opened": opened,
            "cumulative": cumulative,
            "opened_yoy": [yoy(opened, i) for i in range(len(months))],
            "cumulative_yoy": [yoy(cumulative, i) for i in range(len(months))],
        },
        schema=GROWTH_SCHEMA,
    )


def yearly_growth(monthly: pa.Table) -> pa.Table:
    """Collapse account_growth's months into years: opened, cumulative at year end, ratios."""
    opened: dict[str, int] = {}
    cum: dict[str, int] = {}
    for row in monthly.to_pylist():
        yr = row["month"][:4]
        opened[yr] = opened.get(yr, 0) + row["opened"]
        cum[yr] = row["cumulative"]
    years = sorted(opened)
    prev = {y: str(int(y) - 1) for y in years}
    return pa.table(
        {
            "year": years,
            "opened": [opened[y] for y in years],
            "cumulative": [cum[y] for y in years],
            "cumulative_yoy": [cum[y] / cum[prev[y]] if cum.get(prev[y]) else None for y in years],
        }
    )
