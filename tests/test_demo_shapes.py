"""On the demo world, the report shows the shapes the 2011 seed reports describe."""

from __future__ import annotations

import pytest

from govweibo.demo import ingest_manifest
from govweibo.registry import classify_store
from govweibo.report.yearly import build_report
from govweibo.store import Store
from govweibo.synth import generate


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp("shapes")
    # The demo's default account count; few posts keep it quick (shapes are about accounts).
    generate(base / "w", accounts=20000, posts=2000, seed=2011)
    with Store(base / "s.duckdb") as store:
        ingest_manifest(store, base / "w")
        classify_store(store)
        return build_report(store, period="2011", draws=10)


def test_growth_from_about_5000_to_about_18000(report) -> None:  # type: ignore[no-untyped-def]
    cum = {r["month"]: r["cumulative"] for r in report.tables["growth_monthly"].to_pylist()}
    assert 4500 <= cum["2010-12"] <= 5500  # accounts open at the start of 2011
    assert 16300 <= cum["2011-10"] <= 20000  # 18,132 verified by the end of October
    assert cum["2009-11"] >= 1  # the first account, Yunnan, November 2009


def test_east_ahead_of_centre_and_west(report) -> None:  # type: ignore[no-untyped-def]
    regions = {r["group"]: r["accounts"] for r in report.tables["distribution_region"].to_pylist()}
    assert regions["east"] > regions["central"] and regions["east"] > regions["west"]
    assert report.headline["provinces"] == 31


def test_several_hundred_accounts_over_100000_followers(report) -> None:  # type: ignore[no-untyped-def]
    assert 300 <= report.headline["over_100000"] <= 1500
    assert report.headline["over_1000000"] >= 2
    assert 9000 <= report.headline["agencies"] <= 12000  # about 10,000 agencies
    assert 7500 <= report.headline["officials"] <= 10500  # about 9,000 officials
