from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from govweibo.analyses.base import tables_of
from govweibo.analyses.index import _author_keys, compute_index, load_method
from govweibo.errors import AnalysisError
from govweibo.store import Store

W = "weibo"


def ts(s: str) -> datetime:
    """A UTC instant from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


# (account_id, screen_name, created_at, is_government, kind, sector, level, province, region)
ACCOUNTS = [
    ("A", "平安北京", "2010-11-01 00:00", True, "agency", "public_security", "provincial", "北京", "east"),
    ("B", "浙江某官员", None, True, "official", "party", "county", "浙江", "east"),
    ("C", "浙江高院", "2011-03-01 00:00", True, "agency", "courts", "provincial", "浙江", "east"),
    ("D", "某网友", "2010-01-01 00:00", False, None, None, None, None, None),
    ("E", "<script>alert(1)</script>", "2011-06-01 00:00", True, "agency", "health", "city", "云南", "west"),
    ("F", "未来账号", "2013-01-01 00:00", True, "agency", "health", "city", "云南", "west"),
]  # fmt: skip
# (post_id, author, created_at UTC, reposts, comments, likes, retweeted_post_id)
POSTS = [
    ("p1", "A", "2010-12-31 16:30", 10, 5, 20, None),  # 2011-01-01 00:30 Beijing: in 2011
    ("p2", "A", "2011-03-01 02:00", 100, 40, 7, None),
    ("p3", "A", "2011-03-01 09:00", 0, 1, 0, "x1"),  # same Beijing day as p2; a repost
    ("p4", "B", "2011-07-10 04:00", 3, 2, 1, None),
    ("p5", "B", "2011-12-31 17:00", 50, 50, 50, None),  # 2012-01-01 01:00 Beijing: in 2012
    ("p6", "C", "2011-05-05 05:00", 1, 0, 0, None),
    ("p7", "D", "2011-05-05 05:00", 999, 999, 999, None),
    ("p8", "C", "2010-06-01 00:00", 0, 0, 0, None),  # before 2011
]
# (account_id, observed_at, followers)
OBSERVATIONS = [
    ("A", "2011-06-01 00:00", 1_500_000),
    ("A", "2011-12-01 00:00", 2_000_000),
    ("A", "2012-06-01 00:00", 3_000_000),  # after 2011: ignored for 2011
    ("B", "2012-06-01 00:00", 120_000),  # only observation after the period: used
    ("C", "2011-01-01 00:00", 5_000),
    ("E", "2011-08-01 00:00", 10),
]
# (id, kind, actor, post, target, reply_to_account, created_at)
INTERACTIONS = [
    ("i1", "comment", "u1", "p2", "A", None, "2011-03-01 03:00"),
    ("i2", "comment", "u2", "p2", "A", None, "2011-03-01 04:00"),
    ("i3", "reply", "A", "p2", "A", "u1", "2011-03-01 05:00"),
    ("i4", "comment", "u3", "p4", "B", None, "2011-07-10 05:00"),
    ("i5", "reply", "A", "p2", "A", "A", "2011-03-01 06:00"),  # to itself: not public
]


def build_store(store: Store, *, profiles: bool = True) -> Store:
    con = store.con
    for aid, name, created, *_ in ACCOUNTS:
        con.execute(
            "INSERT INTO accounts (platform, account_id, screen_name, created_at) VALUES (?,?,?,?)",
            [W, aid, name, ts(created) if created else None],
        )
    for pid, author, created, r, c, lk, rt in POSTS:
        con.execute(
            "INSERT INTO posts (platform, post_id, author_id, created_at, reposts, comments, likes,"
            " retweeted_post_id) VALUES (?,?,?,?,?,?,?,?)",
            [W, pid, author, ts(created), r, c, lk, rt],
        )
    for aid, at, f in OBSERVATIONS:
        con.execute(
            "INSERT INTO account_observations (platform, account_id, observed_at, followers)"
            " VALUES (?,?,?,?)",
            [W, aid, ts(at), f],
        )
    for iid, kind, actor, post, target, rto, at in INTERACTIONS:
        con.execute(
            "INSERT INTO interactions (platform, interaction_id, kind, actor_id, post_id,"
            " target_account_id, reply_to_account_id, created_at) VALUES (?,?,?,?,?,?,?,?)",
            [W, iid, kind, actor, post, target, rto, ts(at)],
        )
    if profiles:
        con.execute(
            "CREATE TABLE account_profiles (platform VARCHAR, account_id VARCHAR, is_government"
            " BOOLEAN, confidence DOUBLE, evidence VARCHAR, kind VARCHAR, sector VARCHAR, level"
            " VARCHAR, province VARCHAR, region VARCHAR, family VARCHAR)"
        )
        for aid, _n, _c, gov, kind, sector, level, prov, region in ACCOUNTS:
            con.execute(
                "INSERT INTO account_profiles VALUES (?,?,?,1.0,'test',?,?,?,?,?,NULL)",
                [W, aid, gov, kind, sector, level, prov, region],
            )
    return store


@pytest.fixture
def world(store: Store) -> Store:
    return build_store(store)


def rows(table) -> dict[str, dict]:
    return {r["account_id"]: r for r in table.to_pylist()}


def test_bci_reproduces_published_formula(world: Store) -> None:
    out = rows(compute_index(world, period="2011", method="bci"))
    assert set(out) == {"A", "B", "C", "E"}  # D not government, F opened after 2011

    def bci(posts: int, reposts: int, comments: int, likes: int) -> float:
        w1 = math.log(posts + 1)
        w2 = 0.4 * math.log(reposts + 1) + 0.4 * math.log(comments + 1) + 0.2 * math.log(likes + 1)
        return (0.2 * w1 + 0.8 * w2) * 160

    assert out["A"]["score"] == pytest.approx(bci(3, 110, 46, 27), rel=1e-12)
    assert out["B"]["score"] == pytest.approx(bci(1, 3, 2, 1), rel=1e-12)
    assert out["C"]["score"] == pytest.approx(bci(1, 1, 0, 0), rel=1e-12)
    assert out["E"]["score"] == 0.0
    # Hand-computed: ln 4 = 1.386294, ln 111 = 4.709530, ln 47 = 3.850148, ln 28 = 3.332205
    assert out["A"]["score"] == pytest.approx(
        (0.2 * 1.386294 + 0.8 * (0.4 * 4.709530 + 0.4 * 3.850148 + 0.2 * 3.332205)) * 160,
        abs=1e-3,
    )
    assert [out[a]["rank"] for a in "ABCE"] == [1, 2, 3, 4]


def test_raw_indicators(world: Store) -> None:
    out = rows(compute_index(world, period="2011"))
    a = out["A"]
    assert (a["posts"], a["original_posts"], a["active_days"]) == (3, 2, 2)
    assert a["followers"] == 2_000_000  # latest at or before the end
    assert out["B"]["followers"] == 120_000  # none before: latest at all
    assert a["original_share"] == pytest.approx(2 / 3)
    assert a["regularity"] == pytest.approx(2 / 365)
    assert a["reposts_per_post"] == pytest.approx(110 / 3)
    assert (a["replies"], a["public_comments"], a["reply_rate"]) == (1, 2, 0.5)
    assert out["B"]["reply_rate"] == 0.0
    assert out["C"]["reply_rate"] is None  # no public comments recorded
    e = out["E"]
    assert e["posts"] == 0 and e["likes_per_post"] is None
    assert (a["kind"], a["province"], a["region"]) == ("agency", "北京", "east")


def test_default_scores_are_0_to_100_and_ranked(world: Store) -> None:
    t = compute_index(world, period="2011")
    assert t.schema.metadata[b"method"] == b"govweibo"
    for r in t.to_pylist():
        for col in ("communication", "service", "interaction", "recognition", "score"):
            assert 0.0 <= r[col] <= 100.0
    ranks = t.column("rank").to_pylist()
    scores = t.column("score").to_pylist()
    assert ranks[0] == 1 and scores == sorted(scores, reverse=True)
    assert t.column("account_id")[0].as_py() == "A"
    assert set(t.column("period").to_pylist()) == {"2011"}


def test_government_only_and_profiles(store: Store) -> None:
    build_store(store, profiles=False)
    with pytest.raises(AnalysisError, match="registry"):
        compute_index(store, period="2011")
    t = compute_index(store, period="2011", government_only=False, method="bci")
    assert "D" in t.column("account_id").to_pylist()


def test_period_boundaries_beijing_time(world: Store) -> None:
    out = rows(compute_index(world, period="2012-01", method="bci"))
    assert out["B"]["posts"] == 1  # p5 is 2012-01-01 01:00 Beijing
    out = rows(compute_index(world, period="2010Q4", method="bci"))
    assert out["A"]["posts"] == 0  # p1 is 2011-01-01 00:30 Beijing


def test_user_method_file(world: Store, tmp_path: Path) -> None:
    p = tmp_path / "mine.toml"
    p.write_text(
        'name = "mine"\nnormalisation = "minmax"\n'
        "[dimensions.recognition]\nweight = 1\n"
        'indicators = [{ name = "likes", weight = 1, transform = "none" }]\n',
        encoding="utf-8",
    )
    out = rows(compute_index(world, period="2011", method=p))
    assert out["A"]["score"] == 100.0 and out["E"]["score"] == 0.0
    assert out["B"]["score"] == pytest.approx(100 * 1 / 27)
    bad = tmp_path / "bad.toml"
    bad.write_text('[dimensions.x]\nweight = 1\nindicators = [{ name = "nope" }]\n')
    with pytest.raises(AnalysisError, match="unknown indicator"):
        load_method(bad)
    with pytest.raises(AnalysisError, match="unknown method"):
        load_method("nosuch")


def test_ibis_tables_mapping(world: Store) -> None:
    names = ["accounts", "posts", "account_observations", "interactions", "account_profiles"]
    tables = {n: world.table(n) for n in names}
    a = compute_index(tables, period="2011", method="bci")
    b = compute_index(world, period="2011", method="bci")
    assert a.equals(b)


def test_empty_and_single_account(store: Store) -> None:
    build_store(store, profiles=False)
    store.con.execute(
        "CREATE TABLE account_profiles (platform VARCHAR, account_id VARCHAR, is_government"
        " BOOLEAN, kind VARCHAR, sector VARCHAR, level VARCHAR, province VARCHAR, region VARCHAR)"
    )
    assert compute_index(store, period="2011").num_rows == 0
    store.con.execute(
        "INSERT INTO account_profiles VALUES ('weibo','E',true,'agency',NULL,NULL,NULL,NULL)"
    )
    (row,) = compute_index(store, period="2011").to_pylist()
    assert row["posts"] == 0 and row["rank"] == 1 and 0 <= row["score"] <= 100


def test_platform_filter(world: Store) -> None:
    a = compute_index(world, period="2011", method="bci", platform="weibo")
    b = compute_index(world, period="2011", method="bci")
    assert a.equals(b)
    assert compute_index(world, period="2011", platform="twitter").num_rows == 0


def test_repost_depth(world: Store) -> None:
    for pid, root, chain in [("r1", "p2", []), ("r2", "p2", ["x", "y"]), ("r3", "p4", None)]:
        world.con.execute(
            "INSERT INTO posts (platform, post_id, author_id, created_at, retweeted_post_id,"
            " repost_chain) VALUES ('weibo', ?, 'D', ?, ?, ?)",
            [pid, ts("2011-08-01 00:00"), root, chain],
        )
    out = rows(compute_index(world, period="2011"))
    assert out["A"]["repost_depth"] == 3.0  # p2's deepest repost: 1 + 2 names
    assert out["B"]["repost_depth"] == 1.0
    assert out["C"]["repost_depth"] is None


def test_repost_depth_weight_and_nulls(world: Store) -> None:
    """Communication = followers 0.30 + reposts_per_post 0.50 + repost_depth 0.20, each a
    percentile among the accounts where it is known; unknown depth drops out."""
    for pid, root, chain in [("r1", "p2", []), ("r2", "p2", ["x", "y"]), ("r3", "p4", None)]:
        world.con.execute(
            "INSERT INTO posts (platform, post_id, author_id, created_at, retweeted_post_id,"
            " repost_chain) VALUES ('weibo', ?, 'D', ?, ?, ?)",
            [pid, ts("2011-08-01 00:00"), root, chain],
        )
    out = rows(compute_index(world, period="2011"))
    # followers E < C < B < A: 0, 1/3, 2/3, 1; reposts/post C 1 < B 3 < A 36.7 (E none):
    # 0, 1/2, 1; depth B 1 < A 3 (C, E unknown): 0, 1.
    assert out["A"]["communication"] == pytest.approx(100.0)
    assert out["B"]["communication"] == pytest.approx(100 * (0.30 * 2 / 3 + 0.50 * 0.5 + 0.20 * 0))
    # C: no known cascade, so depth drops out and 0.30 + 0.50 are renormalised to 1.
    assert out["C"]["communication"] == pytest.approx(100 * (0.30 * 1 / 3 + 0.50 * 0) / 0.80)
    assert out["E"]["communication"] == 0.0
    m = load_method("govweibo")
    comm = {
        i.name: i.weight for d in m.dimensions if d.name == "communication" for i in d.indicators
    }
    assert comm == {"followers": 0.30, "reposts_per_post": 0.50, "repost_depth": 0.20}


def add_interactions(store: Store, items: list[tuple]) -> None:
    for iid, kind, actor, name, post, target, rto_id, rto_acc, at, text in items:
        store.con.execute(
            "INSERT INTO interactions (platform, interaction_id, kind, actor_id, actor_name,"
            " post_id, target_account_id, reply_to_id, reply_to_account_id, created_at, text)"
            " VALUES ('weibo',?,?,?,?,?,?,?,?,?,?)",
            [iid, kind, actor, name, post, target, rto_id, rto_acc, ts(at), text],
        )


def test_timeliness(world: Store, tmp_path: Path) -> None:
    add_interactions(world, [
        # A: i1 (03:00) answered by a reply to it 3 h later; i2 (04:00) 73 h later; i9 never.
        ("i6", "reply", "A", None, "p2", "A", "i1", "u1", "2011-03-01 06:00", "谢谢"),
        ("i7", "reply", "A", None, "p2", "A", "i2", "u2", "2011-03-04 05:00", "已转"),
        ("i9", "comment", "u9", "u9", "p1", "A", None, None, "2011-01-05 00:00", "?"),
        # B: i8 answered by a comment naming its author exactly 48 h later (counts); i4 never.
        ("i8", "comment", "u4", "小王", "p4", "B", None, None, "2011-07-11 00:00", "问"),
        ("i10", "comment", "B", "B", "p4", "B", None, None, "2011-07-13 00:00", "回复@小王:收到"),
        # A mention is not a comment: it neither counts as addressed nor as public comment.
        ("i11", "mention", "u5", "u5", "p6", "C", None, None, "2011-05-06 00:00", "@浙江高院"),
    ])  # fmt: skip
    out = rows(compute_index(world, period="2011"))
    assert out["A"]["timeliness"] == pytest.approx(1 / 3)
    assert out["B"]["timeliness"] == pytest.approx(1 / 2)
    assert out["C"]["timeliness"] is None and out["E"]["timeliness"] is None  # no comments
    assert out["C"]["public_comments"] == 0
    # Service = posts_per_day 0.30 + original_share 0.25 + regularity 0.25 + timeliness 0.20.
    # Percentiles: posts/day E 0 < B = C < A: 0, 1/3, 1/3, 1; original share A 2/3 < B = C 1
    # (E none): 0, 1/2, 1/2; regularity as posts/day; timeliness A 1/3 < B 1/2: 0, 1.
    assert out["A"]["service"] == pytest.approx(100 * (0.30 + 0.25 * 0 + 0.25 + 0.20 * 0))
    assert out["B"]["service"] == pytest.approx(100 * (0.30 / 3 + 0.25 / 2 + 0.25 / 3 + 0.20))
    # C has no comment to answer: timeliness drops out, the other weights renormalised.
    assert out["C"]["service"] == pytest.approx(100 * (0.30 / 3 + 0.25 / 2 + 0.25 / 3) / 0.80)
    assert out["E"]["service"] == 0.0
    # The threshold is methodology: with 2 hours A's 3-hour answer is late.
    p = tmp_path / "fast.toml"
    p.write_text(
        'name = "fast"\ntimeliness_hours = 2\n[dimensions.service]\nweight = 1\n'
        'indicators = [{ name = "timeliness", weight = 1, transform = "none" }]\n',
        encoding="utf-8",
    )
    fast = rows(compute_index(world, period="2011", method=p))
    assert fast["A"]["timeliness"] == 0.0 and fast["B"]["timeliness"] == 0.0
    assert fast["A"]["posts_per_day"] is not None and fast["A"]["active_days"] is None


def test_active_days_masks_and_long_periods(world: Store) -> None:
    # E posts on days 62 and 63 of 2011 (Beijing), the last bit of one 63-day block and the
    # first of the next, twice on the second day.
    for pid, at in [
        ("e1", "2011-03-04 04:00"),
        ("e2", "2011-03-05 04:00"),
        ("e3", "2011-03-05 05:00"),
    ]:
        world.con.execute(
            "INSERT INTO posts (platform, post_id, author_id, created_at) VALUES ('weibo',?,'E',?)",
            [pid, ts(at)],
        )
    out = rows(compute_index(world, period="2011", all_indicators=True))
    assert {a: out[a]["active_days"] for a in "ABCE"} == {"A": 2, "B": 1, "C": 1, "E": 2}
    # 4 years: 24 blocks of masks; 6 years: count(DISTINCT), the same counts.
    for per in ("2010-01-01..2013-12-31", "2010-01-01..2015-12-31"):
        out = rows(compute_index(world, period=per, all_indicators=True))
        assert {a: out[a]["active_days"] for a in "ABCE"} == {"A": 2, "B": 2, "C": 2, "E": 2}


def test_costly_indicators_only_when_used(world: Store) -> None:
    a = rows(compute_index(world, period="2011", method="bci"))["A"]
    assert a["posts"] == 3 and a["likes_per_post"] == pytest.approx(27 / 3)
    assert a["active_days"] is None and a["original_share"] is None and a["replies"] is None
    full = rows(compute_index(world, period="2011", method="bci", all_indicators=True))["A"]
    assert (full["active_days"], full["replies"], full["public_comments"]) == (2, 1, 2)
    assert full["score"] == a["score"]


def test_every_indicator_is_documented() -> None:
    from govweibo.analyses.methods import INDICATORS

    doc = (Path(__file__).parents[1] / "docs" / "methods-index.md").read_text(encoding="utf-8")
    # The first cell of each row of the indicator table names one or more indicators.
    named = {n for line in doc.splitlines() if line.startswith("| `")
             for n in re.findall(r"`(\w+)`", line.split(" | ")[0])}  # fmt: skip
    assert set(INDICATORS) - named == set()


def test_same_account_id_on_two_platforms(world: Store) -> None:
    con = world.con
    con.execute(
        "INSERT INTO accounts (platform, account_id, screen_name) VALUES ('mastodon','A','a')"
    )
    con.execute(
        "INSERT INTO account_profiles VALUES ('mastodon','A',true,1.0,'test','agency',NULL,NULL,"
        "NULL,NULL,NULL)"
    )
    con.execute(
        "INSERT INTO posts (platform, post_id, author_id, created_at, reposts, comments, likes)"
        " VALUES ('mastodon','m1','A',?,1,1,1)",
        [ts("2011-05-01 00:00")],
    )
    out = {
        (r["platform"], r["account_id"]): r for r in compute_index(world, period="2011").to_pylist()
    }
    assert out[("weibo", "A")]["posts"] == 3 and out[("mastodon", "A")]["posts"] == 1
    assert out[("mastodon", "A")]["likes"] == 1


@pytest.mark.parametrize("two_platforms", [False, True])
def test_integer_author_keys_give_the_same_index(world: Store, two_platforms: bool) -> None:
    """Posts keyed by the store (store/keys.py) are grouped by the integer; one post
    without a key sends the index back to the id strings; both give the same index, with
    one platform (grouped by author alone) or two (the same id on both)."""
    if two_platforms:
        test_same_account_id_on_two_platforms(world)
    by_id = {m: compute_index(world, period="2011", method=m) for m in ("govweibo", "bci")}
    assert _author_keys(*tables_of(world)) is None
    assert world.fill_author_keys() == len(POSTS) + two_platforms
    assert _author_keys(*tables_of(world)) is not None
    for method, expected in by_id.items():
        assert compute_index(world, period="2011", method=method).equals(expected)
    world.con.execute(
        "INSERT INTO posts (platform, post_id, author_id, created_at) VALUES ('weibo','p9','Z',?)",
        [ts("2011-05-01 00:00")],
    )
    assert _author_keys(*tables_of(world)) is None
