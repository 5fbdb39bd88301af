"""Mastodon REST JSON -> canonical rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES

import govweibo.ingest as ingest_mod
from govweibo.ingest import ReadOptions, detect, ingest
from govweibo.ingest.mastodon import MastodonReader, html_to_text
from govweibo.store import Store

DIR = FIXTURES / "collect"
PLATFORM = "mastodon:social.bund.de"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    # Until ingest/__init__.py lists the reader (before WeiboApiReader).
    monkeypatch.setattr(ingest_mod, "READERS", [MastodonReader(), *ingest_mod.READERS])


def test_detect_by_content() -> None:
    assert isinstance(detect(DIR / "mastodon_statuses.json"), MastodonReader)
    assert isinstance(detect(DIR / "mastodon_context.jsonl"), MastodonReader)
    assert not isinstance(detect(FIXTURES / "weibo_comments.jsonl"), MastodonReader)


def test_html_to_text() -> None:
    assert html_to_text("<p>A &amp; B</p><p>C<br/>D</p>") == "A & B\nC\nD"


def test_statuses_page(store: Store) -> None:
    s = ingest(store, [DIR / "mastodon_statuses.json"], options=ReadOptions())
    assert s.total("stored") == 3 and s.total("rejected") == 0
    rows = {
        r["post_id"]: r
        for r in store.arrow("SELECT * FROM posts WHERE platform = ?", [PLATFORM]).to_pylist()
    }
    assert len(rows) == 4  # three statuses and the boosted one
    orig = rows["113500000000000101"]
    assert (
        orig["text"].startswith("Heute hat das Kabinett") and "Fragen & Antworten" in orig["text"]
    )
    assert (orig["reposts"], orig["comments"], orig["likes"]) == (88, 14, 203)
    assert orig["pic_count"] == 1 and orig["has_url"] and orig["source"] == "Web"
    assert rows["113500000000000150"]["retweeted_post_id"] == "113499999999999500"
    assert rows["113499999999999500"]["author_id"] == "109400000000000777"
    reply = rows["113500000000000177"]
    assert reply["parent_post_id"] == "113500000000000160" and not reply["has_url"]
    inter = store.arrow("SELECT kind, post_id, target_account_id FROM interactions").to_pylist()
    assert inter == [
        {
            "kind": "reply",
            "post_id": "113500000000000160",
            "target_account_id": "109500000000000042",
        }
    ]
    acc = store.arrow(
        "SELECT screen_name, description FROM accounts WHERE account_id = '109412345678901234'"
    ).to_pylist()[0]
    assert acc["screen_name"] == "Bundesregierung" and "&amp;" not in acc["description"]
    obs = store.arrow("SELECT followers, friends, statuses FROM account_observations").to_pylist()
    assert {"followers": 152340, "friends": 12, "statuses": 2871} in obs


def test_context_lines_with_broken_records(store: Store, tmp_path: Path) -> None:
    s = ingest(store, [DIR / "mastodon_context.jsonl"])
    f = s.files[0]
    assert f.format == "mastodon" and f.records_read == 6
    assert (f.stored, f.rejected) == (3, 3)
    q = store.arrow("SELECT line, item, field, reason FROM quarantine ORDER BY line").to_pylist()
    assert [(r["line"], r["item"], r["field"]) for r in q] == [
        (2, 0, None),
        (3, 0, "id"),
        (4, 0, "created_at"),
    ]
    assert q[0]["reason"] == "malformed JSON"
    # The file says which instance served it: platform from the local account's URL.
    platforms = store.arrow("SELECT DISTINCT platform FROM posts").column(0).to_pylist()
    assert platforms == [PLATFORM]
    # Re-reading changes nothing.
    again = ingest(store, [DIR / "mastodon_context.jsonl"])
    assert again.files[0].stored == 0 and again.files[0].duplicate == 3
