from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from govweibo.analyses.index_periods import INDEX_TABLE, index_over_periods
from govweibo.errors import ConfigError
from govweibo.store import Store
from govweibo.web import create_app

W = "weibo"
XSS_NAME = "<script>alert(1)</script>"
XSS_TEXT = '"><img src=x onerror=alert(1)>'
PROVS = [("北京", "east"), ("浙江", "east"), ("云南", "west"), ("湖北", "central")]
SECTORS = ["public_security", "courts", "publicity", "health"]


def _ts(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


def build_web_store(path: Path, *, index_table: bool = False) -> Path:
    """A small store: 4 named accounts (one with XSS text), 60 generated ones, a non-gov one."""
    accounts = [
        ("A", "平安北京", "北京", "east", "agency", "public_security", "provincial", "2010-11-01"),
        ("B", "浙江某官员", "浙江", "east", "official", "party", "county", "2011-02-10"),
        ("C", "浙江高院", "浙江", "east", "agency", "courts", "provincial", "2011-03-01"),
        ("X", XSS_NAME, "云南", "west", "agency", "health", "city", "2011-06-01"),
    ]
    for i in range(60):
        prov, region = PROVS[i % 4]
        kind = "official" if i % 3 == 0 else "agency"
        month = f"2011-{i % 12 + 1:02d}-15"
        accounts.append(
            (f"G{i:03d}", f"政务{i:03d}", prov, region, kind, SECTORS[i % 4], "city", month)
        )
    with Store(path) as s:
        con = s.con
        for aid, name, *_rest, created in accounts:
            con.execute(
                "INSERT INTO accounts (platform, account_id, screen_name, description, verified,"
                " verified_type, created_at) VALUES (?,?,?,?,?,?,?)",
                [W, aid, name, XSS_TEXT if aid == "X" else "官方微博", True, 1, _ts(created)],
            )
        con.execute(
            "INSERT INTO accounts (platform, account_id, screen_name) VALUES (?,?,?)",
            [W, "D", "某网友"],
        )
        base = _ts("2011-01-05 02:00")
        n = 0
        for k, (aid, *_r) in enumerate(accounts):
            for j in range(1 + k % 4):
                n += 1
                text = XSS_TEXT if aid == "X" and j == 0 else f"第{j}条 #{aid}"
                con.execute(
                    "INSERT INTO posts (platform, post_id, author_id, created_at, text, reposts,"
                    " comments, likes) VALUES (?,?,?,?,?,?,?,?)",
                    [W, f"p{n}", aid, base + timedelta(days=3 * j + k), text, k * j, j, k],
                )
            for m, when in enumerate(("2010-12-01", "2011-06-01", "2011-12-01")):
                followers = 2_000_000 if aid == "A" else 1000 * (k + 1) * (m + 1)
                con.execute(
                    "INSERT INTO account_observations (platform, account_id, observed_at,"
                    " followers) VALUES (?,?,?,?)",
                    [W, aid, _ts(when), followers],
                )
        con.execute(
            "INSERT INTO posts (platform, post_id, author_id, created_at, text) VALUES (?,?,?,?,?)",
            [W, "old1", "A", _ts("2010-06-01 00:00"), "2010 post"],
        )
        con.execute(
            "CREATE TABLE account_profiles (platform VARCHAR, account_id VARCHAR, is_government"
            " BOOLEAN, confidence DOUBLE, evidence VARCHAR, kind VARCHAR, sector VARCHAR,"
            " level VARCHAR, province VARCHAR, region VARCHAR, family VARCHAR)"
        )
        for aid, _n, prov, region, kind, sector, level, _c in accounts:
            evidence = json.dumps(["verified_type=1", XSS_NAME if aid == "X" else "name rule"])
            con.execute(
                "INSERT INTO account_profiles VALUES (?,?,true,0.9,?,?,?,?,?,?,NULL)",
                [W, aid, evidence, kind, sector, level, prov, region],
            )
        con.execute(
            "INSERT INTO account_profiles VALUES (?,?,false,0.8,'[]',NULL,NULL,NULL,NULL,NULL,"
            "NULL)",
            [W, "D"],
        )
        con.execute(
            "INSERT INTO ingest_runs (run_id, source_path, format, records_read, stored, duplicate,"
            " rejected, empty, status, started_at) VALUES (1,'dump.jsonl','weibo-api',10,9,0,1,0,"
            "'done',?)",
            [_ts("2012-01-01 00:00")],
        )
        con.execute(
            "INSERT INTO quarantine (source_path, line, item, run_id, format, field, reason, raw)"
            " VALUES ('dump.jsonl', 7, 0, 1, 'weibo_api', 'created_at', 'bad date', ?)",
            [XSS_NAME],
        )
        if index_table:
            table = index_over_periods(s, ["2010", "2011"])
            assert table.num_rows == 64 + 1  # A alone opened in 2010
            s.write_result(INDEX_TABLE, table)
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_web_store(tmp_path_factory.mktemp("web") / "web.duckdb")


@pytest.fixture(scope="module")
def client(db: Path):
    with TestClient(create_app(str(db))) as c:
        yield c


PAGES = ["/", "/?province=浙江", "/rankings", "/accounts/weibo/A", "/accounts/weibo/X", "/health"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_render(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "script-src" not in r.headers["content-security-policy"]  # no scripts allowed
    assert XSS_NAME not in r.text and XSS_TEXT not in r.text


def test_overview(client: TestClient) -> None:
    html = client.get("/").text
    assert 'href="/?province=%E6%B5%99%E6%B1%9F"' in html  # the map links filter the page
    assert 'data-province="浙江"' in html
    assert "粉丝100万及以上的账号" in html and "统计对象: 全部账号" in html  # whom tiles count
    assert "统计对象: 政务账号" in html
    zj = client.get("/?province=浙江").text
    assert "概览 · 浙江" in zj
    en = client.get("/?province=Zhejiang&lang=en").text  # a province named in English
    assert "Overview · Zhejiang" in en and "Accounts with 1,000,000 followers or more" in en
    assert "counts: all accounts" in en and "By sector" in en
    assert client.cookies.get("govweibo_lang") == "en"  # ?lang= is remembered
    client.get("/", params={"lang": "zh"})
    over = client.get("/api/overview").json()
    assert over["accounts"] == 65 and over["government_accounts"] == 64
    assert over["over_1000000_followers"] == 1
    dist = client.get("/api/distribution", params={"by": "region"}).json()["items"]
    assert {d["group"]: d["accounts"] for d in dist}["west"] == 16
    dist = client.get("/api/distribution", params={"by": "kind", "province": "浙江"}).json()
    assert sum(d["accounts"] for d in dist["items"]) == 17
    growth = client.get("/api/growth").json()["items"]
    assert growth[-1]["cumulative"] == 64 and growth[0]["month"] == "2010-11"
    zj_growth = client.get("/api/growth", params={"province": "浙江"}).json()["items"]
    assert zj_growth[-1]["cumulative"] == 17


def test_rankings(client: TestClient) -> None:
    r = client.get("/api/rankings", params={"period": "2011", "limit": 5}).json()
    assert r["period"] == "2011" and r["previous_period"] == "2010" and r["total"] == 64
    ranks = [i["group_rank"] for i in r["items"]]
    assert ranks == sorted(ranks) and ranks[0] == 1 and len(ranks) == 5
    assert "communication" in r["columns"] and "group_rank_change" in r["columns"]
    page2 = client.get("/api/rankings", params={"period": "2011", "limit": 5, "offset": 5}).json()
    assert page2["items"][0]["group_rank"] >= ranks[-1]
    by_f = client.get("/api/rankings", params={"sort": "-followers", "limit": 3}).json()["items"]
    assert by_f[0]["account_id"] == "A"
    asc = client.get("/api/rankings", params={"sort": "followers", "limit": 3}).json()["items"]
    assert asc[0]["followers"] <= asc[1]["followers"]
    off = client.get("/api/rankings", params={"list": "officials", "limit": 500}).json()
    assert {i["kind"] for i in off["items"]} == {"official"} and off["total"] == 21
    zj = client.get("/api/rankings", params={"list": "province", "group": "浙江"}).json()
    assert {i["province"] for i in zj["items"]} == {"浙江"} and zj["items"][0]["group_rank"] == 1
    filt = client.get("/api/rankings", params={"region": "west"}).json()
    assert filt["total"] == 16
    html = client.get("/rankings", params={"list": "sector", "group": "courts"}).text
    assert "/accounts/weibo/" in html and "下载CSV" in html
    # The group box takes a name in either language: 公安, Public security, public_security.
    for name in ("公安", "Public security", "public_security"):
        got = client.get("/api/rankings", params={"list": "sector", "group": name}).json()
        assert got["group"] == "public_security" and got["total"] == 16, name
    page = client.get("/rankings", params={"list": "sector", "group": "公安"}).text
    assert "分行业: 公安" in page and 'value="公安"' in page
    assert client.get("/rankings", params={"sort": "-score"}).status_code == 200


def test_rankings_csv(client: TestClient) -> None:
    r = client.get("/rankings.csv", params={"period": "2011"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 64 and rows[0]["group_rank"] == "1" and rows[0]["period"] == "2011"
    names = {row["screen_name"] for row in rows}
    assert XSS_NAME in names  # CSV carries the data as is (it is not HTML)


def test_precomputed_index(tmp_path: Path) -> None:
    db = build_web_store(tmp_path / "idx.duckdb", index_table=True)
    with TestClient(create_app(str(db))) as c:
        meta = c.get("/api/rankings/meta").json()
        assert meta["periods"] == ["2011", "2010"]
        r = c.get("/api/rankings", params={"limit": 500}).json()
        assert r["period"] == "2011" and r["total"] == 64
        a = next(i for i in r["items"] if i["account_id"] == "A")
        assert a["previous_group_rank"] == 1 and a["group_rank_change"] == 1 - a["group_rank"]
        hist = c.get("/api/accounts/weibo/A/index").json()["items"]
        assert [h["period"] for h in hist] == ["2010", "2011"]
        assert "Index score" in c.get("/accounts/weibo/A?lang=en").text


def test_account(client: TestClient) -> None:
    a = client.get("/api/accounts/weibo/X").json()
    assert a["account"]["screen_name"] == XSS_NAME
    assert a["profile"]["sector"] == "health" and XSS_NAME in a["profile"]["evidence"]
    obs = client.get("/api/accounts/weibo/X/observations").json()
    assert obs["total"] == 3 and obs["items"][0]["followers"] <= obs["items"][-1]["followers"]
    posts = client.get("/api/accounts/weibo/X/posts", params={"limit": 1}).json()
    assert posts["total"] == 4 and len(posts["items"]) == 1
    html = client.get("/accounts/weibo/X").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "粉丝数" in html and "分类" in html and "卫生健康" in html
    en = client.get("/accounts/weibo/X", params={"lang": "en"}).text
    assert "Followers" in en and "Classification" in en and "government" in en
    client.get("/", params={"lang": "zh"})  # back to the default for the other tests
    lst = client.get("/api/accounts", params={"province": "云南", "q": "script"}).json()
    assert [i["account_id"] for i in lst["items"]] == ["X"]
    assert client.get("/api/accounts", params={"limit": 10}).json()["total"] == 65


def test_health(client: TestClient) -> None:
    html = client.get("/health").text
    assert "bad date" in html and "dump.jsonl" in html
    assert client.get("/api/runs").json()["items"][0]["status"] == "done"
    q = client.get("/api/quarantine", params={"source": "dump"}).json()
    assert q["total"] == 1 and q["items"][0]["raw"] == XSS_NAME
    assert client.get("/api/quarantine", params={"offset": 1}).json()["items"] == []
    assert client.get("/api/status").json()["counts"]["accounts"] == 65


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/api/rankings?limit=501", 422, "limit"),
        ("/api/rankings?limit=0", 422, "limit"),
        ("/api/rankings?offset=-1", 422, "offset"),
        ("/api/rankings?period=soon", 400, "bad period"),
        ("/api/rankings?period=0001", 400, "out of range"),
        ("/api/rankings?method=nope", 400, "unknown method"),
        ("/api/rankings?list=nope", 422, "list"),
        ("/api/rankings?sort=nope", 400, "cannot sort"),
        ("/api/rankings?sort=score;drop", 422, "sort"),
        ("/api/distribution?by=nope", 422, "by"),
        ("/api/accounts/weibo/nobody", 404, "no account"),
        ("/api/accounts/weibo/nobody/posts", 404, "no account"),
        ("/api/accounts?limit=100000", 422, "limit"),
        ("/rankings?period=soon", 400, "bad period"),
        ("/accounts/weibo/nobody", 404, "no account"),
        ("/rankings.csv?limit=0", 422, "limit"),
    ],
)
def test_bad_params(client: TestClient, path: str, status: int, text: str) -> None:
    r = client.get(path)
    assert r.status_code == status, r.text
    assert text in r.text
    if path.startswith("/api/"):
        assert text in r.json()["detail"]


def test_openapi(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert "/api/rankings" in doc["paths"] and "/api/quarantine" in doc["paths"]
    assert not any(p.startswith("/rankings") for p in doc["paths"])
    limit = next(p for p in doc["paths"]["/api/runs"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 500


def test_host_without_token_refused(db: Path) -> None:
    with pytest.raises(ConfigError, match="token"):
        create_app(str(db), host="0.0.0.0")
    create_app(str(db), host="0.0.0.0", token="s3cret")  # allowed with a token
    create_app(str(db), host="::1")


def test_token(db: Path) -> None:
    with TestClient(create_app(str(db), token="s3cret")) as c:
        for path in ("/", "/rankings", "/api/rankings", "/openapi.json", "/static/style.css"):
            r = c.get(path)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", path
        assert c.get("/api/overview", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = c.get("/api/overview", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        r = c.get("/rankings?token=s3cret&limit=5", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/rankings?limit=5"
        assert "httponly" in r.headers["set-cookie"].lower()
        assert c.get("/rankings?limit=5").status_code == 200  # the cookie now authenticates
        assert c.get("/api/overview").status_code == 200


def test_store_opened_read_only(client: TestClient) -> None:
    data = client.app.state.data  # type: ignore[attr-defined]
    assert data.store.read_only
    with pytest.raises(Exception, match="read-only"):
        data.view().con.execute("CREATE TABLE t (x INT)")


def test_store_without_registry(tmp_path: Path) -> None:
    """No account_profiles yet: pages still work over all accounts, with a notice."""
    with Store(tmp_path / "bare.duckdb") as s:
        s.con.execute(
            "INSERT INTO accounts (platform, account_id, screen_name, created_at) VALUES "
            "('weibo', 'a1', ?, ?)",
            [XSS_NAME, _ts("2011-02-01 00:00")],
        )
        s.con.execute(
            "INSERT INTO posts (platform, post_id, author_id, created_at, text) VALUES "
            "('weibo', 'p1', 'a1', ?, ?)",
            [_ts("2011-03-01 00:00"), XSS_TEXT],
        )
    with TestClient(create_app(str(tmp_path / "bare.duckdb"))) as c:
        html = c.get("/").text
        assert "尚未识别政务账号" in html
        assert c.get("/api/growth").json()["items"][-1]["cumulative"] == 1
        r = c.get("/api/rankings").json()
        assert r["period"] == "2011" and r["items"][0]["account_id"] == "a1"
        assert c.get("/api/distribution").json()["items"] == []
        assert c.get("/api/accounts", params={"province": "浙江"}).json()["total"] == 0
        page = c.get("/rankings").text
        assert XSS_NAME not in page and "&lt;script&gt;" in page


def test_missing_store_and_serve_refusal(tmp_path: Path) -> None:
    from govweibo.errors import StoreError
    from govweibo.web import serve

    with pytest.raises(StoreError):
        create_app(str(tmp_path / "nope.duckdb"))
    with pytest.raises(ConfigError):
        serve(str(tmp_path / "nope.duckdb"), host="192.168.1.5", port=1)


def test_period_that_cannot_be_computed_says_how(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not precomputed and not computable here: the page says so and names the command."""
    from govweibo.errors import AnalysisError
    from govweibo.web import queries

    def refuse(*_a: object, **_k: object) -> None:
        raise AnalysisError("the engine cannot read this store")

    monkeypatch.setattr(queries, "compute_index", refuse)
    with TestClient(create_app(str(db))) as c:
        r = c.get("/api/rankings", params={"period": "2011Q2"}).json()
        assert r["total"] == 0 and r["notice"][0] == "not_precomputed"
        page = c.get("/rankings", params={"period": "2011Q2", "lang": "en"}).text
        assert "Period 2011Q2 is not precomputed" in page
        assert "govweibo index --period 2011Q2" in page
        assert "尚未预先计算" in c.get("/rankings", params={"period": "2011Q2", "lang": "zh"}).text


def test_evidence_in_words() -> None:
    from govweibo.web.pages import Words, _evidence_line

    zh, en = Words("zh"), Words("en")
    assert _evidence_line("rule=verified_type_gov", zh) == "判定规则：认证为政府"
    assert _evidence_line("sector=public_security <- 公安", zh) == "行业：公安 (公安)"
    assert (
        _evidence_line("province=云南 <- name 云南省", en)
        == "Province: Yunnan (from the name 云南省)"
    )
    assert _evidence_line("province=北京 <- province_code 11", zh) == "省份：北京 (据省份代码 11)"
    assert _evidence_line("verified_type=3", en) == "Verification type: media"
    assert _evidence_line("rule=a_rule_of_mine", en) == "Rule: a rule of mine"
    assert _evidence_line("<script>", en) == "<script>"  # not key=value: as it is (escaped)
