"""The web app factory: read-only store, optional token, HTML pages and a JSON API."""

from __future__ import annotations

import hmac
import ipaddress
from importlib import resources
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govweibo.errors import ConfigError, GovweiboError, NotFoundError
from govweibo.store import Store
from govweibo.web import alerts, api, pages
from govweibo.web.queries import Data

COOKIE = "govweibo_token"
SECURITY_HEADERS = {
    # No scripts at all; inline styles only for the SVG charts' <style> elements.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/openapi.json" or path.endswith(".csv")


def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return pages.error_page(request, status, message)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path"))
        parts.append(f"{where or 'request'}: {err.get('msg', 'invalid value')}")
    return "; ".join(parts) or "invalid request"


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(GovweiboError)
    async def govweibo_error(request: Request, exc: GovweiboError) -> Response:
        return _error(request, 404 if isinstance(exc, NotFoundError) else 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return _error(request, 422, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        resp = _error(request, exc.status_code, str(exc.detail))
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:  # pragma: no cover
        return _error(request, 500, f"internal error ({type(exc).__name__})")


class Guard:
    """ASGI middleware: the token check (when set) and security headers on every response."""

    def __init__(self, app: ASGIApp, token: str = ""):
        self.app, self.token = app, token
        probe = Response()
        probe.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
        self.cookie = probe.headers["set-cookie"]

    def _valid(self, given: str) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        set_cookie = False
        if self.token:
            request = Request(scope)
            header = request.headers.get("authorization", "")
            given = header[7:] if header.lower().startswith("bearer ") else ""
            if not (self._valid(given) or self._valid(request.cookies.get(COOKIE, ""))):
                if not self._valid(request.query_params.get("token", "")):
                    resp = _error(request, 401, "a valid access token is required")
                    resp.headers["WWW-Authenticate"] = "Bearer"
                    await _secure(resp)(scope, receive, send)
                    return
                set_cookie = True
                if request.method == "GET" and not _wants_json(request):
                    # Drop the token from the address bar: it would leak into history and logs.
                    rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                    url = request.url.path + (f"?{urlencode(rest)}" if rest else "")
                    resp = _secure(RedirectResponse(url, status_code=303))
                    resp.headers.append("set-cookie", self.cookie)
                    await resp(scope, receive, send)
                    return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in SECURITY_HEADERS.items():
                    headers.setdefault(k, v)
                if set_cookie:
                    headers.append("set-cookie", self.cookie)
            await send(message)

        await self.app(scope, receive, send_secure)


def _secure(resp: Response) -> Response:
    for k, v in SECURITY_HEADERS.items():
        resp.headers.setdefault(k, v)
    return resp


class StoreSession:
    """ASGI middleware: tells the app's Data when requests begin and end, so that the store
    file is closed between requests when a writer waits for it (queries.Data)."""

    def __init__(self, app: ASGIApp, data: Data):
        self.app, self.data = app, data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.data.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.data.leave()


def create_app(
    db_path: str, *, token: str = "", host: str = "127.0.0.1", lock_wait: float = 60.0
) -> FastAPI:
    """The dashboard and API over the store at `db_path`, opened read-only.

    Binding beyond loopback (`host`) without a `token` raises ConfigError; with a token every
    request needs `Authorization: Bearer <token>`, the cookie, or `?token=` (sets the cookie).
    While another process writes the store, a request waits up to `lock_wait` seconds for it.
    """
    if not token and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host} without an access token: set --token or "
            "GOVWEIBO_TOKEN, or bind to 127.0.0.1"
        )
    # Not closed on lifespan shutdown: test clients run the lifespan once per `with` block
    # on the same app. The read-only connection ends with the process (or Data.close()).
    store = Store(db_path, read_only=True, lock_wait=lock_wait)
    app = FastAPI(
        title="govweibo",
        description="Read-only API over a govweibo store: overview, rankings, accounts, health.",
        version="0.1.0",
        docs_url=None,  # Swagger UI loads from a CDN; the schema is at /openapi.json
        redoc_url=None,
    )
    app.state.data = data = Data(store)
    app.state.token = token
    static = resources.files("govweibo.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(alerts.router)
    _install_handlers(app)
    app.add_middleware(StoreSession, data=data)
    app.add_middleware(Guard, token=token)
    return app


__all__ = ["create_app", "is_loopback"]
