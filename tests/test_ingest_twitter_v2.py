"""X/Twitter API v2 pages -> canonical rows."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

import govweibo.ingest as ingest_mod
from govweibo.ingest import detect, ingest
from govweibo.ingest.twitter_v2 import TwitterV2Reader
from govweibo.store import Store

DIR = FIXTURES / "collect"
MFA = "1240934201"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    # Until ingest/__init__.py lists the reader (before WeiboApiReader).
    monkeypatch.setattr(ingest_mod, "READERS", [TwitterV2Reader(), *ingest_mod.READERS])


def test_detect_by_content() -> None:
    assert isinstance(detect(DIR / "x_user_tweets.json"), TwitterV2Reader)
    assert isinstance(detect(DIR / "x_conversation.jsonl"), TwitterV2Reader)
    assert not isinstance(detect(FIXTURES / "weibo_comments.jsonl"), TwitterV2Reader)


def test_page_with_includes(store: Store) -> None:
    s = ingest(store, [DIR / "x_user_tweets.json"])
    assert s.total("stored") == 2 and s.total("rejected") == 0
    posts = {r["post_id"]: r for r in store.arrow("SELECT * FROM posts").to_pylist()}
    assert set(posts) == {"1859123456789012345", "1859130000000000001", "1859100000000000777"}
    orig = posts["1859123456789012345"]
    assert orig["platform"] == "x" and orig["author_id"] == MFA and orig["has_url"]
    assert (orig["reposts"], orig["comments"], orig["likes"]) == (210, 95, 880)
    assert posts["1859130000000000001"]["retweeted_post_id"] == "1859100000000000777"
    acc = store.arrow("SELECT * FROM accounts").to_pylist()[0]
    assert (acc["verified"], acc["verified_type"], acc["verified_reason"]) == (
        True,
        1,
        "x:government",
    )
    assert acc["url"] == "https://x.com/MFA_China" and acc["location"] == "Beijing, China"
    obs = store.arrow("SELECT followers, friends, statuses FROM account_observations").to_pylist()
    assert obs == [{"followers": 1984210, "friends": 301, "statuses": 19231}]


def test_lines_replies_and_broken_records(store: Store) -> None:
    f = ingest(store, [DIR / "x_conversation.jsonl"]).files[0]
    assert f.format == "twitter-v2"
    assert (f.records_read, f.stored, f.rejected, f.empty) == (4, 2, 2, 1)
    q = store.arrow("SELECT line, item, field, reason FROM quarantine ORDER BY line").to_pylist()
    assert [(r["line"], r["item"], r["field"]) for r in q] == [(2, 0, "id"), (3, 0, None)]
    inter = store.arrow(
        "SELECT interaction_id, kind, post_id, target_account_id FROM interactions ORDER BY 1"
    ).to_pylist()
    assert inter == [
        {
            "interaction_id": "1859140000000000002",
            "kind": "reply",
            "post_id": "1859123456789012345",
            "target_account_id": MFA,
        },
        {
            "interaction_id": "1859150000000000003",
            "kind": "reply",
            "post_id": "1859140000000000002",
            "target_account_id": "1577001234567890123",
        },
    ]
    vt = store.arrow("SELECT account_id, verified_type FROM accounts ORDER BY 1").to_pylist()
    assert vt == [
        {"account_id": MFA, "verified_type": 1},
        {"account_id": "1577001234567890123", "verified_type": -1},
    ]


def test_quotes_mentions_and_profile_links(store: Store) -> None:
    s = ingest(store, [DIR / "x_mentions.json"])
    assert s.total("stored") == 3 and s.total("rejected") == 0
    posts = {r["post_id"]: r for r in store.arrow("SELECT * FROM posts").to_pylist()}
    quote, reply, retweet = (posts[f"18602{n}00000000000{n + 10}"] for n in (0, 1, 2))
    assert quote["retweeted_post_id"] == "1860100000000000005" and quote["text"].startswith("Amber")
    assert reply["parent_post_id"] == "1860200000000000010"
    assert retweet["retweeted_post_id"] == "1860100000000000005"
    rows = store.arrow(
        "SELECT interaction_id, kind, actor_id, post_id, target_account_id, text "
        "FROM interactions ORDER BY interaction_id"
    ).to_pylist()
    mention = {"kind": "mention", "text": None}
    assert rows == [
        {
            "interaction_id": "1860200000000000010:mention:1098765432",
            "actor_id": "19209611",
            "post_id": "1860200000000000010",
            "target_account_id": "1098765432",
            **mention,
        },
        {
            "interaction_id": "1860200000000000010:mention:16071326",
            "actor_id": "19209611",
            "post_id": "1860200000000000010",
            "target_account_id": "16071326",
            **mention,
        },
        # The reply names its address (@MayorofLondon) in the reply row, not as a mention.
        {
            "interaction_id": "1860210000000000011",
            "kind": "reply",
            "actor_id": "1500000000000000042",
            "post_id": "1860200000000000010",
            "target_account_id": "19209611",
            "text": rows[2]["text"],
        },
        {
            "interaction_id": "1860210000000000011:mention:16071326",
            "actor_id": "1500000000000000042",
            "post_id": "1860210000000000011",
            "target_account_id": "16071326",
            **mention,
        },
    ]  # the retweet's @metoffice is the original's: no row
    mayor = store.arrow("SELECT * FROM accounts WHERE account_id = '19209611'").to_pylist()[0]
    assert mayor["url"] == "https://x.com/MayorofLondon" and mayor["verified_type"] == 1
    assert mayor["description"] == (
        "Mayor of London, Sadiq Khan. Follow @LDN_gov for updates from City Hall. "
        "http://london.gov.uk\nhttps://www.london.gov.uk/who-we-are/what-mayor-does"
    )
