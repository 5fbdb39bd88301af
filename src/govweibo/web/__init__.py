"""Web dashboard and JSON API (FastAPI); see docs/web.md."""

from __future__ import annotations

from govweibo.web.app import create_app
from govweibo.web.serve import serve

__all__ = ["create_app", "serve"]
