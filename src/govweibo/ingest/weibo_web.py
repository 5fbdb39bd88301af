"""weibo.com ajax JSON: one response body per file, or JSON lines of response bodies.

Endpoints (the shape decides, not the file name):
  ajax/statuses/mymblog        `data.list[]` statuses of one account
  ajax/statuses/show           the status itself at the top level
  ajax/statuses/longtext       `data.longTextContent`: the whole text of a long post
  ajax/statuses/buildComments  `data[]` comments (+ `max_id`); replies under `comments`
  ajax/statuses/repostTimeline `data[]` reposts
  ajax/profile/info            `data.user`
  ajax/friendships/friends     `users[]` (fan and follow lists)
`text_raw` is kept as the text; only where a status has no `text_raw` is its HTML
converted (weibo_html.html_to_text). A status with `isLongText` shows its text cut short:
its whole text is taken from `longText` where the response carries it, else from a
longtext response saved beside the file (`longtext-<id or mblogid>.json`), else the post is
stored with `is_truncated`. A longtext response read alone names no post: its post is the
id in the file name. Comments name their post by `status` where present, else by the id in
the file name (`buildComments-<id>-p1.json`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from govweibo.ingest.base import ReadOptions, Source
from govweibo.ingest.weibo_html import (
    FieldError,
)
from govweibo.ingest.weibo_mobile import mobile_units
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

# Not "like_counts": Sina open-API comments have it too.
_MARKERS = (
    '"text_raw"',
    '"mblogid"',
    '"http_code"',
    '"followers_count_str"',
    '"pc_new"',
)
_NAMES = ("mymblog", "longtext", "buildcomments", "profile", "info-", "friends")
# m.weibo.cn's own fields: a file with these is not weibo.com's, whatever its name.
_MOBILE = ('"bid"', '"cards"', '"userInfo"', '"max_id_type"')


class WeiboWebReader:
    name = "weibo-web"
    description = (
        "weibo.com ajax JSON responses (statuses/mymblog, show, longtext, buildComments, "
        "repostTimeline, profile/info; one per file or JSON lines)"
    )

    def detect(self, path: Path, head: bytes) -> bool:
        if not json_name(path):
            return False
        text = head.decode("utf-8", errors="ignore")
        if any(m in text for m in _MARKERS):
            return True
        if any(m in text for m in _MOBILE):
            return False
        return path.name.lower().startswith(_NAMES) and '"ok"' in text

    def files(self, path: Path) -> list[Path]:
        return [path]

    def read(self, source: Source, opts: ReadOptions) -> Iterator[Batch]:
        named = id_from_name(source.path)
        yield from read_responses(source, opts, lambda doc, ctx: web_units(doc, named))


def web_units(doc: Any, named: str | None) -> list[Unit]:
    """The records of one weibo.com response (see the module docstring)."""
    if isinstance(doc, list):
        return [u for part in doc for u in web_units(part, named)]
    if not isinstance(doc, dict):
        raise FieldError("data", "not a response object")
    if "created_at" in doc and ("text_raw" in doc or "text" in doc) and "id" in doc:
        return [(STATUS, doc, {})]  # ajax/statuses/show
    if isinstance(doc.get("users"), list):
        return [(USER, u, {"label": f"users[{i}]"}) for i, u in enumerate(doc["users"])]
    if is_empty_response(doc):
        return []
    data = doc.get("data")
    if isinstance(data, list):
        return item_units(data, named)
    if not isinstance(data, dict):
        raise FieldError("data", "missing: not a weibo.com ajax response")
    if "created_at" in data and ("text_raw" in data or "text" in data):
        return [(STATUS, data, {})]  # a status wrapped as {"ok":1,"data":{...}}
    if isinstance(data.get("list"), list):
        return [(STATUS, s, {}) for s in data["list"]]
    if isinstance(data.get("statuses"), list):
        return [(STATUS, s, {}) for s in data["statuses"]]
    if isinstance(data.get("user"), dict):
        return [(USER, data["user"], {"label": "data.user"})]
    if "longTextContent" in data:
        return [(LONGTEXT, data.get("longTextContent"), {"post_id": named})]
    if isinstance(data.get("data"), list):  # some endpoints nest the list once more
        return item_units(data["data"], named)
    if not data:
        return []
    # An m.weibo.cn response read with this format (--format weibo-web, or detected by a
    # field both sites write): its own shapes.
    return mobile_units(doc, named)
