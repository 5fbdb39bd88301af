"""What every collector shares: tokens, one HTTP page fetch, rate limits and back-off.

The token travels in the Authorization header, never in a URL, so URLs can be logged.
"""

from __future__ import annotations

import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from govweibo.errors import ConfigError, GovweiboError

TOKEN_ENV = {"weibo": "GOVWEIBO_WEIBO_TOKEN", "mastodon": "GOVWEIBO_MASTODON_TOKEN"}
# Sina error codes: expired / invalid / revoked token, and rate limits.
SINA_TOKEN_ERRORS = {21314, 21315, 21316, 21317, 21327, 21332}
SINA_RATE_ERRORS = {10022, 10023, 10024}
# The app lacks the endpoint (10005 "need a high level appkey", 10014 "Insufficient app
# permissions"), or the user refused the scope (10032): a property of the app, not of
# the token (open.weibo.com/wiki/Error_code and /wiki/Scope).
SINA_PERMISSION_ERRORS = {10005, 10014, 10032}
MAX_WAIT_S = 3600.0

Sleep = Callable[[float], None]
Clock = Callable[[], datetime]


class CollectError(GovweiboError):
    """A collector cannot go on (bad token, endpoint failing after retries)."""


class TokenError(CollectError):
    """The access token was refused (expired, invalid, revoked): the run stops."""


class PermissionDenied(CollectError):
    """The app may not call this endpoint (Sina's advanced interfaces): that watch stops."""


# Platforms whose public endpoints answer without a token (Mastodon: account lookup,
# account statuses, status context, hashtag timelines, unless the instance disabled
# public previews). Weibo needs one for every call.
ANONYMOUS_OK = {"mastodon"}


def load_token(platform: str, token_file: Path | None = None) -> str:
    """The OAuth2 access token from a file, or else from GOVWEIBO_<PLATFORM>_TOKEN.

    '' (anonymous) when neither is set and the platform allows it."""
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read token file {token_file}: {exc.strerror}") from None
    else:
        token = os.environ.get(TOKEN_ENV.get(platform, ""), "").strip()
    if not token and token_file is None and platform in ANONYMOUS_OK:
        return ""
    if not token:
        env = TOKEN_ENV.get(platform, "?")
        raise ConfigError(f"no {platform} access token: set {env} or pass --token-file")
    return token


@dataclass
class RateLimit:
    remaining: int | None = None
    reset_at: datetime | None = None


@dataclass
class Page:
    """One fetched page: the parsed body (None if malformed), its raw text, status."""

    url: str
    status: int
    body: Any
    raw: str
    fetched_at: datetime
    rate: RateLimit = field(default_factory=RateLimit)
    elapsed_ms: int = 0


def parse_reset(value: str | None, now: datetime) -> datetime | None:
    """X-RateLimit-Reset as seconds-from-now, epoch seconds, or an ISO time (Mastodon)."""
    if not value:
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    if number > 1e9:
        return datetime.fromtimestamp(number, UTC)
    return datetime.fromtimestamp(now.timestamp() + number, UTC)


def _rate(headers: Any, now: datetime) -> RateLimit:
    remaining = headers.get("X-RateLimit-Remaining") if headers else None
    try:
        left = int(remaining) if remaining is not None else None
    except ValueError:
        left = None
    return RateLimit(left, parse_reset(headers.get("X-RateLimit-Reset") if headers else None, now))


