"""Mastodon collector: the same loop as Weibo's, on one instance's REST API.

Per watched account (acct such as 'user' or 'user@host', or a numeric id) and run:
`accounts/lookup` (profile -> account observation), a snapshot of the recent statuses
(`accounts/:id/statuses`, timeline observation), new statuses since the cursor (paged
with max_id), and `statuses/:id/context` for posts with more replies than the store
holds. Per watched keyword: the public hashtag timeline (`timelines/tag/:hashtag`),
since_id/max_id paging like an account's statuses. With --mentions: the token owner's
notifications of type mention. Stored platform: 'mastodon:<instance host>' (ids are
local to the instance).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from govweibo.collect.base import CollectError
from govweibo.collect.weibo import WeiboCollector, _id, _items, held_counts

# Mastodon serves at most 40 statuses per page (docs.joinmastodon.org/methods/accounts,
# /methods/timelines): asking for more and getting 40 must not look like a last page.
MAX_LIMIT = 40


@dataclass
class MastodonCollector(WeiboCollector):
    platform = "mastodon"
    fmt = "mastodon"
    count_param = "limit"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.count = min(self.count, MAX_LIMIT)

    @property
    def stored_platform(self) -> str:
        host = urlsplit(self.client.base_url).hostname
        return f"mastodon:{host}" if host else "mastodon"

    def collect_account(self, value: str) -> None:
        if value.isdigit():
            profile = self.client.get(f"accounts/{value}", {})
        else:
            profile = self.client.get("accounts/lookup", {"acct": value})
        self._tick(value, "accounts/lookup", self._store(value, "accounts/lookup", [profile]))
        aid = _id(profile.body) if isinstance(profile.body, dict) else None
        if aid is None:
            self.summary.errors.append(f"{value}: accounts/lookup gave no id; statuses skipped")
            return
        self.summary.accounts += 1
        endpoint = f"accounts/{aid}/statuses"
        snapshot = [self.client.get(endpoint, {"limit": self.count})]
        self._tick(value, endpoint, self._store(value, endpoint, snapshot, timeline=True))
        posts = _items(snapshot[0].body)
        seen = [i for i in map(_id, posts) if i]
        start = str(min(map(int, seen)) - 1) if seen else None
        exhausted = snapshot[0].body is not None and len(posts) < self.count
        posts += self._paged(
            value,
            endpoint,
            "accounts/statuses",
            {},
            start_max=start,
            seen=seen,
            exhausted=exhausted,
        )
        self._contexts(value, posts)

    def _contexts(self, account: str, posts: list[dict[str, Any]]) -> None:
        held = held_counts(self.store, self.stored_platform, [p for p in map(_id, posts) if p])
        for post in posts:
            pid = _id(post)
            if pid and int(post.get("replies_count") or 0) > held.get(pid, (0, 0))[0]:
                endpoint = f"statuses/{pid}/context"
                page = self.client.get(endpoint, {})
                self._tick(account, endpoint, self._store(account, endpoint, [page]))

    def collect_keyword(self, keyword: str) -> None:
        """Public statuses with the hashtag, newest first, down to what the last run saw."""
        tag = keyword.strip().strip("#")
        if not tag:
            return
        endpoint = f"timelines/tag/{quote(tag, safe='')}"
        self._paged(f"#{tag}", endpoint, "timelines/tag", {})
        self.summary.keywords += 1

    def collect_mentions(self) -> None:
        """Statuses mentioning the token's owner: its notifications of type mention."""
        if not self.client.has_token:
            raise CollectError("mastodon --mentions reads notifications: it needs a token")
        self._paged("@me", "notifications", "notifications", {"types[]": "mention"})
