"""m.weibo.cn JSON as browsers and crawlers save it: one response body per file, or JSON
lines of response bodies.

Endpoints (the shape of `data` decides, not the file name):
  api/container/getIndex    timelines and searches: `data.cards[]`, card_type 9 holds an
                            `mblog`, 11 a `card_group` of cards, 10 a `user` (fan lists);
                            the profile page: `data.userInfo`
  statuses/show             `data` is the mblog
  comments/hotflow          `data.data[]` comments (+ `max_id`); replies under `comments`
  api/statuses/repostTimeline  `data.data[]` reposts
  statuses/extend           `data.longTextContent`: the whole text of a long post
A line holding a bare mblog, or `{"mblog": ...}`, is read as a status too. Empty pages
(`{"ok":0,"msg":"这里还没有内容"}`) count as empty. Comments and long texts name no post:
the post is the comment's `status` where present, else the id in the file name
(`hotflow-<id>-p1.json`, `extend-<id>.json`). Text is HTML here (weibo_html.html_to_text);
times may be relative (`6小时前`), resolved against the crawl time (see weibo_html).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from govweibo.ingest.base import ReadOptions, Source
from govweibo.ingest.weibo_html import (
    FieldError,
    id_of,
    numeric_post_id,
)
from govweibo.ingest.weibo_responses import (
    LONGTEXT,
    STATUS,
    USER,
    Unit,
    id_from_name,
    is_empty_response,
    item_units,
    json_name,
    read_responses,
)
from govweibo.model import Batch

_MARKERS = ('"cardlistInfo"', '"card_type"', '"userInfo"', '"max_id_type"', '"bid"')
_NAMES = ("getindex", "hotflow", "extend", "container", "repostTimeline".lower())


class WeiboMobileReader:
    name = "weibo-mobile"
    description = (
        "m.weibo.cn JSON responses (getIndex cards and profiles, statuses/show, "
        "comments/hotflow, repostTimeline, statuses/extend; one per file or JSON lines)"
    )

    def detect(self, path: Path, head: bytes) -> bool:
        if not json_name(path):
            return False
        text = head.decode("utf-8", errors="ignore")
        if '"ok"' not in text:
            return False
        if any(m in text for m in _MARKERS):
            return True
        if path.name.lower().startswith(_NAMES):
            return True
        # statuses/extend (weibo.com's longtext carries "http_code"); an empty page.
        if '"longTextContent"' in text and '"http_code"' not in text:
            return True
        return '"msg"' in text and len(head) < 1024

    def files(self, path: Path) -> list[Path]:
        return [path]

    def read(self, source: Source, opts: ReadOptions) -> Iterator[Batch]:
        named = id_from_name(source.path)
        yield from read_responses(source, opts, lambda doc, ctx: mobile_units(doc, named))


def mobile_units(doc: Any, named: str | None) -> list[Unit]:
    """The records of one m.weibo.cn response (see the module docstring)."""
    if isinstance(doc, list):
        return [u for part in doc for u in mobile_units(part, named)]
    if not isinstance(doc, dict):
        raise FieldError("data", "not a response object")
    if "mblog" in doc and isinstance(doc["mblog"], dict):
        return [(STATUS, doc["mblog"], {})]
    if "created_at" in doc and "text" in doc and "id" in doc:
        return [(STATUS, doc, {})]
    if is_empty_response(doc):
        return []
    data = doc.get("data")
    if isinstance(data, list):
        return item_units(data, named)
    if not isinstance(data, dict):
        raise FieldError("data", "missing: not an m.weibo.cn response")
    out: list[Unit] = []
    if isinstance(data.get("userInfo"), dict):
        out.append((USER, data["userInfo"], {"label": "userInfo"}))
    if isinstance(data.get("cards"), list):
        out.extend(card_units(data["cards"]))
    if isinstance(data.get("data"), list):
        out.extend(item_units(data["data"], named))
    if isinstance(data.get("list"), list):  # weibo.com's mymblog read with this format
        out.extend((STATUS, s, {}) for s in data["list"])
    if "longTextContent" in data:
        pid = id_of(data, "idstr", "id", "mid")
        post_id = numeric_post_id(pid) if pid else named
        out.append((LONGTEXT, data.get("longTextContent"), {"post_id": post_id}))
    elif "created_at" in data and ("text" in data or "text_raw" in data):
        out.append((STATUS, data, {}))
    if not out and not _known_empty(data):
        raise FieldError("data", "not an m.weibo.cn or weibo.com response this reader knows")
    return out


def _known_empty(data: dict[str, Any]) -> bool:
    # A page with nothing on it: no cards, an empty comment list, a profile tab list.
    return any(k in data for k in ("cards", "data", "cardlistInfo", "tabsInfo", "max_id"))


def card_units(cards: list[Any]) -> list[Unit]:
    out: list[Unit] = []
    for card in cards:
        if not isinstance(card, dict):
            continue
        if isinstance(card.get("mblog"), dict):
            out.append((STATUS, card["mblog"], {}))
        elif isinstance(card.get("card_group"), list):
            out.extend(card_units(card["card_group"]))
        elif isinstance(card.get("user"), dict) and str(card.get("card_type")) == "10":
            out.append((USER, card["user"], {"label": "user"}))
        # Other cards (banners, topic headers, ads without an mblog) hold no records.
    return out
