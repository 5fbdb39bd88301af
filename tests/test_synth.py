"""The synthetic world: shape of the API objects, integrity, determinism, calibration."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from govweibo.reference import provinces
from govweibo.synth import SynthSummary, generate

FMT = "%a %b %d %H:%M:%S %z %Y"
USER_FIELDS = {
    "id", "idstr", "screen_name", "name", "province", "city", "location", "description", "url",
    "gender", "followers_count", "friends_count", "statuses_count", "favourites_count",
    "created_at", "verified", "verified_type", "verified_reason",
}  # fmt: skip
STATUS_FIELDS = {
    "created_at", "id", "idstr", "mid", "text", "source", "reposts_count", "comments_count",
    "attitudes_count", "pic_urls", "user",
}  # fmt: skip
COMMENT_FIELDS = {"created_at", "id", "idstr", "mid", "text", "source", "user", "status"}
# Individual officials are verified_type 0 like celebrities; their reasons name an organ.
OFFICIAL = re.compile(r"局|厅|院|委|政府|部|办公室|队|镇|县长|市长|区长|省长|州长")
QUESTION = re.compile(r"？|请问|怎么|能否|什么时候")


def lines(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def when(s: str) -> datetime:
    return datetime.strptime(s, FMT)


def is_gov(u: dict[str, Any]) -> bool:
    return u["verified_type"] == 1 or (
        u["verified_type"] == 0 and bool(OFFICIAL.search(u["verified_reason"]))
    )


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary, list[Any]]:
    out = tmp_path_factory.mktemp("world")
    calls: list[Any] = []
    summary = generate(out, accounts=400, posts=6000, seed=7, progress=lambda s, n: calls.append(s))
    return out, summary, calls


@pytest.fixture(scope="module")
def mid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary]:
    out = tmp_path_factory.mktemp("mid")
    return out, generate(out, accounts=4000, posts=8000, seed=2011)


def digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", accounts=150, posts=3000, seed=5)
    generate(tmp_path / "b", accounts=150, posts=3000, seed=5)
    generate(tmp_path / "c", accounts=150, posts=3000, seed=6)
    generate(tmp_path / "d", accounts=150, posts=4500, seed=5)
    a, b, c = digest(tmp_path / "a"), digest(tmp_path / "b"), digest(tmp_path / "c")
    assert a == b
    assert a["statuses.jsonl"] != c["statuses.jsonl"]
    # More posts, same government world.
    assert a["users/2011-12.jsonl"] == digest(tmp_path / "d")["users/2011-12.jsonl"]


def test_every_record_has_the_api_shape(small: tuple[Path, SynthSummary, list[Any]]) -> None:
    out, summary, _ = small
    sina_codes = {p.sina_code for p in provinces()}

    def check_user(u: dict[str, Any]) -> None:
        assert set(u) >= USER_FIELDS
        assert isinstance(u["id"], int) and u["idstr"] == str(u["id"])
        assert u["province"] in sina_codes and u["city"].isdigit()
        assert u["gender"] in ("m", "f", "n")
        assert u["verified_type"] in (-1, 0, 1, 2, 3, 4, 5, 7, 220)
        assert u["verified"] == (u["verified_type"] not in (-1, 220))
        when(u["created_at"])

    def check_status(s: dict[str, Any]) -> None:
        assert set(s) >= STATUS_FIELDS
        assert s["idstr"] == str(s["id"]) == s["mid"]
        assert 0 < len(s["text"]) <= 140
        assert s["source"].startswith("<a href=") and isinstance(s["pic_urls"], list)
        assert when(s["created_at"]) >= when(s["user"]["created_at"])
        check_user(s["user"])

    for path in sorted((out / "users").glob("*.jsonl")):
        for u in lines(path):
            check_user(u)
    statuses = lines(out / "statuses.jsonl")
    assert len(statuses) == summary.posts == 6000
    for s in statuses:
        check_status(s)
        if "retweeted_status" in s:
            check_status(s["retweeted_status"])
            assert "retweeted_status" not in s["retweeted_status"]
            assert when(s["created_at"]) > when(s["retweeted_status"]["created_at"])
    for c in lines(out / "comments.jsonl"):
        assert set(c) >= COMMENT_FIELDS
        assert 0 < len(c["text"]) <= 140 and c["idstr"] == str(c["id"])
        check_user(c["user"])
        check_status(c["status"])
        assert when(c["created_at"]) > when(c["status"]["created_at"])
        if "reply_comment" in c:
            assert c["user"]["id"] == c["status"]["user"]["id"]  # the account answers
            assert c["text"].startswith("回复@" + c["reply_comment"]["user"]["screen_name"])
            assert when(c["created_at"]) > when(c["reply_comment"]["created_at"])
    ids = [s["id"] for s in statuses]
    assert len(set(ids)) == len(ids)


def test_references_resolve(small: tuple[Path, SynthSummary, list[Any]]) -> None:
    out, summary, _ = small
    statuses = lines(out / "statuses.jsonl")
    comments = lines(out / "comments.jsonl")
    ids = {s["id"] for s in statuses}
    reposts = [s for s in statuses if "retweeted_status" in s]
    assert reposts and all(s["retweeted_status"]["id"] in ids for s in reposts)
    assert any("//@" in s["text"] for s in reposts)  # reposts of reposts carry the chain
    comment_ids = {c["id"] for c in comments}
    assert all(c["status"]["id"] in ids for c in comments)
    replies = [c for c in comments if "reply_comment" in c]
    assert replies and all(c["reply_comment"]["id"] in comment_ids for c in replies)
    assert summary.counts["official replies"] == len(replies)
    questions = [c for c in comments if "reply_comment" not in c and QUESTION.search(c["text"])]
    assert 0.15 < len(questions) / (len(comments) - len(replies)) < 0.5


def test_manifest_lists_every_file(small: tuple[Path, SynthSummary, list[Any]]) -> None:
    out, summary, calls = small
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 7 and manifest["generated_with"] == "govweibo synth"
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*.jsonl")}
    assert listed == on_disk
    for f in manifest["files"]:
        assert f["format"] == "weibo-api"
        t = datetime.fromisoformat(f["observed_at"])
        assert t.utcoffset() is not None
        assert os.stat(out / f["path"]).st_mtime == pytest.approx(t.timestamp())
        assert f["timeline"] == f["path"].startswith("timelines/")
    assert {"accounts", "snapshots", "government posts", "other posts", "done"} <= set(calls)
    assert summary.files.keys() == listed


def test_timelines_show_deleted_posts(small: tuple[Path, SynthSummary, list[Any]]) -> None:
    out, summary, _ = small
    first, second = sorted((out / "timelines").glob("*.jsonl"))
    a = {s["id"] for s in lines(first)}
    b = {s["id"] for s in lines(second)}
    all_ids = {s["id"] for s in lines(out / "statuses.jsonl")}
    gone = a - b
    assert 3 <= len(gone) <= 25
    assert sorted(gone) == sorted(summary.timeline["deleted_post_ids"])
    assert not gone & all_ids  # deleted before the final crawl
    assert len(b - a) > 0  # posts made between the two crawls


def test_events_are_where_the_summary_says(small: tuple[Path, SynthSummary, list[Any]]) -> None:
    out, summary, _ = small
    statuses = lines(out / "statuses.jsonl")
    by_id = {s["id"]: s for s in statuses}
    rum = summary.events["rumour"]
    root, clar = by_id[rum["root_id"]], by_id[rum["clarification_id"]]
    assert "抢盐" in root["text"] and root["user"]["verified_type"] == -1
    assert "辟谣" in clar["text"] and clar["user"]["screen_name"] == "广州发布"
    assert when(clar["created_at"]) > when(root["created_at"])
    spread = Counter(s["retweeted_status"]["id"] for s in statuses if "retweeted_status" in s)
    assert spread[rum["root_id"]] == rum["reposts_written"]
    assert 0 < spread[rum["clarification_id"]] < spread[rum["root_id"]]
    emg = summary.events["emergency"]
    lo, hi = (datetime.fromisoformat(emg[k]) for k in ("start", "end"))
    inside = [s for s in statuses if lo <= when(s["created_at"]) <= hi]
    burst = [
        s
        for s in inside
        if "retweeted_status" not in s and any(k in s["text"] for k in emg["keywords"])
    ]
    assert len(burst) >= emg["burst_posts"]
    for r in emg["responders"]:
        mine = sorted(when(s["created_at"]) for s in inside if s["user"]["id"] == r["account_id"])
        assert mine and (mine[0] - lo).total_seconds() / 3600 == pytest.approx(
            r["delay_hours"], abs=0.01
        )
    silent = {a["account_id"] for a in emg["silent"]}
    assert not [s for s in inside if s["user"]["id"] in silent and "retweeted_status" not in s]


def test_calibration(mid: tuple[Path, SynthSummary]) -> None:
    out, summary = mid
    users = lines(out / "users" / "2011-12.jsonl")
    gov = [u for u in users if is_gov(u)]
    assert len(gov) == summary.accounts == 4000
    opened = sorted(when(u["created_at"]) for u in gov)
    first = min(gov, key=lambda u: when(u["created_at"]))
    assert first["screen_name"] == "微博云南" and opened[0].strftime("%Y-%m") == "2009-11"
    monthly = Counter(t.strftime("%Y-%m") for t in opened)
    months = sorted(monthly)
    assert months[0] == "2009-11" and months[-1] == "2011-12"
    cumulative = 0
    for m in months[3:]:
        assert monthly[m] > 0  # grows every month
        cumulative += monthly[m]
    jan = sum(t < datetime.fromisoformat("2011-01-01T00:00+08:00") for t in opened)
    oct_ = sum(t < datetime.fromisoformat("2011-11-01T00:00+08:00") for t in opened)
    assert jan / oct_ == pytest.approx(5000 / 18132, rel=0.15)
    assert oct_ / len(gov) == pytest.approx(18132 / 20000, rel=0.05)
    agencies = sum(u["verified_type"] == 1 for u in gov)
    assert agencies / len(gov) == pytest.approx(0.53, abs=0.05)
    region = {p.sina_code: p.region for p in provinces()}
    by_region = Counter(region[u["province"]] for u in gov)
    assert by_region["east"] > by_region["central"] and by_region["east"] > by_region["west"]
    assert len({u["province"] for u in gov}) == 31
    october = [u for u in lines(out / "users" / "2011-10.jsonl") if is_gov(u)]
    big = sum(u["followers_count"] > 100_000 for u in october) / len(october)
    assert big == pytest.approx(689 / 18132, rel=0.5)
    top = sorted(gov, key=lambda u: -u["followers_count"])[:3]
    assert {u["screen_name"] for u in top} == {"平安北京", "中国国际救援队", "外交小灵通"}
    assert sum(u["followers_count"] > 1_000_000 for u in gov) >= 3


def test_followers_grow_between_snapshots(mid: tuple[Path, SynthSummary]) -> None:
    out, _ = mid
    aug = {u["id"]: u["followers_count"] for u in lines(out / "users" / "2011-08.jsonl")}
    dec = {u["id"]: u["followers_count"] for u in lines(out / "users" / "2011-12.jsonl")}
    assert aug.keys() <= dec.keys()
    grew = [dec[k] > aug[k] for k in aug if aug[k] > 100]
    assert sum(grew) / len(grew) > 0.95
    zj = [u for u in lines(out / "users" / "2011-08.jsonl") if u["screen_name"] == "之江先锋"]
    assert zj and zj[0]["followers_count"] == 423_997
    assert when(zj[0]["created_at"]).strftime("%Y-%m-%d") == "2011-02-10"


def test_ingests_through_the_real_path(tmp_path: Path) -> None:
    from govweibo.ingest import ReadOptions, ingest
    from govweibo.store import Store
    from govweibo.store.inspect import status

    world = tmp_path / "world"
    generate(world, accounts=100, posts=1000, seed=3)
    manifest = json.loads((world / "manifest.json").read_text(encoding="utf-8"))
    # The last snapshot, the dumps and the timelines (each file costs a run; skip the rest).
    entries = [f for f in manifest["files"] if f["path"] != "users/2011-10.jsonl"]
    entries = [f for f in entries if not f["path"].startswith("users/")] + [
        f for f in manifest["files"] if f["path"] == "users/2011-12.jsonl"
    ]
    store = Store(tmp_path / "s.duckdb")
    try:
        for f in entries:
            opts = ReadOptions(
                observed_at=datetime.fromisoformat(f["observed_at"]), timeline=f["timeline"]
            )
            result = ingest(store, [world / f["path"]], fmt=f["format"], options=opts)
            assert all(r.rejected == 0 and r.status == "done" for r in result.files)
        counts = status(store).counts
    finally:
        store.close()
    assert counts["quarantine"] == 0
    assert counts["posts"] >= 1000 and counts["timeline_sightings"] > 0
    assert counts["interactions"] > 0


def test_gzip_dumps_hold_the_same_lines_and_ingest_alike(tmp_path: Path) -> None:
    import gzip

    from govweibo.ingest import ReadOptions, ingest
    from govweibo.store import Store

    generate(tmp_path / "plain", accounts=100, posts=1000, seed=3)
    generate(tmp_path / "gz", accounts=100, posts=1000, seed=3, gzip=True)
    generate(tmp_path / "gz2", accounts=100, posts=1000, seed=3, gzip=True)
    for name in ("statuses.jsonl", "comments.jsonl"):
        plain = (tmp_path / "plain" / name).read_bytes()
        packed = (tmp_path / "gz" / f"{name}.gz").read_bytes()
        assert gzip.decompress(packed) == plain and len(packed) < len(plain) / 3
        assert packed == (tmp_path / "gz2" / f"{name}.gz").read_bytes()  # still deterministic
    manifest = json.loads((tmp_path / "gz" / "manifest.json").read_text(encoding="utf-8"))
    paths = {f["path"] for f in manifest["files"]}
    assert {"statuses.jsonl.gz", "comments.jsonl.gz"} <= paths and "statuses.jsonl" not in paths
    counts = []
    for world, name in (("plain", "statuses.jsonl"), ("gz", "statuses.jsonl.gz")):
        with Store(tmp_path / f"{world}.duckdb") as store:
            opts = ReadOptions(observed_at=datetime.fromisoformat("2012-01-01T00:00:00+08:00"))
            result = ingest(store, [tmp_path / world / name], options=opts)
            assert result.files[0].rejected == 0
            counts.append(store.counts())
    assert counts[0] == counts[1] and counts[0]["posts"] >= 1000
