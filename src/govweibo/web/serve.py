"""Run the dashboard with uvicorn."""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI

from govweibo.web.app import create_app, is_loopback

logger = logging.getLogger(__name__)
_DB, _HOST, _WAIT = "GOVWEIBO_WEB_DB", "GOVWEIBO_WEB_HOST", "GOVWEIBO_WEB_LOCK_WAIT"


def _factory() -> FastAPI:
    """App for each uvicorn worker process (workers > 1); settings come from the parent."""
    return create_app(
        os.environ[_DB],
        token=os.environ.get("GOVWEIBO_TOKEN", ""),
        host=os.environ[_HOST],
        lock_wait=float(os.environ.get(_WAIT, "60")),
    )


def serve(
    db: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str = "",
    *,
    workers: int = 1,
    lock_wait: float = 60.0,
) -> None:
    """Serve the store at `db` read-only until interrupted.

    Raises ConfigError (before binding) when `host` is not loopback and `token` is empty.
    `workers` > 1 runs that many processes (each opens the store read-only, with its own cache).
    """
    import uvicorn

    # Validates settings and the store first.
    app = create_app(db, token=token, host=host, lock_wait=lock_wait)
    where = f"http://{host}:{port}/" if is_loopback(host) else f"http://{host}:{port}/?token=…"
    logger.info("govweibo dashboard on %s (Ctrl+C to stop)", where)
    opts = {"host": host, "port": port, "log_level": "warning", "access_log": False}
    if workers <= 1:
        uvicorn.run(app, **opts)  # type: ignore[arg-type]
        return
    app.state.data.close()
    os.environ.update({_DB: db, _HOST: host, _WAIT: str(lock_wait), "GOVWEIBO_TOKEN": token})
    uvicorn.run("govweibo.web.serve:_factory", factory=True, workers=workers, **opts)  # type: ignore[arg-type]
