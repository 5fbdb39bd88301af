"""Shipped model files (data only; see README.md)."""
