"""govweibo: an observatory for government microblog accounts."""

from __future__ import annotations

__version__ = "0.1.0"
