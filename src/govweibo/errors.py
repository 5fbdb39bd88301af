"""One error root, so every face can turn any failure into one readable line."""

from __future__ import annotations


class GovweiboError(Exception):
    """Root of every error govweibo raises on purpose."""


class ConfigError(GovweiboError):
    """A setting, flag or config file is invalid."""


class StoreError(GovweiboError):
    """The store cannot be opened, migrated or queried as asked."""


class IngestError(GovweiboError):
    """A source cannot be read at all (a bad record is quarantined instead)."""


class FormatDetectionError(IngestError):
    """No reader recognises a source and none was forced."""


class AnalysisError(GovweiboError):
    """An analysis was asked for with parameters it cannot honour."""


class NotFoundError(GovweiboError):
    """A named account, post, event or file does not exist."""
