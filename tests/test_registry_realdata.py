"""The registry on the real CED corpus (source posts' authors), read straight from the files.

Data: $GOVWEIBO_SHARED_DATA or ../shared/data relative to the repository root; the test
skips with a message where it is absent. Run this file as a script to print the table of
verified accounts that are government, by province, used in docs/registry.md.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from govweibo import model
from govweibo.reference import provinces
from govweibo.registry import classify_accounts

REPO = Path(__file__).resolve().parents[1]


def ced_dir() -> Path | None:
    root = Path(os.environ.get("GOVWEIBO_SHARED_DATA") or REPO.parent / "shared" / "data")
    path = root / "ced" / "original-microblog"
    return path if path.is_dir() else None


def ced_accounts(folder: Path) -> pa.Table:
    """One accounts row per author uid (the third part of `{idx}_{mid}_{uid}.json`).

    The `user` object has verified, verified_type, location ("省 市") and gender but no id
    or name, and `description` is a bool, not the text; it may be the string "empty".
    The latest post's profile is kept for an author who wrote several source posts.
    """
    latest: dict[str, tuple[float, dict[str, object]]] = {}
    for path in sorted(folder.glob("*.json")):
        parts = path.stem.split("_")
        if len(parts) < 3:
            continue
        post = json.loads(path.read_text(encoding="utf-8"))
        user = post.get("user")
        if not isinstance(user, dict):
            continue
        when = post.get("time")
        when = float(when) if isinstance(when, int | float) else 0.0
        vt = user.get("verified_type")
        row = {
            "platform": "weibo",
            "account_id": parts[2],
            "verified": user.get("verified") if isinstance(user.get("verified"), bool) else None,
            "verified_type": vt if isinstance(vt, int) else None,
            "location": user.get("location") if isinstance(user.get("location"), str) else None,
            "gender": user.get("gender") if isinstance(user.get("gender"), str) else None,
        }
        if parts[2] not in latest or when >= latest[parts[2]][0]:
            latest[parts[2]] = (when, row)
    rows = [row for _, row in latest.values()]
    return model.conform("accounts", pa.Table.from_pylist(rows))


def share_by_province(accounts: pa.Table, profiles: pa.Table) -> list[tuple[str, int, int]]:
    """(province, verified accounts, of which government), most verified first."""
    gov = dict(
        zip(profiles["account_id"].to_pylist(), profiles["is_government"].to_pylist(), strict=True)
    )
    prov = dict(
        zip(profiles["account_id"].to_pylist(), profiles["province"].to_pylist(), strict=True)
    )
    total: Counter[str] = Counter()
    govs: Counter[str] = Counter()
    for acct, verified in zip(
        accounts["account_id"].to_pylist(), accounts["verified"].to_pylist(), strict=True
    ):
        if verified:
            key = prov[acct] or "(none: 海外/其他/blank)"
            total[key] += 1
            govs[key] += bool(gov[acct])
    return sorted(((k, total[k], govs[k]) for k in total), key=lambda r: (-r[1], r[0]))


@pytest.fixture(scope="module")
def ced() -> tuple[pa.Table, pa.Table]:
    folder = ced_dir()
    if folder is None:
        pytest.skip(
            "CED corpus not found: set GOVWEIBO_SHARED_DATA or put it at "
            "../shared/data/ced/original-microblog"
        )
    accounts = ced_accounts(folder)
    return accounts, classify_accounts(accounts)


@pytest.mark.realdata
def test_ced_government_accounts_are_found_with_their_province(ced):
    accounts, profiles = ced
    assert accounts.num_rows > 1000
    by_id = {r["account_id"]: r for r in profiles.to_pylist()}
    shorts = {p.short_zh for p in provinces()}
    vt1 = [r for r in accounts.to_pylist() if r["verified_type"] == 1]
    assert vt1, "the corpus has government-verified authors"
    for acct in vt1:
        got = by_id[acct["account_id"]]
        assert got["is_government"], got
        assert got["kind"] == "agency"
        first = (acct["location"] or "").split(" ")[0]
        if first in shorts:
            assert got["province"] == first, (acct, got)
            assert got["region"] is not None


@pytest.mark.realdata
def test_ced_non_government_types_stay_non_government(ced):
    accounts, profiles = ced
    by_id = {r["account_id"]: r for r in profiles.to_pylist()}
    for acct in accounts.to_pylist():
        if acct["verified_type"] in (2, 3, 4, 5, 7):
            assert not by_id[acct["account_id"]]["is_government"]
    rows = share_by_province(accounts, profiles)
    assert sum(n for _, n, _ in rows) == sum(1 for v in accounts["verified"].to_pylist() if v)


def main() -> None:
    folder = ced_dir()
    if folder is None:
        sys.exit("CED corpus not found")
    accounts = ced_accounts(folder)
    profiles = classify_accounts(accounts)
    rows = share_by_province(accounts, profiles)
    n_ver = sum(n for _, n, _ in rows)
    n_gov = sum(g for _, _, g in rows)
    print(
        f"{accounts.num_rows} authors, {n_ver} verified, {n_gov} government "
        f"({100 * n_gov / n_ver:.1f} % of verified)\n"
    )
    print("| province | verified | government | share |\n|---|---:|---:|---:|")
    for prov, n, g in rows:
        print(f"| {prov} | {n} | {g} | {100 * g / n:.1f} % |")


if __name__ == "__main__":
    main()
