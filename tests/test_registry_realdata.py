"""The registry on the real CED corpus (source posts' authors), read straight from the files,
and on the independent labelled set (tests/data/registry_labels_independent.jsonl).

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
def test_ced_province_and_region_of_every_author(ced):
    """Location parsing on 1,760 real, messy profiles (not only the government ones): the
    province is the first word of `location` when that names a province, else null (海外,
    其他, blank), and the region is that province's."""
    accounts, profiles = ced
    assert accounts.num_rows > 1000
    by_short = {p.short_zh: p for p in provinces()}
    for acct, got in zip(accounts.to_pylist(), profiles.to_pylist(), strict=True):
        first = (acct["location"] or "").split(" ")[0]
        want = by_short.get(first)
        assert got["province"] == (want.short_zh if want else None), (acct, got)
        assert got["region"] == (want.region if want else None), (acct, got)


@pytest.mark.realdata
def test_ced_documented_table(ced):
    """The figures docs/registry.md prints for CED, so the table cannot drift from the code."""
    accounts, profiles = ced
    rows = share_by_province(accounts, profiles)
    assert accounts.num_rows == 1760
    assert sum(n for _, n, _ in rows) == 931
    assert sum(g for _, _, g in rows) == 11
    table = {prov: (n, g) for prov, n, g in rows}
    assert table["北京"] == (332, 3) and table["上海"] == (87, 3) and table["浙江"] == (27, 2)
    assert table["广东"] == (113, 0)


@pytest.mark.realdata
def test_ced_government_rests_on_the_verified_type_alone(ced):
    """CED profiles carry no name, reason or description, so nothing corroborates Sina's
    type: with `verified_type` removed no author may be called government (location and
    gender are no evidence), every decision is `no_signal` at the unknown-type confidence,
    and the 11 government authors are exactly the type-1 ones."""
    accounts, profiles = ced
    vt = accounts["verified_type"].to_pylist()
    gov = profiles["is_government"].to_pylist()
    assert [bool(g) for g in gov] == [v == 1 for v in vt]
    blind = accounts.set_column(
        accounts.column_names.index("verified_type"),
        "verified_type",
        pa.nulls(accounts.num_rows, accounts.schema.field("verified_type").type),
    )
    again = classify_accounts(blind)
    assert not any(again["is_government"].to_pylist())
    assert {e.split(";")[0] for e in again["evidence"].to_pylist()} == {"rule=no_signal"}
    assert set(again["confidence"].to_pylist()) == {0.7}


def test_independent_labelled_set_figures():
    """tests/data/registry_labels_independent.jsonl: written and labelled before the rules
    were run on it, and not used to change them (docs/registry.md, "Evaluation")."""
    from govweibo.registry import evaluate

    r = evaluate(REPO / "tests" / "data" / "registry_labels_independent.jsonl")
    assert (r.accounts, r.government, r.tp, r.fp, r.fn) == (98, 55, 54, 1, 1)
    assert r.kind_accuracy == pytest.approx(0.982, abs=0.001)
    assert r.level_accuracy == pytest.approx(0.945, abs=0.001)
    assert r.province_accuracy == pytest.approx(0.982, abs=0.001)
    assert r.sector_macro_f1 == pytest.approx(0.976, abs=0.001)


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