class HttpClient:
    """GET pages with a timeout, honouring rate limits; bounded retries with jitter."""

    def __init__(
        self,
        *,
        platform: str,
        base_url: str,
        token: str,
        sleep: Sleep = time.sleep,
        now: Clock | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff_s: float = 2.0,
        log: Callable[[Page | None, str, str, int, str], None] | None = None,
    ) -> None:
        self.platform = platform
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        scheme = "OAuth2" if platform == "weibo" else "Bearer"
        self._auth = f"{scheme} {token}" if token else None  # None: anonymous requests
        self.sleep = sleep
        self.now = now or (lambda: datetime.now(UTC))
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.log = log
        self.rate = RateLimit()
        self.requests = 0

    @property
    def has_token(self) -> bool:
        return self._auth is not None

    def url(self, endpoint: str, params: dict[str, Any]) -> str:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return urllib.parse.urljoin(self.base_url, endpoint) + (f"?{query}" if query else "")

    def _wait_for_rate(self) -> None:
        if self.rate.remaining is not None and self.rate.remaining <= 0 and self.rate.reset_at:
            wait = (self.rate.reset_at - self.now()).total_seconds()
            if wait > 0:
                self.sleep(min(wait, MAX_WAIT_S))
            self.rate = RateLimit()

    def _backoff(self, attempt: int, reset_at: datetime | None) -> float:
        if reset_at is not None:
            wait = (reset_at - self.now()).total_seconds()
            if wait > 0:
                return min(wait, MAX_WAIT_S) + random.uniform(0, 1)
        return min(self.backoff_s * 2**attempt, MAX_WAIT_S) * random.uniform(0.5, 1.5)

    def get(self, endpoint: str, params: dict[str, Any]) -> Page:
        """One page; 429/5xx are retried, a bad token raises CollectError."""
        url = self.url(endpoint, params)
        for attempt in range(self.max_retries + 1):
            self._wait_for_rate()
            page = self._request(url)
            self.rate = page.rate
            problem = self._problem(page)
            self._log(page, endpoint, url, problem)
            if problem is None:
                return page
            if problem == "permission":
                raise PermissionDenied(
                    f"{self.platform} {endpoint}: the app has no permission for this endpoint "
                    f"(HTTP {page.status}{_sina_code(page.body)})"
                )
            if problem == "token" and not self._auth:
                raise TokenError(
                    f"{self.platform} {endpoint}: HTTP {page.status} without a token (the "
                    "instance does not serve this publicly); set "
                    f"{TOKEN_ENV.get(self.platform, 'the token')} or pass --token-file"
                )
            if problem == "token":
                raise TokenError(
                    f"{self.platform} {endpoint}: the access token was refused "
                    f"(HTTP {page.status}{_sina_code(page.body)}); renew it and set "
                    f"{TOKEN_ENV.get(self.platform, 'the token')}"
                )
            if problem != "retry" or attempt == self.max_retries:
                raise CollectError(
                    f"{self.platform} {endpoint}: HTTP {page.status}{_sina_code(page.body)} "
                    f"after {attempt + 1} attempt(s)"
                )
            self.sleep(self._backoff(attempt, page.rate.reset_at if page.status == 429 else None))
            self.rate = RateLimit()  # the back-off above already waited for the reset
        raise AssertionError("unreachable")

    def _headers(self) -> dict[str, str]:
        sent = {"Accept": "application/json"}
        if self._auth:
            sent["Authorization"] = self._auth
        return sent

    def _open(self, req: urllib.request.Request) -> Any:
        return urllib.request.urlopen(req, timeout=self.timeout)  # noqa: S310

    def _request(self, url: str) -> Page:
        req = urllib.request.Request(url, headers=self._headers())
        started = time.monotonic()
        fetched_at = self.now()
        self.requests += 1
        try:
            with self._open(req) as resp:
                status, headers, data = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            status, headers, data = exc.code, exc.headers, exc.read()
        except OSError as exc:  # URLError, timeouts, refused or reset connections, TLS
            reason = getattr(exc, "reason", exc)
            status, headers, data = 0, None, f"network error: {reason}".encode()
        raw = data.decode("utf-8", errors="replace")
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            body = None
        if 300 <= status < 400 and headers is not None:
            # Seen only where redirects are not followed (the web client's login walls).
            raw = f"redirect to {headers.get('Location', '?')}"
        elapsed = int((time.monotonic() - started) * 1000)
        return Page(url, status, body, raw, fetched_at, _rate(headers, fetched_at), elapsed)

    def _problem(self, page: Page) -> str | None:
        code = _int(page.body.get("error_code")) if isinstance(page.body, dict) else None
        if code in SINA_PERMISSION_ERRORS:
            return "permission"
        if page.status in (401, 403) or code in SINA_TOKEN_ERRORS:
            return "token"
        if page.status == 429 or code in SINA_RATE_ERRORS:
            return "retry"
        if page.status == 0 or page.status >= 500:
            return "retry"
        if page.status >= 400:
            return "client"
        return None

    def _log(self, page: Page, endpoint: str, url: str, problem: str | None) -> None:
        if self.log is not None:
            self.log(page, endpoint, url, page.elapsed_ms, problem or "ok")


def _int(value: Any) -> int | None:
    # Sina sends error_code as a number, some proxies and old docs as a string.
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _sina_code(body: Any) -> str:
    if isinstance(body, dict) and body.get("error_code"):
        return f", error {body['error_code']}: {body.get('error', '')}"
    return ""
