"""Shipped rule files (TOML data, no code)."""
